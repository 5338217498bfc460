//! ZipMap: each row of scores becomes a map from the class labels to the scores (a
//! sequence of maps, one per row).

use ort_core::abi::{RBox, RVec};
use ort_core::{ElemType, Error, Tensor, Value};

use super::tree_ensemble_classifier::Labels;
use crate::kernel::{input, Ctx, Kernel, Outputs};
use crate::ops::LATEST;

struct ZipMap {
    labels: Labels,
}

impl Kernel for ZipMap {
    fn compute(&self, inputs: &[Option<&Value>], _ctx: &Ctx<'_>) -> Outputs {
        let x = input(inputs, 0)?;
        let k = self.labels.len();
        let cols = match x.shape() {
            [c] | [_, c] => *c as usize,
            _ => return Err(Error::invalid("ZipMap input must have rank 1 or 2")),
        };
        if cols != k {
            return Err(Error::invalid(format!(
                "ZipMap has {k} labels but the input has {cols} columns"
            )));
        }
        let all: Vec<usize> = (0..k).collect();
        let keys = self.labels.pick(&all)?;
        let v = x.as_slice::<f32>()?;
        let items: RVec<Value> = v
            .chunks(k.max(1))
            .map(|row| Value::Map {
                keys: keys.clone(),
                values: RBox::new(Value::Sequence {
                    elem: ElemType::F32,
                    items: row
                        .iter()
                        .map(|&s| Value::Tensor(Tensor::scalar(s)))
                        .collect(),
                }),
            })
            .collect();
        Ok(vec![Some(Value::Sequence {
            elem: ElemType::F32,
            items,
        })])
    }
}

crate::register!(
    "ZipMap",
    "ai.onnx.ml",
    [1, LATEST],
    &[ElemType::F32],
    0,
    |n| Ok(Box::new(ZipMap {
        labels: Labels::from_attrs_named(n, "classlabels_int64s", "classlabels_strings")?,
    }))
);
