//! Reshape: a zero-copy view of the input's buffer under the target shape, 0 taking the
//! input dimension (unless allowzero) and one -1 inferred from the element count.

use ort_core::{Error, Value};

use super::ints_input;
use crate::kernel::{input, one, Ctx, Kernel, Outputs};
use crate::ops::{ANY, LATEST};

/// Zero-copy: the output shares the input's buffer.
struct Reshape {
    allowzero: bool,
}

fn target_shape(dims: &[i64], req: &[i64], allowzero: bool) -> Result<Vec<i64>, Error> {
    let bad = || Error::invalid(format!("cannot reshape {dims:?} to {req:?}"));
    let mut out = Vec::with_capacity(req.len());
    let mut infer = None;
    for (i, &d) in req.iter().enumerate() {
        match d {
            -1 if infer.is_none() => {
                infer = Some(i);
                out.push(1);
            }
            0 if !allowzero => out.push(*dims.get(i).ok_or_else(bad)?),
            d if d >= 0 => out.push(d),
            _ => return Err(bad()),
        }
    }
    let total: i64 = dims.iter().product();
    let known: i64 = out.iter().product();
    if let Some(i) = infer {
        if known == 0 || total % known != 0 {
            return Err(bad());
        }
        out[i] = total / known;
    } else if known != total {
        return Err(bad());
    }
    Ok(out)
}

impl Kernel for Reshape {
    fn compute(&self, inputs: &[Option<&Value>], _: &Ctx<'_>) -> Outputs {
        let x = input(inputs, 0)?;
        let req =
            ints_input(inputs, 1)?.ok_or_else(|| Error::invalid("input 1 (shape) is missing"))?;
        one(x.reshaped(&target_shape(x.shape(), &req, self.allowzero)?)?)
    }
}

crate::register!("Reshape", [5, LATEST], ANY, |n| Ok(Box::new(Reshape {
    allowzero: n.int("allowzero", 0)? != 0,
})));
