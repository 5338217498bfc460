//! Neg: float negation, and wrapping `0 - x` for signed integers (MIN stays MIN).

use ort_core::Value;

use crate::kernel::{input, one, Ctx, Kernel, Outputs};
use crate::ops::{LATEST, SIGNED};
use crate::util::unary;

struct Neg;

impl Kernel for Neg {
    fn compute(&self, inputs: &[Option<&Value>], ctx: &Ctx<'_>) -> Outputs {
        let x = input(inputs, 0)?;
        one(if x.elem().is_float() {
            crate::dispatch_float!(x.elem(), T => unary(ctx, x, |v: T| -v))
        } else {
            crate::dispatch_int!(x.elem(), T => unary(ctx, x, |v: T| (0 as T).wrapping_sub(v)))
        }?)
    }
}

crate::register!("Neg", [6, LATEST], SIGNED, |_| Ok(Box::new(Neg)));
