//! TreeEnsemble: the tensor attributes become the shared `tree::Forest`, walked per row
//! through every tree, leaf weights aggregated per target, then the post transform.

use ort_core::{Error, Tensor, Value};

use super::tree::{rows_cols, Agg, Child, Cmp, Forest, Node, Post};
use crate::kernel::{input, one, Ctx, Kernel, NodeInfo, Outputs};
use crate::ops::signal::from_f64s;
use crate::ops::{FLOATS, LATEST};

/// TreeEnsemble (ai.onnx.ml opset 5): one output of `n_targets` scores per row.
struct TreeEnsemble {
    forest: Forest,
    agg: Agg,
    post: Post,
}

impl Kernel for TreeEnsemble {
    fn compute(&self, inputs: &[Option<&Value>], ctx: &Ctx<'_>) -> Outputs {
        let x = input(inputs, 0)?;
        let (rows, cols) = rows_cols(x.shape())?;
        let mut s = self
            .forest
            .scores(&x.to_f64_vec()?, rows, cols, self.agg, &[])?;
        let t = self.forest.n_targets;
        if t > 0 {
            s.chunks_mut(t).for_each(|r| self.post.apply(r));
        }
        one(from_f64s(ctx, x.elem(), &[rows as i64, t as i64], &s)?)
    }
}

fn floats_of(t: Option<Tensor>) -> Result<Vec<f64>, Error> {
    t.map(|t| t.to_f64_vec())
        .transpose()
        .map(|v| v.unwrap_or_default())
}

fn build(n: &NodeInfo<'_, '_>) -> Result<Box<dyn Kernel>, Error> {
    let ints = |name: &str| n.ints(name).map(|v| v.unwrap_or_default());
    let splits = floats_of(n.tensor("nodes_splits")?)?;
    let features = ints("nodes_featureids")?;
    let modes = n
        .tensor("nodes_modes")?
        .map(|t| t.to_i64_vec())
        .transpose()?
        .unwrap_or_default();
    let (tn, fnn) = (ints("nodes_truenodeids")?, ints("nodes_falsenodeids")?);
    let (tl, fl) = (ints("nodes_trueleafs")?, ints("nodes_falseleafs")?);
    let missing = ints("nodes_missing_value_tracks_true")?;
    let targets = ints("leaf_targetids")?;
    let weights = floats_of(n.tensor("leaf_weights")?)?;
    let roots = ints("tree_roots")?;
    let members = floats_of(n.tensor("membership_values")?)?;
    let count = splits.len();
    if [
        features.len(),
        modes.len(),
        tn.len(),
        fnn.len(),
        tl.len(),
        fl.len(),
    ]
    .iter()
    .any(|&l| l != count)
        || (!missing.is_empty() && missing.len() != count)
        || targets.len() != weights.len()
    {
        return Err(Error::invalid(
            "TreeEnsemble node or leaf attributes differ in length",
        ));
    }
    let child = |id: i64, leaf: i64| -> Result<Child, Error> {
        let id =
            usize::try_from(id).map_err(|_| Error::invalid(format!("negative node id {id}")))?;
        Ok(if leaf != 0 {
            Child::Leaf(id)
        } else {
            Child::Node(id)
        })
    };
    let mut sets = members.split(|v| v.is_nan());
    let mut nodes = Vec::with_capacity(count);
    for i in 0..count {
        let cmp = match modes[i] {
            0 => Cmp::Leq,
            1 => Cmp::Lt,
            2 => Cmp::Gte,
            3 => Cmp::Gt,
            4 => Cmp::Eq,
            5 => Cmp::Neq,
            6 => Cmp::Member,
            m => return Err(Error::invalid(format!("unknown node mode {m}"))),
        };
        let set = if cmp == Cmp::Member {
            sets.next()
                .ok_or_else(|| Error::invalid("membership_values has too few sets"))?
                .to_vec()
        } else {
            Vec::new()
        };
        nodes.push(Node {
            feature: usize::try_from(features[i])
                .map_err(|_| Error::invalid("negative feature id"))?,
            cmp,
            value: splits[i],
            set,
            missing_true: missing.get(i).is_some_and(|&m| m != 0),
            t: child(tn[i], tl[i])?,
            f: child(fnn[i], fl[i])?,
        });
    }
    let roots = roots
        .iter()
        .map(|&r| {
            let i = usize::try_from(r)
                .ok()
                .filter(|&i| i < count)
                .ok_or_else(|| Error::invalid(format!("tree root {r} is out of range")))?;
            Ok(if tl[i] != 0 && fl[i] != 0 && tn[i] == fnn[i] {
                child(tn[i], 1)?
            } else {
                Child::Node(i)
            })
        })
        .collect::<Result<Vec<_>, Error>>()?;
    let leaves = targets
        .iter()
        .zip(&weights)
        .map(|(&t, &w)| {
            usize::try_from(t)
                .map(|t| vec![(t, w)])
                .map_err(|_| Error::invalid("negative leaf target id"))
        })
        .collect::<Result<Vec<_>, _>>()?;
    let n_targets = n.int("n_targets", 0)?;
    let mut forest = Forest {
        nodes,
        leaves,
        roots,
        n_targets: usize::try_from(n_targets).map_err(|_| Error::invalid("negative n_targets"))?,
        n_features: 0,
    };
    forest.validate()?;
    let agg = match n.int("aggregate_function", 1)? {
        0 => Agg::Average,
        1 => Agg::Sum,
        2 => Agg::Min,
        3 => Agg::Max,
        a => return Err(Error::invalid(format!("unknown aggregate_function {a}"))),
    };
    Ok(Box::new(TreeEnsemble {
        forest,
        agg,
        post: Post::from_code(n.int("post_transform", 0)?)?,
    }))
}

crate::register!("TreeEnsemble", "ai.onnx.ml", [5, LATEST], FLOATS, 0, build);
