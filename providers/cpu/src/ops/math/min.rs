use ort_core::Value;

use super::{fold, variadic};
use crate::kernel::{one, Ctx, Kernel, Outputs};
use crate::ops::{LATEST, NUMERIC};
use crate::util::Num;

struct Min;

impl Kernel for Min {
    fn compute(&self, inputs: &[Option<&Value>], ctx: &Ctx<'_>) -> Outputs {
        let ts = variadic(inputs)?;
        // NaN wins, as in numpy.minimum.
        one(
            crate::dispatch_numeric!(ts[0].elem(), T => fold(ctx, &ts, |a: T, b: T| if a <= b || a.is_nan() { a } else { b }))?,
        )
    }
}

crate::register!("Min", [6, LATEST], NUMERIC, |_| Ok(Box::new(Min)));
