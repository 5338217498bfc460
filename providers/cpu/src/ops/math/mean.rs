use ort_core::Value;

use super::{fold, variadic};
use crate::kernel::{one, Ctx, Kernel, Outputs};
use crate::ops::{FLOATS, LATEST};
use crate::util::{unary, Num};

struct Mean;

impl Kernel for Mean {
    fn compute(&self, inputs: &[Option<&Value>], ctx: &Ctx<'_>) -> Outputs {
        let ts = variadic(inputs)?;
        let n = ts.len() as f64;
        one(crate::dispatch_float!(ts[0].elem(), T => {
            let sum = fold(ctx, &ts, |a: T, b: T| a.wadd(b))?;
            unary(ctx, &sum, |v: T| T::from_f64(v.to_f64() / n))
        })?)
    }
}

crate::register!("Mean", [6, LATEST], FLOATS, |_| Ok(Box::new(Mean)));
