//! LinearClassifier: `x · wᵀ + b` per class, the arg-max label (or the sign of the one
//! score of a binary model), and the post-transform, with onnxruntime's handling of a
//! one-score model with two labels (the second class's score is added, untransformed).

use ort_core::{Error, Value};

use super::common::{dot_rows, f32_rows, post_rows, second_class};
use super::tree::Post;
use super::tree_ensemble_classifier::Labels;
use crate::kernel::{input, Ctx, Kernel, Outputs};
use crate::ops::{ANY, LATEST};

struct LinearClassifier {
    coef: Vec<f32>,
    intercepts: Vec<f32>,
    labels: Labels,
    post: Post,
}

impl Kernel for LinearClassifier {
    fn compute(&self, inputs: &[Option<&Value>], ctx: &Ctx<'_>) -> Outputs {
        let (rows, f, x) = f32_rows(input(inputs, 0)?)?;
        let k = self.intercepts.len();
        if self.coef.len() != k * f {
            return Err(Error::invalid(format!(
                "LinearClassifier has {} coefficients for {k} classes of {f} features",
                self.coef.len()
            )));
        }
        let mut z = dot_rows(&x, &self.coef, &self.intercepts, f, k);
        let picks: Vec<usize> = if k == 1 {
            // One score: positive picks the second label (or 1 without two labels).
            z.iter().map(|&s| usize::from(s > 0.0)).collect()
        } else {
            z.chunks_exact(k)
                .map(|r| (1..k).fold(0, |best, j| if r[j] > r[best] { j } else { best }))
                .collect()
        };
        let labels = if k == 1 && self.labels.len() != 2 {
            // Without two labels a binary model answers 0 or 1, in the labels' type.
            match self.labels {
                Labels::Ints(_) => Labels::Ints(vec![0, 1]),
                Labels::Strs(_) => Labels::Strs(vec!["0".into(), "1".into()]),
            }
            .pick(&picks)?
        } else {
            self.labels.pick(&picks)?
        };
        let width = if k == 1 && self.labels.len() == 2 {
            // onnxruntime applies a logistic or probit transform to the one score
            // before completing it; the softmaxes leave it raw.
            if matches!(self.post, Post::Logistic | Post::Probit) {
                let mut row = [0f64];
                for s in z.iter_mut() {
                    row[0] = *s as f64;
                    self.post.apply(&mut row);
                    *s = row[0] as f32;
                }
            }
            z = z.iter().flat_map(|&s| second_class(s, false)).collect();
            2
        } else {
            post_rows(&mut z, k, self.post);
            k
        };
        Ok(vec![
            Some(Value::Tensor(labels)),
            Some(Value::Tensor(
                ctx.tensor_from(&[rows as i64, width as i64], &z)?,
            )),
        ])
    }
}

crate::register!("LinearClassifier", "ai.onnx.ml", [1, LATEST], ANY, 0, |n| {
    let labels = Labels::from_attrs_named(n, "classlabels_ints", "classlabels_strings")?;
    let intercepts = n.floats("intercepts")?.unwrap_or_default();
    if intercepts.is_empty() {
        return Err(Error::invalid("LinearClassifier has no intercepts"));
    }
    if intercepts.len() > 1 && intercepts.len() != labels.len() {
        return Err(Error::invalid(format!(
            "LinearClassifier has {} intercepts for {} labels",
            intercepts.len(),
            labels.len()
        )));
    }
    Ok(Box::new(LinearClassifier {
        coef: n.floats("coefficients")?.unwrap_or_default(),
        intercepts,
        labels,
        post: Post::parse(&n.string("post_transform", "NONE")?)?,
    }))
});
