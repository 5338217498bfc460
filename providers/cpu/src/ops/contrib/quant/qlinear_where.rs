//! QLinearWhere (`com.microsoft`): X and Y requantized to Z's scale and zero
//! point (tables of `quantize(dequantize(q))`, or as they are where their
//! parameters are Z's), then the Where kernel.

use ort_core::ElemType::{I8, U8};
use ort_core::{Error, Tensor, Value};

use super::{lookup, param, table, Byte};
use crate::kernel::{input, Ctx, Kernel, Outputs};
use crate::ops::logic::r#where::Where;

struct QLinearWhere;

fn requantized<T: Byte>(inputs: &[Option<&Value>], ctx: &Ctx<'_>) -> Result<[Tensor; 2], Error> {
    let z = param(inputs, 7, 8)?;
    let one = |k: usize| -> Result<Tensor, Error> {
        let (x, p) = (input(inputs, k)?, param(inputs, k + 1, k + 2)?);
        if p == z {
            Ok(x.clone())
        } else {
            lookup(x, &table::<T>(p, z, |v| v)?, ctx)
        }
    };
    Ok([one(1)?, one(4)?])
}

impl Kernel for QLinearWhere {
    fn compute(&self, inputs: &[Option<&Value>], ctx: &Ctx<'_>) -> Outputs {
        let [x, y] = match input(inputs, 8)?.elem() {
            U8 => requantized::<u8>(inputs, ctx),
            I8 => requantized::<i8>(inputs, ctx),
            e => Err(Error::invalid(format!(
                "z_zero_point must be uint8 or int8, got {e}"
            ))),
        }?;
        let (x, y) = (Value::Tensor(x), Value::Tensor(y));
        Where.compute(&[inputs[0], Some(&x), Some(&y)], ctx)
    }
}

crate::register!(
    "QLinearWhere",
    "com.microsoft",
    [1, 1],
    &[U8, I8],
    1,
    |_| Ok(Box::new(QLinearWhere))
);
