//! Adagrad: elementwise in f64, H += g² and X −= r / (1 + T·decay) · g / (√H + ε), where
//! g is the gradient plus norm_coefficient·X.

use ort_core::Value;

use super::run_optimizer;
use crate::kernel::{Ctx, Kernel, Outputs};
use crate::ops::LATEST;

/// Adagrad: per tensor (X, G, H) → (X', H') with a decaying learning rate.
struct Adagrad {
    norm_coefficient: f64,
    decay_factor: f64,
    epsilon: f64,
}

impl Kernel for Adagrad {
    fn compute(&self, inputs: &[Option<&Value>], ctx: &Ctx<'_>) -> Outputs {
        run_optimizer(inputs, ctx, 3, |r, t, i, o| {
            let (x, g, h) = (i[0], i[1], i[2]);
            let rate = r / (1.0 + t as f64 * self.decay_factor);
            let g = self.norm_coefficient * x + g;
            let h = h + g * g;
            o[0] = x - rate * g / (h.sqrt() + self.epsilon);
            o[1] = h;
        })
    }
}

crate::register!(
    "Adagrad",
    "ai.onnx.preview.training",
    [1, LATEST],
    super::F32_F64,
    0,
    |n| Ok(Box::new(Adagrad {
        norm_coefficient: n.float("norm_coefficient", 0.0)? as f64,
        decay_factor: n.float("decay_factor", 0.0)? as f64,
        epsilon: n.float("epsilon", 1e-6)? as f64,
    }))
);
