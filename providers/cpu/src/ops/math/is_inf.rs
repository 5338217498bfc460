//! IsInf: per-element float classification (float8 by bit pattern), kept by sign.

use ort_core::Value;

use super::is_nan::{classify, FLOATS_F8};
use crate::kernel::{input, one, Ctx, Kernel, Outputs};
use crate::ops::LATEST;

/// True for infinities of the signs asked for.
struct IsInf {
    pos: bool,
    neg: bool,
}

impl Kernel for IsInf {
    fn compute(&self, inputs: &[Option<&Value>], ctx: &Ctx<'_>) -> Outputs {
        let (pos, neg) = (self.pos, self.neg);
        one(classify(ctx, input(inputs, 0)?, move |_, inf, n| {
            inf && if n { neg } else { pos }
        })?)
    }
}

crate::register!("IsInf", [10, LATEST], FLOATS_F8, |n| Ok(Box::new(IsInf {
    pos: n.int("detect_positive", 1)? != 0,
    neg: n.int("detect_negative", 1)? != 0,
})));
