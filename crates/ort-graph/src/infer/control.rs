//! Control flow: outputs come from the body graphs (already inferred, since subgraphs
//! are inferred before the node that owns them).

use ort_core::abi::RBox;
use ort_core::{Dim, TypeInfo};

use super::{elem, norm_axis, shape, tensor, Cx, Rule, Shape};
use crate::ir::Graph;

/// What a body graph knows of its `i`-th output.
fn body_out(g: &Graph, i: usize) -> TypeInfo {
    let Some(o) = g.outputs.get(i) else {
        return TypeInfo::Unknown;
    };
    match g.types.get(&o.name) {
        Some(t) if !matches!(t, TypeInfo::Unknown) => t.clone(),
        _ => o.ty.clone(),
    }
}

/// A type both `a` and `b` fit.
fn join(a: &TypeInfo, b: &TypeInfo) -> TypeInfo {
    match (a, b) {
        (TypeInfo::Tensor { .. }, TypeInfo::Tensor { .. }) if elem(a) == elem(b) => {
            let s = match (shape(a), shape(b)) {
                (Some(x), Some(y)) if x.len() == y.len() => Some(
                    x.iter()
                        .zip(&y)
                        .map(|(p, q)| if p == q { p.clone() } else { Dim::Unknown })
                        .collect(),
                ),
                _ => None,
            };
            tensor(elem(a), s)
        }
        (TypeInfo::Unknown, _) | (_, TypeInfo::Unknown) => TypeInfo::Unknown,
        _ if a == b => a.clone(),
        _ => TypeInfo::Unknown,
    }
}

/// A tensor type with `d` inserted at `axis` (scan outputs).
fn stacked(t: &TypeInfo, axis: usize, d: Dim) -> TypeInfo {
    let s: Shape = shape(t).and_then(|mut s| {
        (axis <= s.len()).then(|| {
            s.insert(axis, d);
            s
        })
    });
    tensor(elem(t), s)
}

pub(super) fn infer(cx: &Cx<'_>) -> Rule {
    if !cx.n.domain.is_empty() {
        return None;
    }
    Some(Ok(match cx.op() {
        "If" => {
            let (Some(t), e) = (cx.graph_attr("then_branch"), cx.graph_attr("else_branch")) else {
                return Some(Ok(vec![]));
            };
            (0..t.outputs.len())
                .map(|i| {
                    let a = body_out(t, i);
                    match e {
                        Some(e) => join(&a, &body_out(e, i)),
                        None => a,
                    }
                })
                .collect()
        }
        "Loop" => {
            let Some(b) = cx.graph_attr("body") else {
                return Some(Ok(vec![]));
            };
            let carried = cx.num_in().saturating_sub(2);
            let trips = cx.ints(0).and_then(|v| v.first().copied());
            // A loop without a condition input runs exactly `M` times.
            let fixed = (!cx.has(1)).then_some(trips).flatten();
            (0..cx.num_out())
                .map(|i| {
                    let out = body_out(b, i + 1);
                    if i < carried {
                        let init = cx.t(i + 2);
                        if matches!(init, TypeInfo::Tensor { .. }) {
                            join(init, &out)
                        } else {
                            out
                        }
                    } else {
                        stacked(&out, 0, fixed.map_or(Dim::Unknown, Dim::Known))
                    }
                })
                .collect()
        }
        "Scan" => {
            let Some(b) = cx.graph_attr("body") else {
                return Some(Ok(vec![]));
            };
            if cx.opset < 9 {
                return Some(Ok((0..cx.num_out())
                    .map(|i| tensor(elem(&body_out(b, i)), None))
                    .collect()));
            }
            let m = cx.int("num_scan_inputs", 0) as usize;
            let n = cx.num_in().saturating_sub(m);
            let in_axes = cx.attr_ints("scan_input_axes").unwrap_or(vec![0; m]);
            let len = (0..m)
                .find_map(|j| {
                    let s = cx.s(n + j)?;
                    let a = norm_axis(*in_axes.get(j)?, s.len())?;
                    s[a].known()
                })
                .map_or(Dim::Unknown, Dim::Known);
            let out_axes = cx.attr_ints("scan_output_axes");
            (0..cx.num_out())
                .map(|i| {
                    let out = body_out(b, i);
                    if i < n {
                        return out;
                    }
                    let k = i - n;
                    let r = shape(&out).map_or(0, |s| s.len()) + 1;
                    let a = out_axes
                        .as_ref()
                        .and_then(|v| v.get(k).copied())
                        .unwrap_or(0);
                    match norm_axis(a, r) {
                        Some(a) => stacked(&out, a, len.clone()),
                        None => tensor(elem(&out), None),
                    }
                })
                .collect()
        }
        "SequenceMap" => {
            let Some(b) = cx.graph_attr("body") else {
                return Some(Ok(vec![]));
            };
            (0..cx.num_out())
                .map(|i| {
                    let t = body_out(b, i);
                    let s = shape(&t).map(|s| {
                        s.into_iter()
                            .map(|d| if d.known().is_some() { d } else { Dim::Unknown })
                            .collect()
                    });
                    match elem(&t) {
                        Some(e) => TypeInfo::Sequence(RBox::new(tensor(Some(e), s))),
                        None => TypeInfo::Unknown,
                    }
                })
                .collect()
        }
        _ => return None,
    }))
}
