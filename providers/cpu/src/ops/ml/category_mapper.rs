//! CategoryMapper: strings to integers or integers to strings through two parallel
//! lists, with a default for anything not listed.

use std::collections::HashMap;

use ort_core::abi::RString;
use ort_core::{ElemType, Error, Tensor, Value};

use crate::kernel::{input, one, Ctx, Kernel, Outputs};
use crate::ops::LATEST;

struct CategoryMapper {
    to_int: HashMap<String, i64>,
    to_str: HashMap<i64, String>,
    default_int: i64,
    default_str: String,
}

impl Kernel for CategoryMapper {
    fn compute(&self, inputs: &[Option<&Value>], _ctx: &Ctx<'_>) -> Outputs {
        let x = input(inputs, 0)?;
        let t = match x.elem() {
            ElemType::String => Tensor::from_vec(
                x.shape(),
                x.as_slice::<RString>()?
                    .iter()
                    .map(|s| *self.to_int.get(s.as_str()).unwrap_or(&self.default_int))
                    .collect::<Vec<i64>>(),
            )?,
            ElemType::I64 => Tensor::from_vec(
                x.shape(),
                x.as_slice::<i64>()?
                    .iter()
                    .map(|i| {
                        RString::from(self.to_str.get(i).unwrap_or(&self.default_str).as_str())
                    })
                    .collect::<Vec<_>>(),
            )?,
            e => {
                return Err(Error::invalid(format!(
                    "CategoryMapper does not take {e} input"
                )))
            }
        };
        one(t)
    }
}

crate::register!(
    "CategoryMapper",
    "ai.onnx.ml",
    [1, LATEST],
    &[ElemType::String, ElemType::I64],
    0,
    |n| {
        let strs = n.strings("cats_strings")?.unwrap_or_default();
        let ints = n.ints("cats_int64s")?.unwrap_or_default();
        if strs.len() != ints.len() {
            return Err(Error::invalid(format!(
                "cats_strings has {} entries but cats_int64s {}",
                strs.len(),
                ints.len()
            )));
        }
        Ok(Box::new(CategoryMapper {
            // An entry listed twice keeps its first mapping.
            to_int: strs
                .iter()
                .cloned()
                .zip(ints.iter().copied())
                .rev()
                .collect(),
            to_str: ints.into_iter().zip(strs).rev().collect(),
            default_int: n.int("default_int64", -1)?,
            default_str: n.string("default_string", "_Unused")?,
        }))
    }
);
