//! Adam: elementwise in f64, running averages of g and g², a step r·√(1 − βᵀ) / (1 − αᵀ)
//! once T > 0, then X scaled by 1 − norm_coefficient_post.

use ort_core::Value;

use super::run_optimizer;
use crate::kernel::{Ctx, Kernel, Outputs};
use crate::ops::LATEST;

/// Adam: per tensor (X, G, V, H) → (X', V', H'), with bias correction once T > 0.
struct Adam {
    alpha: f64,
    beta: f64,
    epsilon: f64,
    norm_coefficient: f64,
    norm_coefficient_post: f64,
}

impl Kernel for Adam {
    fn compute(&self, inputs: &[Option<&Value>], ctx: &Ctx<'_>) -> Outputs {
        let (a, b) = (self.alpha, self.beta);
        run_optimizer(inputs, ctx, 4, |r, t, i, o| {
            let (x, g, v, h) = (i[0], i[1], i[2], i[3]);
            let g = self.norm_coefficient * x + g;
            let v = a * v + (1.0 - a) * g;
            let h = b * h + (1.0 - b) * g * g;
            let rate = if t > 0 {
                let t = t as f64;
                r * (1.0 - b.powf(t)).sqrt() / (1.0 - a.powf(t))
            } else {
                r
            };
            let x = x - rate * (v / (h.sqrt() + self.epsilon));
            o[0] = (1.0 - self.norm_coefficient_post) * x;
            o[1] = v;
            o[2] = h;
        })
    }
}

crate::register!(
    "Adam",
    "ai.onnx.preview.training",
    [1, LATEST],
    super::F32_F64,
    0,
    |n| Ok(Box::new(Adam {
        alpha: n.float("alpha", 0.9)? as f64,
        beta: n.float("beta", 0.999)? as f64,
        epsilon: n.float("epsilon", 1e-6)? as f64,
        norm_coefficient: n.float("norm_coefficient", 0.0)? as f64,
        norm_coefficient_post: n.float("norm_coefficient_post", 0.0)? as f64,
    }))
);
