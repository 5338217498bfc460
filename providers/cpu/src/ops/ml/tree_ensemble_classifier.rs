//! TreeEnsembleClassifier: leaf weights summed per class over the shared forest walk, the
//! arg-max label (or a threshold for one-score binary models), then the post transform.

use ort_core::abi::RString;
use ort_core::{Error, Tensor, Value};

use super::tree::{base_values, legacy_forest, rows_cols, Agg, Forest, Post};
use crate::kernel::{input, Ctx, Kernel, NodeInfo, Outputs};
use crate::ops::{ANY, LATEST};

/// Class labels: integers or strings.
#[derive(Clone)]
pub(crate) enum Labels {
    Ints(Vec<i64>),
    Strs(Vec<String>),
}

impl Labels {
    pub fn from_attrs(n: &NodeInfo<'_, '_>) -> Result<Labels, Error> {
        Labels::from_attrs_named(n, "classlabels_int64s", "classlabels_strings")
    }
    /// The labels in attribute `ints` or `strs` (exactly one must be set).
    pub fn from_attrs_named(n: &NodeInfo<'_, '_>, ints: &str, strs: &str) -> Result<Labels, Error> {
        match (n.ints(ints)?, n.strings(strs)?) {
            (Some(v), None) => Ok(Labels::Ints(v)),
            (None, Some(v)) => Ok(Labels::Strs(v)),
            _ => Err(Error::invalid(format!(
                "exactly one of {ints} and {strs} is required"
            ))),
        }
    }
    pub fn len(&self) -> usize {
        match self {
            Labels::Ints(v) => v.len(),
            Labels::Strs(v) => v.len(),
        }
    }
    /// A `[N]` tensor of the labels at `picks`.
    pub fn pick(&self, picks: &[usize]) -> Result<Tensor, Error> {
        let n = [picks.len() as i64];
        match self {
            Labels::Ints(v) => {
                Tensor::from_vec(&n, picks.iter().map(|&i| v[i]).collect::<Vec<_>>())
            }
            Labels::Strs(v) => Tensor::from_vec(
                &n,
                picks
                    .iter()
                    .map(|&i| RString::from(v[i].as_str()))
                    .collect::<Vec<_>>(),
            ),
        }
    }
}

/// TreeEnsembleClassifier: the winning label per row and the per-class scores.
struct TreeEnsembleClassifier {
    forest: Forest,
    post: Post,
    base: Vec<f64>,
    labels: Labels,
    /// Two classes scored by a single class id: that id, and whether every weight
    /// is non-negative (probabilities rather than margins).
    binary: Option<(usize, bool)>,
}

impl Kernel for TreeEnsembleClassifier {
    fn compute(&self, inputs: &[Option<&Value>], ctx: &Ctx<'_>) -> Outputs {
        let x = input(inputs, 0)?;
        let (rows, cols) = rows_cols(x.shape())?;
        let s = self
            .forest
            .scores(&x.to_f64_vec()?, rows, cols, Agg::Sum, &self.base)?;
        let k = self.forest.n_targets;
        let mut picks = Vec::with_capacity(rows);
        let mut z = Vec::with_capacity(rows * k);
        for r in 0..rows {
            let row = &s[r * k..(r + 1) * k];
            if let Some((c, positive)) = self.binary {
                let v = row[c];
                let one = if positive { v > 0.5 } else { v > 0.0 };
                picks.push(usize::from(one));
                // As ONNX Runtime: probabilities complete to 1; margins mirror
                // without a transform, else the transform sees the other class's raw
                // score (0 when no leaf scores it).
                let pair = match (self.post, positive) {
                    (Post::None, true) => [1.0 - v, v],
                    (Post::None, false) => [-v, v],
                    (p, _) => {
                        let mut pr = [row[1 - c], v];
                        p.apply(&mut pr);
                        pr
                    }
                };
                z.extend(pair);
            } else {
                let mut best = 0;
                for (i, &v) in row.iter().enumerate() {
                    if v > row[best] {
                        best = i;
                    }
                }
                picks.push(best);
                let mut row = row.to_vec();
                self.post.apply(&mut row);
                z.extend(row);
            }
        }
        let z: Vec<f32> = z.iter().map(|&v| v as f32).collect();
        Ok(vec![
            Some(Value::Tensor(self.labels.pick(&picks)?)),
            Some(Value::Tensor(
                ctx.tensor_from(&[rows as i64, k as i64], &z)?,
            )),
        ])
    }
}

fn build(n: &NodeInfo<'_, '_>) -> Result<Box<dyn Kernel>, Error> {
    let labels = Labels::from_attrs(n)?;
    let k = labels.len();
    if k == 0 {
        return Err(Error::invalid("TreeEnsembleClassifier has no class labels"));
    }
    let forest = legacy_forest(n, "class", k)?;
    let ids: Vec<usize> = forest.leaves.iter().flatten().map(|&(t, _)| t).collect();
    let binary = (k == 2 && !ids.is_empty() && ids.iter().all(|&i| i == 1)).then(|| {
        let positive = forest.leaves.iter().flatten().all(|&(_, w)| w >= 0.0);
        (ids[0], positive)
    });
    Ok(Box::new(TreeEnsembleClassifier {
        forest,
        post: Post::parse(&n.string("post_transform", "NONE")?)?,
        base: base_values(n)?,
        labels,
        binary,
    }))
}

crate::register!(
    "TreeEnsembleClassifier",
    "ai.onnx.ml",
    [1, LATEST],
    ANY,
    0,
    build
);
