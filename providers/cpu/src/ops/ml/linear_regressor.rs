//! LinearRegressor: `x · wᵀ + b` per target, then the post-transform.

use ort_core::{Error, Value};

use super::common::{dot_rows, f32_rows, post_rows};
use super::tree::Post;
use crate::kernel::{input, one, Ctx, Kernel, Outputs};
use crate::ops::{ANY, LATEST};

struct LinearRegressor {
    coef: Vec<f32>,
    intercepts: Vec<f32>,
    targets: usize,
    post: Post,
}

impl Kernel for LinearRegressor {
    fn compute(&self, inputs: &[Option<&Value>], ctx: &Ctx<'_>) -> Outputs {
        let (rows, f, x) = f32_rows(input(inputs, 0)?)?;
        let k = self.targets;
        if self.coef.len() != k * f {
            return Err(Error::invalid(format!(
                "LinearRegressor has {} coefficients for {k} targets of {f} features",
                self.coef.len()
            )));
        }
        let mut y = dot_rows(&x, &self.coef, &self.intercepts, f, k);
        post_rows(&mut y, k, self.post);
        one(ctx.tensor_from(&[rows as i64, k as i64], &y)?)
    }
}

crate::register!("LinearRegressor", "ai.onnx.ml", [1, LATEST], ANY, 0, |n| {
    let targets = n.int("targets", 1)?;
    let intercepts = n.floats("intercepts")?.unwrap_or_default();
    if targets < 1 || !(intercepts.is_empty() || intercepts.len() == targets as usize) {
        return Err(Error::invalid(format!(
            "LinearRegressor has {} intercepts for {targets} targets",
            intercepts.len()
        )));
    }
    Ok(Box::new(LinearRegressor {
        coef: n.floats("coefficients")?.unwrap_or_default(),
        intercepts,
        targets: targets as usize,
        post: Post::parse(&n.string("post_transform", "NONE")?)?,
    }))
});
