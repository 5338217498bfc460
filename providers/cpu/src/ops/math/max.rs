use ort_core::Value;

use super::{fold, variadic};
use crate::kernel::{one, Ctx, Kernel, Outputs};
use crate::ops::{LATEST, NUMERIC};
use crate::util::Num;

struct Max;

impl Kernel for Max {
    fn compute(&self, inputs: &[Option<&Value>], ctx: &Ctx<'_>) -> Outputs {
        let ts = variadic(inputs)?;
        // NaN wins, as in numpy.maximum.
        one(
            crate::dispatch_numeric!(ts[0].elem(), T => fold(ctx, &ts, |a: T, b: T| if a >= b || a.is_nan() { a } else { b }))?,
        )
    }
}

crate::register!("Max", [6, LATEST], NUMERIC, |_| Ok(Box::new(Max)));
