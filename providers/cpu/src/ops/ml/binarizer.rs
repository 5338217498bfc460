//! Binarizer: elementwise threshold test in f64, writing 1 or 0 in the input's type.

use ort_core::Value;

use crate::kernel::{input, one, Ctx, Kernel, Outputs};
use crate::ops::{LATEST, NUMERIC};
use crate::util::{unary, Num};

/// Binarizer: 1 where `x > threshold`, else 0.
struct Binarizer {
    threshold: f64,
}

impl Kernel for Binarizer {
    fn compute(&self, inputs: &[Option<&Value>], ctx: &Ctx<'_>) -> Outputs {
        let x = input(inputs, 0)?;
        let t = self.threshold;
        one(
            crate::dispatch_numeric!(x.elem(), T => unary(ctx, x, move |v: T| {
                if Num::to_f64(v) > t { T::ONE } else { T::ZERO }
            }))?,
        )
    }
}

crate::register!("Binarizer", "ai.onnx.ml", [1, LATEST], NUMERIC, 0, |n| Ok(
    Box::new(Binarizer {
        threshold: n.float("threshold", 0.0)? as f64
    })
));
