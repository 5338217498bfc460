//! The tree-ensemble evaluator shared by TreeEnsemble, TreeEnsembleRegressor and
//! TreeEnsembleClassifier.

use ort_core::Error;

/// How a node compares its feature with its split value(s).
#[derive(Clone, Copy, PartialEq, Debug)]
pub(crate) enum Cmp {
    Leq,
    Lt,
    Gte,
    Gt,
    Eq,
    Neq,
    Member,
}

#[derive(Clone, Copy, Debug)]
pub(crate) enum Child {
    Node(usize),
    Leaf(usize),
}

pub(crate) struct Node {
    pub feature: usize,
    pub cmp: Cmp,
    pub value: f64,
    pub set: Vec<f64>,
    pub missing_true: bool,
    pub t: Child,
    pub f: Child,
}

#[derive(Clone, Copy, PartialEq)]
pub(crate) enum Agg {
    Sum,
    Average,
    Min,
    Max,
}

impl Agg {
    pub fn parse(s: &str) -> Result<Agg, Error> {
        Ok(match s {
            "SUM" => Agg::Sum,
            "AVERAGE" => Agg::Average,
            "MIN" => Agg::Min,
            "MAX" => Agg::Max,
            _ => return Err(Error::invalid(format!("unknown aggregate_function {s:?}"))),
        })
    }
}

#[derive(Clone, Copy, PartialEq)]
pub(crate) enum Post {
    None,
    Softmax,
    Logistic,
    SoftmaxZero,
    Probit,
}

impl Post {
    pub fn parse(s: &str) -> Result<Post, Error> {
        Ok(match s {
            "NONE" => Post::None,
            "SOFTMAX" => Post::Softmax,
            "LOGISTIC" => Post::Logistic,
            "SOFTMAX_ZERO" => Post::SoftmaxZero,
            "PROBIT" => Post::Probit,
            _ => return Err(Error::invalid(format!("unknown post_transform {s:?}"))),
        })
    }
    pub fn from_code(c: i64) -> Result<Post, Error> {
        Ok(match c {
            0 => Post::None,
            1 => Post::Softmax,
            2 => Post::Logistic,
            3 => Post::SoftmaxZero,
            4 => Post::Probit,
            _ => return Err(Error::invalid(format!("unknown post_transform {c}"))),
        })
    }
    /// Applies the transform to one row of scores in place.
    pub fn apply(self, row: &mut [f64]) {
        match self {
            Post::None => {}
            Post::Logistic => row.iter_mut().for_each(|v| *v = logistic(*v)),
            Post::Probit => row.iter_mut().for_each(|v| *v = probit(*v)),
            Post::Softmax => {
                let m = row.iter().copied().fold(f64::NEG_INFINITY, f64::max);
                row.iter_mut().for_each(|v| *v = (*v - m).exp());
                let s: f64 = row.iter().sum();
                row.iter_mut().for_each(|v| *v /= s);
            }
            Post::SoftmaxZero => {
                let m = row.iter().copied().fold(f64::NEG_INFINITY, f64::max);
                let e = (-m).exp();
                for v in row.iter_mut() {
                    *v = if v.abs() > 1e-7 {
                        (*v - m).exp()
                    } else {
                        *v * e
                    };
                }
                let s: f64 = row.iter().sum();
                if s == 0.0 {
                    row.iter_mut().for_each(|v| *v = 0.5);
                } else {
                    row.iter_mut().for_each(|v| *v /= s);
                }
            }
        }
    }
}

pub(crate) fn logistic(v: f64) -> f64 {
    let e = 1.0 / (1.0 + (-v.abs()).exp());
    if v < 0.0 {
        1.0 - e
    } else {
        e
    }
}

/// Winitzki's approximation of erf⁻¹, as ONNX Runtime uses for PROBIT.
fn erf_inv(x: f64) -> f64 {
    let sgn = if x < 0.0 { -1.0 } else { 1.0 };
    let x = (1.0 - x) * (1.0 + x);
    if x == 0.0 {
        return 0.0;
    }
    let l = x.ln();
    let v = 2.0 / (std::f64::consts::PI * 0.147) + 0.5 * l;
    let v2 = l / 0.147;
    sgn * (-v + (v * v - v2).sqrt()).sqrt()
}

pub(crate) fn probit(v: f64) -> f64 {
    std::f64::consts::SQRT_2 * erf_inv(2.0 * v - 1.0)
}

/// A forest: interior nodes, leaves (each a list of (target, weight)) and roots.
pub(crate) struct Forest {
    pub nodes: Vec<Node>,
    pub leaves: Vec<Vec<(usize, f64)>>,
    pub roots: Vec<Child>,
    pub n_targets: usize,
    pub n_features: usize,
}

impl Forest {
    /// Checks every reference is in range and the trees have no cycles.
    pub fn validate(&mut self) -> Result<(), Error> {
        let bad = |c: &Child, nn: usize, nl: usize| match *c {
            Child::Node(i) => i >= nn,
            Child::Leaf(i) => i >= nl,
        };
        let (nn, nl) = (self.nodes.len(), self.leaves.len());
        if self.roots.iter().any(|c| bad(c, nn, nl))
            || self
                .nodes
                .iter()
                .any(|n| bad(&n.t, nn, nl) || bad(&n.f, nn, nl))
        {
            return Err(Error::invalid(
                "a tree node refers to a node or leaf that does not exist",
            ));
        }
        if self
            .leaves
            .iter()
            .flatten()
            .any(|&(t, _)| t >= self.n_targets)
        {
            return Err(Error::invalid("a leaf's target id is out of range"));
        }
        // Each walk must end: the depth of any path is bounded by the node count.
        let mut depth = vec![usize::MAX; nn];
        fn visit(nodes: &[Node], depth: &mut [usize], i: usize, d: usize) -> Result<(), Error> {
            if d > nodes.len() {
                return Err(Error::invalid("the trees contain a cycle"));
            }
            if depth[i] != usize::MAX && depth[i] >= d {
                return Ok(());
            }
            depth[i] = d;
            for c in [nodes[i].t, nodes[i].f] {
                if let Child::Node(j) = c {
                    visit(nodes, depth, j, d + 1)?;
                }
            }
            Ok(())
        }
        for r in &self.roots {
            if let Child::Node(i) = *r {
                visit(&self.nodes, &mut depth, i, 0)?;
            }
        }
        self.n_features = self.nodes.iter().map(|n| n.feature + 1).max().unwrap_or(0);
        Ok(())
    }

    fn leaf_of(&self, root: Child, x: &[f64]) -> usize {
        let mut c = root;
        loop {
            match c {
                Child::Leaf(l) => return l,
                Child::Node(i) => {
                    let n = &self.nodes[i];
                    let v = x[n.feature];
                    let go = if v.is_nan() && n.missing_true {
                        true
                    } else {
                        match n.cmp {
                            Cmp::Leq => v <= n.value,
                            Cmp::Lt => v < n.value,
                            Cmp::Gte => v >= n.value,
                            Cmp::Gt => v > n.value,
                            Cmp::Eq => v == n.value,
                            Cmp::Neq => v != n.value,
                            Cmp::Member => n.set.contains(&v),
                        }
                    };
                    c = if go { n.t } else { n.f };
                }
            }
        }
    }

    /// Aggregated scores, `rows × n_targets`, of rows of `cols` features each;
    /// `base` is added afterwards (missing entries count as 0). Targets no leaf
    /// reached stay 0 (before base) for MIN and MAX.
    pub fn scores(
        &self,
        x: &[f64],
        rows: usize,
        cols: usize,
        agg: Agg,
        base: &[f64],
    ) -> Result<Vec<f64>, Error> {
        if cols < self.n_features {
            return Err(Error::invalid(format!(
                "the trees use {} features but the input has {cols}",
                self.n_features
            )));
        }
        let t = self.n_targets;
        let mut out = vec![0.0; rows * t];
        let mut hit = vec![false; t];
        for r in 0..rows {
            let xr = &x[r * cols..(r + 1) * cols];
            let o = &mut out[r * t..(r + 1) * t];
            hit.iter_mut().for_each(|h| *h = false);
            for &root in &self.roots {
                for &(tg, w) in &self.leaves[self.leaf_of(root, xr)] {
                    o[tg] = match (agg, hit[tg]) {
                        (_, false) => w,
                        (Agg::Sum | Agg::Average, true) => o[tg] + w,
                        (Agg::Min, true) => o[tg].min(w),
                        (Agg::Max, true) => o[tg].max(w),
                    };
                    hit[tg] = true;
                }
            }
            if agg == Agg::Average && !self.roots.is_empty() {
                o.iter_mut().for_each(|v| *v /= self.roots.len() as f64);
            }
            for (v, b) in o.iter_mut().zip(base) {
                *v += b;
            }
        }
        Ok(out)
    }
}

/// The rows and columns of a `[N, F]` (or `[F]`) feature input.
pub(crate) fn rows_cols(shape: &[i64]) -> Result<(usize, usize), Error> {
    match shape {
        [f] => Ok((1, *f as usize)),
        [n, f] => Ok((*n as usize, *f as usize)),
        [n, rest @ ..] => Ok((*n as usize, rest.iter().product::<i64>() as usize)),
        [] => Ok((1, 1)),
    }
}

/// Builds the forest of a TreeEnsembleRegressor/Classifier from its `nodes_*` and
/// `<p>_treeids/nodeids/ids/weights` attributes (`p` = "target" or "class").
pub(crate) fn legacy_forest(
    n: &crate::kernel::NodeInfo<'_, '_>,
    p: &str,
    n_targets: usize,
) -> Result<Forest, Error> {
    use std::collections::HashMap;
    let ints = |name: &str| n.ints(name).map(|v| v.unwrap_or_default());
    let floats = |name: &str| -> Result<Vec<f64>, Error> {
        if let Some(t) = n.tensor(&format!("{name}_as_tensor"))? {
            return t.to_f64_vec();
        }
        Ok(n.floats(name)?
            .unwrap_or_default()
            .into_iter()
            .map(f64::from)
            .collect())
    };
    let tree_ids = ints("nodes_treeids")?;
    let node_ids = ints("nodes_nodeids")?;
    let features = ints("nodes_featureids")?;
    let modes = n.strings("nodes_modes")?.unwrap_or_default();
    let values = floats("nodes_values")?;
    let (tn, fnn) = (ints("nodes_truenodeids")?, ints("nodes_falsenodeids")?);
    let missing = ints("nodes_missing_value_tracks_true")?;
    let count = tree_ids.len();
    if [
        node_ids.len(),
        features.len(),
        modes.len(),
        tn.len(),
        fnn.len(),
    ]
    .iter()
    .any(|&l| l != count)
        || (!values.is_empty() && values.len() != count)
        || (!missing.is_empty() && missing.len() != count)
    {
        return Err(Error::invalid("the nodes_* attributes differ in length"));
    }
    // Entry index → interior node or leaf index.
    let mut at: HashMap<(i64, i64), Child> = HashMap::new();
    let (mut ni, mut li) = (0, 0);
    for i in 0..count {
        let c = if modes[i] == "LEAF" {
            li += 1;
            Child::Leaf(li - 1)
        } else {
            ni += 1;
            Child::Node(ni - 1)
        };
        if at.insert((tree_ids[i], node_ids[i]), c).is_some() {
            return Err(Error::invalid(format!(
                "node {} of tree {} is defined twice",
                node_ids[i], tree_ids[i]
            )));
        }
    }
    let find = |t: i64, id: i64| {
        at.get(&(t, id))
            .copied()
            .ok_or_else(|| Error::invalid(format!("tree {t} has no node {id}")))
    };
    let mut nodes = Vec::with_capacity(ni);
    let mut roots: Vec<Child> = Vec::new();
    let mut seen_trees = std::collections::HashSet::new();
    for i in 0..count {
        if seen_trees.insert(tree_ids[i]) {
            roots.push(find(tree_ids[i], node_ids[i])?);
        }
        let cmp = match modes[i].as_str() {
            "LEAF" => continue,
            "BRANCH_LEQ" => Cmp::Leq,
            "BRANCH_LT" => Cmp::Lt,
            "BRANCH_GTE" => Cmp::Gte,
            "BRANCH_GT" => Cmp::Gt,
            "BRANCH_EQ" => Cmp::Eq,
            "BRANCH_NEQ" => Cmp::Neq,
            m => return Err(Error::invalid(format!("unknown node mode {m:?}"))),
        };
        nodes.push(Node {
            feature: usize::try_from(features[i])
                .map_err(|_| Error::invalid("negative feature id"))?,
            cmp,
            value: values.get(i).copied().unwrap_or(0.0),
            set: Vec::new(),
            missing_true: missing.get(i).is_some_and(|&m| m != 0),
            t: find(tree_ids[i], tn[i])?,
            f: find(tree_ids[i], fnn[i])?,
        });
    }
    let mut leaves = vec![Vec::new(); li];
    let (tt, tnid) = (
        ints(&format!("{p}_treeids"))?,
        ints(&format!("{p}_nodeids"))?,
    );
    let (tid, tw) = (ints(&format!("{p}_ids"))?, floats(&format!("{p}_weights"))?);
    if [tnid.len(), tid.len(), tw.len()]
        .iter()
        .any(|&l| l != tt.len())
    {
        return Err(Error::invalid(format!(
            "the {p}_* attributes differ in length"
        )));
    }
    for k in 0..tt.len() {
        match find(tt[k], tnid[k])? {
            Child::Leaf(l) => leaves[l].push((
                usize::try_from(tid[k]).map_err(|_| Error::invalid("negative target id"))?,
                tw[k],
            )),
            Child::Node(_) => {
                return Err(Error::invalid(format!(
                    "{p} weight on node {} of tree {}, which is not a leaf",
                    tnid[k], tt[k]
                )))
            }
        }
    }
    let mut f = Forest {
        nodes,
        leaves,
        roots,
        n_targets,
        n_features: 0,
    };
    f.validate()?;
    Ok(f)
}

/// The `base_values` (or `base_values_as_tensor`) attribute.
pub(crate) fn base_values(n: &crate::kernel::NodeInfo<'_, '_>) -> Result<Vec<f64>, Error> {
    if let Some(t) = n.tensor("base_values_as_tensor")? {
        return t.to_f64_vec();
    }
    Ok(n.floats("base_values")?
        .unwrap_or_default()
        .into_iter()
        .map(f64::from)
        .collect())
}
