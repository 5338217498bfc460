//! SVMRegressor: `Σ coef · K(x, sv) + rho` over the support vectors (or a linear model
//! when there are none); a one-class model outputs ±1.

use ort_core::{Error, Value};

use super::common::f32_rows;
use super::svm::SvmKernel;
use crate::kernel::{input, one, Ctx, Kernel, Outputs};
use crate::ops::{ANY, LATEST};

struct SvmRegressor {
    kernel: SvmKernel,
    /// `[n, f]`, empty for a linear model.
    vectors: Vec<f32>,
    n: usize,
    coef: Vec<f32>,
    rho: f32,
    one_class: bool,
}

impl Kernel for SvmRegressor {
    fn compute(&self, inputs: &[Option<&Value>], ctx: &Ctx<'_>) -> Outputs {
        let (rows, f, x) = f32_rows(input(inputs, 0)?)?;
        let want = self
            .vectors
            .len()
            .checked_div(self.n)
            .unwrap_or(self.coef.len());
        if f != want {
            return Err(Error::invalid(format!(
                "SVMRegressor expects {want} features, got {f}"
            )));
        }
        let mut y: Vec<f32> = if self.n > 0 {
            let k = self.kernel.apply(&x, &self.vectors, f, 0.0);
            k.chunks_exact(self.n)
                .map(|r| r.iter().zip(&self.coef).map(|(a, b)| a * b).sum::<f32>() + self.rho)
                .collect()
        } else {
            SvmKernel::Linear.apply(&x, &self.coef, f, self.rho)
        };
        if self.one_class {
            y.iter_mut()
                .for_each(|v| *v = if *v > 0.0 { 1.0 } else { -1.0 });
        }
        one(ctx.tensor_from(&[rows as i64, 1], &y)?)
    }
}

crate::register!("SVMRegressor", "ai.onnx.ml", [1, LATEST], ANY, 0, |n| {
    let count = n.int("n_supports", 0)?;
    let vectors = n.floats("support_vectors")?.unwrap_or_default();
    let coef = n.floats("coefficients")?.unwrap_or_default();
    let rho = n.floats("rho")?.unwrap_or_default();
    let Some(&rho) = rho.first() else {
        return Err(Error::invalid("SVMRegressor needs rho"));
    };
    if count < 0
        || coef.is_empty()
        || (count > 0 && (vectors.len() % count as usize != 0 || coef.len() < count as usize))
    {
        return Err(Error::invalid(format!(
            "SVMRegressor: {} support vector values, {} coefficients for n_supports {count}",
            vectors.len(),
            coef.len()
        )));
    }
    Ok(Box::new(SvmRegressor {
        kernel: if count > 0 {
            SvmKernel::parse(n)?
        } else {
            SvmKernel::Linear
        },
        vectors,
        n: count as usize,
        coef,
        rho,
        one_class: n.int("one_class", 0)? != 0,
    }))
});
