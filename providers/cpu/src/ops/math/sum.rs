use ort_core::Value;

use super::{fold, variadic};
use crate::kernel::{one, Ctx, Kernel, Outputs};
use crate::ops::{FLOATS, LATEST};
use crate::util::Num;

struct Sum;

impl Kernel for Sum {
    fn compute(&self, inputs: &[Option<&Value>], ctx: &Ctx<'_>) -> Outputs {
        let ts = variadic(inputs)?;
        one(crate::dispatch_numeric!(ts[0].elem(), T => fold(ctx, &ts, |a: T, b: T| a.wadd(b)))?)
    }
}

crate::register!("Sum", [6, LATEST], FLOATS, |_| Ok(Box::new(Sum)));
