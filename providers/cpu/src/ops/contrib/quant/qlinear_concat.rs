//! QLinearConcat (`com.microsoft`): each input requantized to Y's scale and
//! zero point (a table of `quantize(dequantize(q))`, or as it is where its
//! parameters are Y's), then the Concat kernel.

use ort_core::ElemType::{I8, U8};
use ort_core::{Error, Tensor, Value};

use super::{lookup, param, table, Byte};
use crate::kernel::{input, Ctx, Kernel, NodeInfo, Outputs};
use crate::ops::tensor::concat::Concat;

struct QLinearConcat(Concat);

/// Inputs 2.. are (tensor, scale, zero point) triples; each comes back in Y's terms.
fn requantized<T: Byte>(inputs: &[Option<&Value>], ctx: &Ctx<'_>) -> Result<Vec<Tensor>, Error> {
    let y = param(inputs, 0, 1)?;
    let mut out = Vec::new();
    for k in (2..inputs.len()).step_by(3) {
        let x = input(inputs, k)?;
        let p = param(inputs, k + 1, k + 2)?;
        out.push(if p == y {
            x.clone()
        } else {
            lookup(x, &table::<T>(p, y, |v| v)?, ctx)?
        });
    }
    Ok(out)
}

impl Kernel for QLinearConcat {
    fn compute(&self, inputs: &[Option<&Value>], ctx: &Ctx<'_>) -> Outputs {
        if inputs.len() < 5 || !(inputs.len() - 2).is_multiple_of(3) {
            return Err(Error::invalid(format!(
                "QLinearConcat takes Y_scale, Y_zero_point and (tensor, scale, zero point) triples, got {} inputs",
                inputs.len()
            )));
        }
        let parts = match input(inputs, 1)?.elem() {
            U8 => requantized::<u8>(inputs, ctx),
            I8 => requantized::<i8>(inputs, ctx),
            e => Err(Error::invalid(format!(
                "Y_zero_point must be uint8 or int8, got {e}"
            ))),
        }?;
        let values: Vec<Value> = parts.into_iter().map(Value::Tensor).collect();
        let refs: Vec<Option<&Value>> = values.iter().map(Some).collect();
        self.0.compute(&refs, ctx)
    }
}

crate::register!(
    "QLinearConcat",
    "com.microsoft",
    [1, 1],
    &[U8, I8],
    1,
    |info: &NodeInfo<'_, '_>| {
        if !info.has("axis") {
            return Err(Error::invalid("QLinearConcat needs an axis attribute"));
        }
        Ok(Box::new(QLinearConcat(Concat {
            axis: info.int("axis", 0)?,
        })))
    }
);
