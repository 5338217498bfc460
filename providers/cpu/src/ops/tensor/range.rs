//! Range: length ceil((limit − start) / delta) in f64, then values from repeatedly adding
//! delta in the element type (wrapping for integers), as the spec's loop does.

use ort_core::ElemType::{self, *};
use ort_core::{Error, Tensor, Value};

use crate::kernel::{input, one, Ctx, Kernel, Outputs};
use crate::ops::LATEST;
use crate::util::Num;

struct Range;

fn scalar<T: Num>(t: &Tensor, what: &str) -> Result<T, Error> {
    match t.as_slice::<T>()? {
        [v] => Ok(*v),
        _ => Err(Error::invalid(format!(
            "{what} must be a scalar, got shape {:?}",
            t.shape()
        ))),
    }
}

impl Kernel for Range {
    fn compute(&self, inputs: &[Option<&Value>], ctx: &Ctx<'_>) -> Outputs {
        let t = input(inputs, 0)?;
        one(crate::dispatch_numeric!(t.elem(), T => {
            let start: T = scalar(t, "start")?;
            let limit: T = scalar(input(inputs, 1)?, "limit")?;
            let delta: T = scalar(input(inputs, 2)?, "delta")?;
            let (s, l, d) = (start.to_f64(), limit.to_f64(), delta.to_f64());
            if d == 0.0 {
                return Err(Error::invalid("Range delta cannot be 0"));
            }
            let n = ((l - s) / d).ceil().max(0.0);
            if !n.is_finite() || n > (1u64 << 40) as f64 {
                return Err(Error::invalid(format!("Range({s}, {l}, {d}) is too long")));
            }
            // Accumulates in T, as the spec's reference loop and ONNX Runtime do.
            ctx.tensor(&[n as i64], |o: &mut [T]| {
                let mut acc = start;
                for v in o.iter_mut() {
                    *v = acc;
                    acc = acc.wadd(delta);
                }
            })
        })?)
    }
}

const TYPES: &[ElemType] = &[F32, F64, F16, BF16, I16, I32, I64];

crate::register!("Range", [11, LATEST], TYPES, |_| Ok(Box::new(Range)));
