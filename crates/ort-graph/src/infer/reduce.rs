//! Reductions and scans along axes.

use ort_core::{Dim, ElemType};

use super::{norm_axis, one, Cx, Rule};

const REDUCE: &[&str] = &[
    "ReduceSum",
    "ReduceMean",
    "ReduceMax",
    "ReduceMin",
    "ReduceProd",
    "ReduceL1",
    "ReduceL2",
    "ReduceLogSum",
    "ReduceLogSumExp",
    "ReduceSumSquare",
    "ArgMax",
    "ArgMin",
];

pub(super) fn infer(cx: &Cx<'_>) -> Rule {
    if !cx.n.domain.is_empty() {
        return None;
    }
    let op = cx.op();
    if matches!(op, "CumSum" | "CumProd") {
        return one(cx.e(0), cx.s(0));
    }
    if !REDUCE.contains(&op) {
        return None;
    }
    let arg = op.starts_with("Arg");
    let keep = cx.int("keepdims", 1) != 0;
    let axes_from_input = op == "ReduceSum" && cx.opset >= 13 || !arg && cx.opset >= 18;
    let axes: Option<Vec<i64>> = if arg {
        Some(vec![cx.int("axis", 0)])
    } else if axes_from_input {
        if cx.has(1) {
            cx.ints(1)
        } else {
            Some(vec![])
        }
    } else {
        Some(cx.attr_ints("axes").unwrap_or_default())
    };
    let e = if arg { Some(ElemType::I64) } else { cx.e(0) };
    let noop = cx.int("noop_with_empty_axes", 0) != 0;
    let s = match (cx.s(0), axes) {
        (Some(s), Some(axes)) => {
            let all = axes.is_empty() && !noop;
            let ax: Vec<usize> = axes.iter().filter_map(|&a| norm_axis(a, s.len())).collect();
            Some(
                s.into_iter()
                    .enumerate()
                    .filter_map(|(i, d)| {
                        if all || ax.contains(&i) {
                            keep.then_some(Dim::Known(1))
                        } else {
                            Some(d)
                        }
                    })
                    .collect(),
            )
        }
        // Unknown axes: the rank is still known when dims are kept.
        (Some(s), None) if keep => Some(vec![Dim::Unknown; s.len()]),
        _ => None,
    };
    one(e, s)
}
