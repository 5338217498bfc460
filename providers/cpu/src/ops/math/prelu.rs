//! PRelu: broadcasting `x < 0 ? slope · x : x` (wrapping multiply for integers),
//! rejecting slopes that would enlarge the output shape.

use ort_core::{Error, Value};

use crate::kernel::{input, one, Ctx, Kernel, Outputs};
use crate::ops::{LATEST, NUMERIC};
use crate::util::{binary, Num};

/// `x` where `x >= 0`, else `slope * x`; the slope broadcasts against `x`.
struct PRelu;

fn prelu<T: Num>(x: T, s: T) -> T {
    if x < T::ZERO {
        s.wmul(x)
    } else {
        x
    }
}

impl Kernel for PRelu {
    fn compute(&self, inputs: &[Option<&Value>], ctx: &Ctx<'_>) -> Outputs {
        let (x, slope) = (input(inputs, 0)?, input(inputs, 1)?);
        let t = crate::dispatch_numeric!(x.elem(), T => binary(ctx, x, slope, prelu::<T>))?;
        if t.shape() != x.shape() {
            return Err(Error::invalid(format!(
                "PRelu slope of shape {:?} does not broadcast to input shape {:?}",
                slope.shape(),
                x.shape()
            )));
        }
        one(t)
    }
}

crate::register!("PRelu", [6, LATEST], NUMERIC, same: [0, 1], |_| Ok(Box::new(PRelu)));
