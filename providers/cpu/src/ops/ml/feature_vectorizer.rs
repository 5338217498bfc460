//! FeatureVectorizer: concatenates each input's features per row into one f32 row,
//! each input truncated or zero-padded to its declared dimension.

use ort_core::{Error, Value};

use crate::kernel::{input, one, Ctx, Kernel, Outputs};
use crate::ops::{ANY, LATEST};

struct FeatureVectorizer {
    dims: Vec<usize>,
}

impl Kernel for FeatureVectorizer {
    fn compute(&self, inputs: &[Option<&Value>], ctx: &Ctx<'_>) -> Outputs {
        if inputs.len() != self.dims.len() {
            return Err(Error::invalid(format!(
                "FeatureVectorizer has {} inputs but {} inputdimensions",
                inputs.len(),
                self.dims.len()
            )));
        }
        let width: usize = self.dims.iter().sum();
        let mut rows = None;
        let mut parts = Vec::with_capacity(inputs.len());
        for i in 0..inputs.len() {
            let x = input(inputs, i)?;
            // A 1-D input is one row, as in onnxruntime.
            let n = if x.shape().len() <= 1 {
                1
            } else {
                x.shape()[0] as usize
            };
            match rows {
                None => rows = Some(n),
                Some(r) if r != n => {
                    return Err(Error::invalid(format!(
                        "FeatureVectorizer inputs differ in rows: {r} and {n} (input {i})"
                    )))
                }
                _ => {}
            }
            let v = x.to_f64_vec()?;
            let stride = v.len().checked_div(n).unwrap_or(0);
            parts.push((v, stride));
        }
        let rows = rows.unwrap_or(0);
        let mut out = vec![0f32; rows * width];
        for r in 0..rows {
            let mut at = r * width;
            for ((v, stride), &d) in parts.iter().zip(&self.dims) {
                let take = (*stride).min(d);
                for (o, &a) in out[at..at + take].iter_mut().zip(&v[r * stride..]) {
                    *o = a as f32;
                }
                at += d;
            }
        }
        one(ctx.tensor_from(&[rows as i64, width as i64], &out)?)
    }
}

crate::register!(
    "FeatureVectorizer",
    "ai.onnx.ml",
    [1, LATEST],
    ANY,
    0,
    |n| {
        let dims = n.ints("inputdimensions")?.unwrap_or_default();
        if dims.iter().any(|&d| d < 0) {
            return Err(Error::invalid("inputdimensions must not be negative"));
        }
        Ok(Box::new(FeatureVectorizer {
            dims: dims.into_iter().map(|d| d as usize).collect(),
        }))
    }
);
