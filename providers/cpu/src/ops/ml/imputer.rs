//! Imputer: replaces each element equal to the replaced value (NaN matches NaN) with
//! the imputed value of its column, or the single imputed value.

use ort_core::{ElemType, Error, Value};

use crate::kernel::{input, one, Ctx, Kernel, Outputs};
use crate::ops::LATEST;

struct Imputer {
    floats: Vec<f32>,
    replaced_float: f32,
    ints: Vec<i64>,
    replaced_int: i64,
}

/// `x` with every element `is_hole` replaced by `fill[column]` (or `fill[0]`).
fn impute<T: Copy>(x: &[T], cols: usize, fill: &[T], is_hole: impl Fn(T) -> bool) -> Vec<T> {
    x.iter()
        .enumerate()
        .map(|(i, &v)| {
            if is_hole(v) {
                fill[if fill.len() == 1 { 0 } else { i % cols }]
            } else {
                v
            }
        })
        .collect()
}

impl Kernel for Imputer {
    fn compute(&self, inputs: &[Option<&Value>], ctx: &Ctx<'_>) -> Outputs {
        let x = input(inputs, 0)?;
        let cols = x.shape().last().map_or(1, |&c| c as usize).max(1);
        let check = |n: usize| {
            if n == 1 || n == cols {
                Ok(())
            } else {
                Err(Error::invalid(format!(
                    "Imputer has {n} imputed values for {cols} columns"
                )))
            }
        };
        match x.elem() {
            ElemType::F32 => {
                check(self.floats.len())?;
                let r = self.replaced_float;
                let out = impute(x.as_slice::<f32>()?, cols, &self.floats, |v| {
                    v == r || (r.is_nan() && v.is_nan())
                });
                one(ctx.tensor_from(x.shape(), &out)?)
            }
            ElemType::I64 => {
                check(self.ints.len())?;
                let r = self.replaced_int;
                let out = impute(x.as_slice::<i64>()?, cols, &self.ints, |v| v == r);
                one(ctx.tensor_from(x.shape(), &out)?)
            }
            e => Err(Error::invalid(format!("Imputer does not take {e} input"))),
        }
    }
}

crate::register!(
    "Imputer",
    "ai.onnx.ml",
    [1, LATEST],
    &[ElemType::F32, ElemType::I64],
    0,
    |n| Ok(Box::new(Imputer {
        floats: n.floats("imputed_value_floats")?.unwrap_or_default(),
        replaced_float: n.float("replaced_value_float", 0.0)?,
        ints: n.ints("imputed_value_int64s")?.unwrap_or_default(),
        replaced_int: n.int("replaced_value_int64", 0)?,
    }))
);
