//! Symbolic reasoning about dims that a graph computes at run time.
//!
//! Exports of dynamic-shape models build Reshape targets from
//! `Concat(Unsqueeze(Gather(Shape(x), k)), …)`. Shape inference only sees an
//! unknown vector there, so a fusion could never prove that such a Reshape just
//! splits or merges the last axis. [`elements`] names each element of such a
//! vector (a constant, or "dim k of value x"), and [`same_dim`] decides whether
//! two named dims are equal by following ops that carry a dim through unchanged.

use ort_core::kit::Attributes;
use ort_core::Dim;
use ort_graph::Graph;

use crate::edit::{constant, is, rank, Uses};
use crate::FUSED_DOMAIN;

/// One element of a computed shape vector.
#[derive(Clone, Debug, PartialEq)]
pub enum DimExpr {
    Known(i64),
    /// Dim `.1` of value `.0`.
    Of(String, usize),
}

/// Deep enough for the Shape → Gather → Unsqueeze → Concat chains of real exports.
const DEPTH: usize = 8;

/// The elements of the int64 vector (or scalar) `v` in order, when every one of
/// them can be named. Only reshaping ops and Concat along axis 0 are followed,
/// so the flat element order is what is tracked.
pub fn elements(g: &Graph, uses: &Uses, v: &str) -> Option<Vec<DimExpr>> {
    elements_at(g, uses, v, DEPTH).map(|(e, _)| e)
}

/// The elements and the rank of `v`.
fn elements_at(g: &Graph, uses: &Uses, v: &str, depth: usize) -> Option<(Vec<DimExpr>, usize)> {
    if let Some(t) = constant(g, v) {
        if t.elem() != ort_core::ElemType::I64 || t.rank() > 1 {
            return None;
        }
        let e = t.to_i64_vec().ok()?.into_iter().map(DimExpr::Known);
        return Some((e.collect(), t.rank()));
    }
    let n = &g.nodes[uses.producer(v)?];
    let depth = depth.checked_sub(1)?;
    let first = || elements_at(g, uses, &n.inputs[0], depth);
    if is(n, "Shape") {
        let x = &n.inputs[0];
        let r = rank(g, x)? as i64;
        let clamp = |a: i64| if a < 0 { (a + r).max(0) } else { a.min(r) };
        let start = clamp(n.attr_opt_int("start").ok().flatten().unwrap_or(0));
        let end = clamp(n.attr_opt_int("end").ok().flatten().unwrap_or(r));
        let dims = (start..end.max(start)).map(|k| DimExpr::Of(x.clone(), k as usize));
        return Some((dims.collect(), 1));
    }
    if is(n, "Gather") && n.attr_opt_int("axis").ok().flatten().unwrap_or(0) == 0 {
        let (data, r) = first()?;
        let idx = constant(g, &n.inputs[1])?;
        if r != 1 || idx.rank() > 1 {
            return None;
        }
        let len = data.len() as i64;
        let picked = idx.to_i64_vec().ok()?.into_iter().map(|k| {
            let k = if k < 0 { k + len } else { k };
            (0..len).contains(&k).then(|| data[k as usize].clone())
        });
        return Some((picked.collect::<Option<Vec<_>>>()?, idx.rank()));
    }
    if is(n, "Unsqueeze") || is(n, "Squeeze") || is(n, "Reshape") {
        // The elements stay in order; the result is a vector when its rank is 1.
        let (e, _) = first()?;
        let r = rank(g, &n.outputs[0]).or((is(n, "Unsqueeze") && e.len() == 1).then_some(1))?;
        return Some((e, r));
    }
    if is(n, "Concat") && matches!(n.attr_opt_int("axis").ok().flatten(), Some(0 | -1)) {
        let mut all = Vec::new();
        for x in &n.inputs {
            let (e, r) = elements_at(g, uses, x, depth)?;
            if r != 1 {
                return None;
            }
            all.extend(e);
        }
        return Some((all, 1));
    }
    if is(n, "Slice") && n.inputs.len() >= 3 {
        let (e, r) = first()?;
        let c = |k: usize| -> Option<Option<i64>> {
            match n.inputs.get(k).filter(|s| !s.is_empty()) {
                None => Some(None),
                Some(s) => match constant(g, s)?.to_i64_vec().ok()?.as_slice() {
                    [x] => Some(Some(*x)),
                    _ => None,
                },
            }
        };
        let (start, end) = (c(1)??, c(2)??);
        if r != 1 || !matches!(c(3)?, None | Some(0 | -1)) || !matches!(c(4)?, None | Some(1)) {
            return None;
        }
        let len = e.len() as i64;
        let clamp = |a: i64| if a < 0 { (a + len).max(0) } else { a.min(len) };
        let (s, t) = (clamp(start) as usize, clamp(end) as usize);
        return Some((e[s..t.max(s)].to_vec(), 1));
    }
    None
}

/// True when `a` is provably the same number as dim `axis` of `v` at run time.
pub fn is_dim(g: &Graph, uses: &Uses, a: &DimExpr, v: &str, axis: usize) -> bool {
    match a {
        DimExpr::Of(x, k) => same_dim(g, uses, (x, *k), (v, axis)),
        DimExpr::Known(k) => declared(g, v, axis) == Some(Dim::Known(*k)),
    }
}

/// True when dim `a.1` of value `a.0` always equals dim `b.1` of `b.0`: they
/// trace back to the same dim of the same value, or the declared types give them
/// the same number or the same symbolic name.
pub fn same_dim(g: &Graph, uses: &Uses, a: (&str, usize), b: (&str, usize)) -> bool {
    let (ra, rb) = (root(g, uses, a), root(g, uses, b));
    if ra == rb {
        return true;
    }
    let equal = |x: &(String, usize), y: &(String, usize)| match (
        declared(g, &x.0, x.1),
        declared(g, &y.0, y.1),
    ) {
        (Some(Dim::Known(p)), Some(Dim::Known(q))) => p == q,
        (Some(Dim::Symbolic(p)), Some(Dim::Symbolic(q))) => p == q,
        _ => false,
    };
    let own = |(v, k): (&str, usize)| (v.to_string(), k);
    equal(&ra, &rb) || equal(&own(a), &own(b))
}

/// A dim as the value's declared or inferred type gives it.
pub fn declared(g: &Graph, v: &str, axis: usize) -> Option<Dim> {
    if let Some(t) = constant(g, v) {
        return t.shape().get(axis).map(|&d| Dim::Known(d));
    }
    match g.types.get(v) {
        Some(ort_core::TypeInfo::Tensor { shape, .. }) => {
            shape.as_ref().into_option()?.get(axis).cloned()
        }
        _ => None,
    }
}

/// Follows dim `axis` of `v` back through ops whose output keeps that dim of an
/// input unchanged, to the first value where it was made.
fn root(g: &Graph, uses: &Uses, (v, axis): (&str, usize)) -> (String, usize) {
    let (mut v, mut axis) = (v.to_string(), axis);
    for _ in 0..64 {
        let Some(p) = uses.producer(&v) else { break };
        match carried(g, &g.nodes[p], axis) {
            Some((x, k)) => (v, axis) = (x, k),
            None => break,
        }
    }
    (v, axis)
}

/// The input dim that output dim `axis` of `n` (its first output, or any for
/// Split and SkipLayerNormalization) is a copy of.
fn carried(g: &Graph, n: &ort_graph::Node, axis: usize) -> Option<(String, usize)> {
    let ours = n.domain.is_empty() || n.domain == "ai.onnx" || n.domain == FUSED_DOMAIN;
    if !ours {
        return None;
    }
    let x = n.inputs.first()?.clone();
    const SAME_SHAPE: &[&str] = &[
        "Relu",
        "Gelu",
        "Sigmoid",
        "Tanh",
        "Erf",
        "Cast",
        "Identity",
        "Softmax",
        "Neg",
        "Sqrt",
        "Exp",
        "LayerNormalization",
        "SkipLayerNormalization",
    ];
    if SAME_SHAPE.contains(&n.op_type.as_str()) {
        return Some((x, axis));
    }
    if is(n, "Split") {
        let r = rank(g, &x)? as i64;
        let a = n.attr_opt_int("axis").ok().flatten().unwrap_or(0);
        return (a.rem_euclid(r.max(1)) != axis as i64).then_some((x, axis));
    }
    if is(n, "Transpose") {
        let perm = n.attr_ints("perm").ok().flatten()?;
        return perm.get(axis).map(|&k| (x, k as usize));
    }
    // A matrix product by a 2-D B keeps A's batch and row dims (a bias of rank
    // ≤ 1 cannot widen them).
    let matmul = matches!(n.op_type.as_str(), "MatMul" | "FusedMatMul");
    if matmul && n.attr_opt_int("transA").ok().flatten().unwrap_or(0) == 0 {
        let ra = rank(g, &x)?;
        let bias_ok = n
            .inputs
            .get(2)
            .is_none_or(|b| b.is_empty() || rank(g, b).is_some_and(|r| r <= 1));
        if ra >= 2 && rank(g, &n.inputs[1])? == 2 && bias_ok && axis + 1 < ra {
            return Some((x, axis));
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::edit::{attr_int, node};
    use ort_core::{ElemType, Tensor, TypeInfo};
    use ort_graph::ValueDecl;

    #[test]
    fn shape_chains_and_split_dims() {
        let ty = |d: Vec<Dim>| TypeInfo::tensor(ElemType::F32, Some(d));
        let x_ty = ty(vec![Dim::Symbolic("b".into()), Dim::Unknown, Dim::Known(6)]);
        let i64s = |v: Vec<i64>| Tensor::from_vec(&[v.len() as i64], v).unwrap();
        let mut g = Graph {
            inputs: vec![ValueDecl {
                name: "x".into(),
                ty: x_ty.clone(),
            }],
            nodes: vec![
                node(
                    "Split",
                    "",
                    "split",
                    &["x"],
                    &["a", "c"],
                    vec![attr_int("axis", 2)],
                ),
                node("Shape", "", "sh", &["a"], &["sh"], vec![]),
                // Shape(a)[-2:]: dims 1 and 2 of a.
                node("Slice", "", "sl", &["sh", "m2", "big"], &["sl"], vec![]),
                node(
                    "Gather",
                    "",
                    "g",
                    &["sh", "last"],
                    &["g"],
                    vec![attr_int("axis", 0)],
                ),
                node(
                    "Concat",
                    "",
                    "cat",
                    &["sl", "g"],
                    &["cat"],
                    vec![attr_int("axis", 0)],
                ),
            ],
            initializers: vec![
                ("m2".into(), i64s(vec![-2])),
                ("big".into(), i64s(vec![i64::MAX])),
                ("last".into(), i64s(vec![-1])),
            ],
            ..Graph::default()
        };
        g.types.insert("x".into(), x_ty);
        g.types.insert(
            "a".into(),
            ty(vec![Dim::Unknown, Dim::Unknown, Dim::Known(3)]),
        );
        let uses = Uses::new(&g);
        let of = |k| DimExpr::Of("a".into(), k);
        assert_eq!(elements(&g, &uses, "cat"), Some(vec![of(1), of(2), of(2)]));
        // Split along axis 2 keeps dims 0 and 1 of x, not dim 2.
        assert!(same_dim(&g, &uses, ("a", 1), ("c", 1)));
        assert!(same_dim(&g, &uses, ("a", 0), ("x", 0)));
        assert!(!same_dim(&g, &uses, ("a", 2), ("x", 2)));
        assert!(!same_dim(&g, &uses, ("a", 0), ("a", 1)));
        assert!(is_dim(&g, &uses, &DimExpr::Known(3), "a", 2));
    }
}
