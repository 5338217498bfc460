//! Momentum: elementwise in f64, V = α·V + β·g (β = 1 at T = 0), then X −= r·V,
//! or X −= r·(g + α·V) for Nesterov, where g includes norm_coefficient·X.

use ort_core::{Error, Value};

use super::run_optimizer;
use crate::kernel::{Ctx, Kernel, Outputs};
use crate::ops::LATEST;

/// Momentum: per tensor (X, G, V) → (X', V'), standard or Nesterov.
struct Momentum {
    alpha: f64,
    beta: f64,
    norm_coefficient: f64,
    nesterov: bool,
}

impl Kernel for Momentum {
    fn compute(&self, inputs: &[Option<&Value>], ctx: &Ctx<'_>) -> Outputs {
        run_optimizer(inputs, ctx, 3, |r, t, i, o| {
            let (x, g, v) = (i[0], i[1], i[2]);
            let g = self.norm_coefficient * x + g;
            // The gradient's coefficient is 1 on the first iteration.
            let beta = if t > 0 { self.beta } else { 1.0 };
            let v = self.alpha * v + beta * g;
            o[0] = if self.nesterov {
                x - r * (g + self.alpha * v)
            } else {
                x - r * v
            };
            o[1] = v;
        })
    }
}

crate::register!(
    "Momentum",
    "ai.onnx.preview.training",
    [1, LATEST],
    super::F32_F64,
    0,
    |n| {
        let need = |name: &str| -> Result<f64, Error> {
            if !n.has(name) {
                return Err(Error::invalid(format!(
                    "Momentum needs the {name} attribute"
                )));
            }
            Ok(n.float(name, 0.0)? as f64)
        };
        let mode = n.string("mode", "")?;
        let nesterov = match mode.as_str() {
            "standard" => false,
            "nesterov" => true,
            other => {
                return Err(Error::invalid(format!(
                    "Momentum mode must be \"standard\" or \"nesterov\", got \"{other}\""
                )))
            }
        };
        Ok(Box::new(Momentum {
            alpha: need("alpha")?,
            beta: need("beta")?,
            norm_coefficient: need("norm_coefficient")?,
            nesterov,
        }))
    }
);
