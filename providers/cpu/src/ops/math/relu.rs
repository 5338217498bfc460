//! Relu: elementwise `x > 0 ? x : 0` (NaN gives 0), in parallel chunks when large.

use ort_core::Value;

use crate::kernel::{input, one, Ctx, Kernel, Outputs};
use crate::ops::{LATEST, SIGNED};

struct Relu;

impl Kernel for Relu {
    fn compute(&self, inputs: &[Option<&Value>], ctx: &Ctx<'_>) -> Outputs {
        let x = input(inputs, 0)?;
        one(crate::dispatch_numeric!(x.elem(), T => {
            let zero = T::default();
            crate::util::unary(ctx, x, move |v: T| if v > zero { v } else { zero })
        })?)
    }
}

crate::register!("Relu", [6, LATEST], SIGNED, |_| Ok(Box::new(Relu)));
