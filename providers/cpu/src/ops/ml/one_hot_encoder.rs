//! OneHotEncoder: each element becomes a one-hot row over the categories (a new last
//! axis); numbers are truncated to integers first. An unknown category is an all-zero
//! row, or an error when `zeros` is 0.

use std::collections::HashMap;

use ort_core::abi::RString;
use ort_core::{ElemType, Error, Value};

use crate::kernel::{input, one, Ctx, Kernel, Outputs};
use crate::ops::LATEST;

struct OneHotEncoder {
    ints: HashMap<i64, usize>,
    strs: HashMap<String, usize>,
    n: usize,
    zeros: bool,
}

impl OneHotEncoder {
    fn encode(
        &self,
        hits: impl Iterator<Item = Option<usize>>,
        len: usize,
    ) -> Result<Vec<f32>, Error> {
        let mut out = vec![0f32; len * self.n];
        for (i, h) in hits.enumerate() {
            match h {
                Some(c) => out[i * self.n + c] = 1.0,
                None if !self.zeros => {
                    return Err(Error::invalid(
                        "OneHotEncoder met an unknown category and zeros is 0",
                    ))
                }
                None => {}
            }
        }
        Ok(out)
    }
}

impl Kernel for OneHotEncoder {
    fn compute(&self, inputs: &[Option<&Value>], ctx: &Ctx<'_>) -> Outputs {
        let x = input(inputs, 0)?;
        let out = if x.elem() == ElemType::String {
            let s = x.as_slice::<RString>()?;
            self.encode(
                s.iter().map(|v| self.strs.get(v.as_str()).copied()),
                s.len(),
            )?
        } else {
            let v: Vec<i64> = if x.elem().is_float() {
                x.to_f64_vec()?.into_iter().map(|f| f as i64).collect()
            } else {
                x.to_i64_vec()?
            };
            self.encode(v.iter().map(|i| self.ints.get(i).copied()), v.len())?
        };
        let mut shape = x.shape().to_vec();
        shape.push(self.n as i64);
        one(ctx.tensor_from(&shape, &out)?)
    }
}

crate::register!(
    "OneHotEncoder",
    "ai.onnx.ml",
    [1, LATEST],
    &[
        ElemType::String,
        ElemType::I64,
        ElemType::I32,
        ElemType::F32,
        ElemType::F64
    ],
    0,
    |n| {
        let (ints, strs) = match (n.ints("cats_int64s")?, n.strings("cats_strings")?) {
            (Some(i), None) => (i, vec![]),
            (None, Some(s)) => (vec![], s),
            _ => {
                return Err(Error::invalid(
                    "OneHotEncoder needs exactly one of cats_int64s and cats_strings",
                ))
            }
        };
        Ok(Box::new(OneHotEncoder {
            n: ints.len() + strs.len(),
            ints: ints
                .into_iter()
                .enumerate()
                .rev()
                .map(|(i, v)| (v, i))
                .collect(),
            strs: strs
                .into_iter()
                .enumerate()
                .rev()
                .map(|(i, v)| (v, i))
                .collect(),
            zeros: n.int("zeros", 1)? != 0,
        }))
    }
);
