//! Shrink: a piecewise-linear soft threshold evaluated in f64 and cast back per element.

use ort_core::Value;

use crate::kernel::{input, one, Ctx, Kernel, Outputs};
use crate::ops::{LATEST, NUMERIC};
use crate::util::{unary, Num};

/// `x + bias` below `-lambd`, `x - bias` above `lambd`, 0 in between.
struct Shrink {
    bias: f64,
    lambd: f64,
}

impl Kernel for Shrink {
    fn compute(&self, inputs: &[Option<&Value>], ctx: &Ctx<'_>) -> Outputs {
        let x = input(inputs, 0)?;
        let (bias, lambd) = (self.bias, self.lambd);
        let f = move |v: f64| {
            if v < -lambd {
                v + bias
            } else if v > lambd {
                v - bias
            } else {
                0.0
            }
        };
        one(
            crate::dispatch_numeric!(x.elem(), T => unary(ctx, x, move |v: T| T::from_f64(f(v.to_f64()))))?,
        )
    }
}

crate::register!("Shrink", [9, LATEST], NUMERIC, |n| Ok(Box::new(Shrink {
    bias: n.float("bias", 0.0)? as f64,
    lambd: n.float("lambd", 0.5)? as f64,
})));
