use ort_core::{Error, Value};

use super::{fold, variadic};
use crate::kernel::{one, Ctx, Kernel};
use crate::ops::{LATEST, NUMERIC};
use crate::util::Num;

struct Max;

impl Kernel for Max {
    fn compute(
        &self,
        inputs: &[Option<&Value>],
        ctx: &Ctx<'_>,
    ) -> Result<Vec<Option<Value>>, Error> {
        let ts = variadic(inputs)?;
        // NaN wins, as in numpy.maximum.
        one(
            crate::dispatch_numeric!(ts[0].elem(), T => fold(ctx, &ts, |a: T, b: T| if a >= b || a.is_nan() { a } else { b }))?,
        )
    }
}

crate::register!("Max", [6, LATEST], NUMERIC, |_| Ok(Box::new(Max)));
