//! TreeEnsembleRegressor: the shared forest walk with SUM, AVERAGE, MIN or MAX of leaf
//! weights, plus base values and the post transform, output in f32.

use ort_core::{Error, Value};

use super::tree::{base_values, legacy_forest, rows_cols, Agg, Forest, Post};
use crate::kernel::{input, one, Ctx, Kernel, NodeInfo, Outputs};
use crate::ops::{ANY, LATEST};

/// TreeEnsembleRegressor: float scores `[N, n_targets]`.
struct TreeEnsembleRegressor {
    forest: Forest,
    agg: Agg,
    post: Post,
    base: Vec<f64>,
}

impl Kernel for TreeEnsembleRegressor {
    fn compute(&self, inputs: &[Option<&Value>], ctx: &Ctx<'_>) -> Outputs {
        let x = input(inputs, 0)?;
        let (rows, cols) = rows_cols(x.shape())?;
        let mut s = self
            .forest
            .scores(&x.to_f64_vec()?, rows, cols, self.agg, &self.base)?;
        let t = self.forest.n_targets;
        if t > 0 {
            s.chunks_mut(t).for_each(|r| self.post.apply(r));
        }
        let out: Vec<f32> = s.iter().map(|&v| v as f32).collect();
        one(ctx.tensor_from(&[rows as i64, t as i64], &out)?)
    }
}

fn build(n: &NodeInfo<'_, '_>) -> Result<Box<dyn Kernel>, Error> {
    let t = usize::try_from(n.int("n_targets", 1)?)
        .map_err(|_| Error::invalid("negative n_targets"))?;
    Ok(Box::new(TreeEnsembleRegressor {
        forest: legacy_forest(n, "target", t)?,
        agg: Agg::parse(&n.string("aggregate_function", "SUM")?)?,
        post: Post::parse(&n.string("post_transform", "NONE")?)?,
        base: base_values(n)?,
    }))
}

crate::register!(
    "TreeEnsembleRegressor",
    "ai.onnx.ml",
    [1, LATEST],
    ANY,
    0,
    build
);
