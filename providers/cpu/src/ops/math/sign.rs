//! Sign: elementwise comparisons with zero giving -1 or 1, zero and NaN passed through.

use ort_core::Value;

use crate::kernel::{input, one, Ctx, Kernel, Outputs};
use crate::ops::{LATEST, NUMERIC};
use crate::util::{unary, Num};

/// -1, 0 or 1 by the sign of each element; NaN stays NaN.
struct Sign;

fn sign<T: Num>(v: T) -> T {
    if v > T::ZERO {
        T::ONE
    } else if v < T::ZERO {
        T::from_f64(-1.0)
    } else {
        // Zero, or NaN which compares neither way.
        v
    }
}

impl Kernel for Sign {
    fn compute(&self, inputs: &[Option<&Value>], ctx: &Ctx<'_>) -> Outputs {
        let x = input(inputs, 0)?;
        one(crate::dispatch_numeric!(x.elem(), T => unary(ctx, x, sign::<T>))?)
    }
}

crate::register!("Sign", [9, LATEST], NUMERIC, |_| Ok(Box::new(Sign)));
