use ort_core::Value;

use crate::kernel::{input, one, Ctx, Kernel, Outputs};
use crate::ops::LATEST;
use crate::util::unary;

struct BitwiseNot;

impl Kernel for BitwiseNot {
    fn compute(&self, inputs: &[Option<&Value>], ctx: &Ctx<'_>) -> Outputs {
        let x = input(inputs, 0)?;
        one(crate::dispatch_int!(x.elem(), T => unary(ctx, x, |v: T| !v))?)
    }
}

crate::register!("BitwiseNot", [18, LATEST], super::bitwise::INTS, |_| Ok(
    Box::new(BitwiseNot)
));
