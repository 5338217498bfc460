//! Ops that move, reshape, index or create tensors.

use ort_core::{Dim, ElemType, TypeInfo};

use super::{
    broadcast, dim, known, norm_axis, one, prod, same_type, tensor, unknown_dims, Cx, Rule, Shape,
};
use crate::ir::AttrValue;

pub(super) fn infer(cx: &Cx<'_>) -> Rule {
    if !cx.n.domain.is_empty() {
        return None;
    }
    let (e0, s0) = (cx.e(0), cx.s(0));
    let i64t = Some(ElemType::I64);
    match cx.op() {
        "Shape" => {
            let r = s0.as_ref().map(|s| s.len() as i64);
            let len = r.map(|r| {
                let clamp = |v: i64| if v < 0 { (v + r).max(0) } else { v.min(r) };
                let start = clamp(cx.int("start", 0));
                let end = clamp(cx.int("end", r));
                (end - start).max(0)
            });
            one(i64t, Some(vec![dim(len)]))
        }
        "Size" => one(i64t, Some(vec![])),
        "Flatten" => {
            let s = s0.and_then(|s| {
                let a = cx.int("axis", 1);
                let a = if a < 0 { a + s.len() as i64 } else { a } as usize;
                (a <= s.len()).then(|| vec![dim(prod(&s[..a])), dim(prod(&s[a..]))])
            });
            one(e0, s.or(Some(vec![Dim::Unknown, Dim::Unknown])))
        }
        "Transpose" => {
            let s = s0.map(|s| match cx.attr_ints("perm") {
                Some(p) if p.len() == s.len() => p
                    .iter()
                    .map(|&i| s.get(i as usize).cloned().unwrap_or(Dim::Unknown))
                    .collect(),
                _ => s.iter().rev().cloned().collect(),
            });
            one(e0, s)
        }
        "Reshape" => one(e0, reshape(cx, s0)),
        "Unsqueeze" | "Squeeze" => one(e0, squeeze(cx, s0)),
        "Concat" => Some((|| {
            let present: Vec<usize> = (0..cx.num_in()).filter(|&i| cx.has(i)).collect();
            let e = same_type(&present.iter().map(|&i| cx.t(i)).collect::<Vec<_>>())?;
            let mut out: Shape = None;
            for &i in &present {
                let Some(s) = cx.s(i) else {
                    out = cx.s(present[0]).map(|s| vec![Dim::Unknown; s.len()]);
                    break;
                };
                let Some(a) = norm_axis(cx.int("axis", 0), s.len()) else {
                    return Ok(vec![tensor(e, None)]);
                };
                out = Some(match out {
                    None => s,
                    Some(mut acc) if acc.len() == s.len() => {
                        acc[a] = match (acc[a].known(), s[a].known()) {
                            (Some(x), Some(y)) => Dim::Known(x + y),
                            _ => Dim::Unknown,
                        };
                        for (j, d) in s.iter().enumerate() {
                            if j != a && acc[j] == Dim::Unknown {
                                acc[j] = d.clone();
                            }
                        }
                        acc
                    }
                    Some(_) => return Err("inputs of different ranks".into()),
                });
            }
            Ok(vec![tensor(e, out)])
        })()),
        "Gather" => {
            let s = match (s0, cx.s(1)) {
                (Some(d), Some(i)) => norm_axis(cx.int("axis", 0), d.len()).map(|a| {
                    d[..a]
                        .iter()
                        .cloned()
                        .chain(i)
                        .chain(d[a + 1..].iter().cloned())
                        .collect()
                }),
                _ => None,
            };
            one(e0, s)
        }
        "GatherElements" => one(e0, cx.s(1)),
        "GatherND" => {
            let b = cx.int("batch_dims", 0) as usize;
            let s = match (s0, cx.s(1)) {
                (Some(d), Some(i)) if !i.is_empty() => i.last().and_then(|l| l.known()).map(|l| {
                    let mut o: Vec<Dim> = i[..i.len() - 1].to_vec();
                    o.extend(d.iter().skip(b + l as usize).cloned());
                    o
                }),
                _ => None,
            };
            one(e0, s)
        }
        "ScatterElements" | "ScatterND" | "Scatter" | "TensorScatter" => one(e0, s0),
        "Constant" => Some(Ok(vec![constant(cx)])),
        "ConstantOfShape" => {
            let e = match cx.n.attr("value") {
                Some(AttrValue::Tensor(t)) => t.elem(),
                _ => ElemType::F32,
            };
            let s = cx.ints(0).map(|v| known(&v)).or_else(|| {
                s0.as_ref()
                    .and_then(|s| s.first().and_then(|d| d.known()))
                    .map(|r| vec![Dim::Unknown; r as usize])
            });
            one(Some(e), s)
        }
        "Range" => {
            let n = match (cx.floats(0), cx.floats(1), cx.floats(2)) {
                (Some(a), Some(b), Some(d)) if a.len() == 1 && b.len() == 1 && d.len() == 1 => {
                    (d[0] != 0.0).then(|| (((b[0] - a[0]) / d[0]).ceil() as i64).max(0))
                }
                _ => None,
            };
            one(e0, Some(vec![dim(n)]))
        }
        "Expand" => {
            let s = match cx.ints(1) {
                Some(v) => broadcast(&[s0, Some(known(&v))]).ok().flatten(),
                None => cx
                    .s(1)
                    .and_then(|s| s.first().and_then(|d| d.known()))
                    .map(|r| {
                        let r = (r as usize).max(s0.as_ref().map_or(0, |s| s.len()));
                        vec![Dim::Unknown; r]
                    }),
            };
            one(e0, s)
        }
        "Tile" => {
            let s = match (s0, cx.ints(1)) {
                (Some(s), Some(r)) if r.len() == s.len() => Some(
                    s.iter()
                        .zip(&r)
                        .map(|(d, &k)| dim(d.known().map(|v| v * k)))
                        .collect(),
                ),
                (s, _) => unknown_dims(s.map(|s| s.len())),
            };
            one(e0, s)
        }
        "Slice" => one(e0, slice(cx, s0)),
        "Split" => Some(Ok(split(cx, e0, s0))),
        "Pad" => one(e0, pad(cx, s0)),
        "Trilu" | "ReverseSequence" => one(e0, s0),
        "EyeLike" => one(cx.dtype("dtype").or(e0), s0),
        "OneHot" => {
            let s = match (s0, cx.ints(1)) {
                (Some(s), depth) => {
                    let r = s.len() + 1;
                    norm_axis(cx.int("axis", -1), r).map(|a| {
                        let mut o = s.clone();
                        o.insert(a, dim(depth.and_then(|d| d.first().copied())));
                        o
                    })
                }
                _ => None,
            };
            one(cx.e(2), s)
        }
        "Compress" => {
            let s = match (s0, cx.opt_int("axis")) {
                (Some(s), Some(a)) => norm_axis(a, s.len()).map(|a| {
                    let mut o = s.clone();
                    o[a] = Dim::Unknown;
                    o
                }),
                _ => Some(vec![Dim::Unknown]),
            };
            one(e0, s)
        }
        "NonZero" => one(
            i64t,
            Some(vec![dim(cx.rank(0).map(|r| r as i64)), Dim::Unknown]),
        ),
        "Unique" => {
            let y = match (s0, cx.opt_int("axis")) {
                (Some(s), Some(a)) => norm_axis(a, s.len()).map(|a| {
                    let mut o = s.clone();
                    o[a] = Dim::Unknown;
                    o
                }),
                _ => Some(vec![Dim::Unknown]),
            };
            let v = Some(vec![Dim::Unknown]);
            Some(Ok(vec![
                tensor(e0, y),
                tensor(i64t, v.clone()),
                tensor(i64t, v.clone()),
                tensor(i64t, v),
            ]))
        }
        "TopK" => {
            let k = if cx.opset >= 10 {
                cx.ints(1).and_then(|v| v.first().copied())
            } else {
                cx.opt_int("k")
            };
            let s = s0.and_then(|s| {
                norm_axis(cx.int("axis", -1), s.len()).map(|a| {
                    let mut o = s.clone();
                    o[a] = dim(k);
                    o
                })
            });
            Some(Ok(vec![tensor(e0, s.clone()), tensor(i64t, s)]))
        }
        "SpaceToDepth" | "DepthToSpace" => {
            let b = cx.int("blocksize", 1);
            let s = s0.filter(|s| s.len() == 4).map(|s| {
                let (c, h, w) = (s[1].known(), s[2].known(), s[3].known());
                if cx.op() == "SpaceToDepth" {
                    vec![
                        s[0].clone(),
                        dim(c.map(|c| c * b * b)),
                        dim(h.map(|h| h / b)),
                        dim(w.map(|w| w / b)),
                    ]
                } else {
                    vec![
                        s[0].clone(),
                        dim(c.map(|c| c / (b * b))),
                        dim(h.map(|h| h * b)),
                        dim(w.map(|w| w * b)),
                    ]
                }
            });
            one(e0, s)
        }
        "CenterCropPad" => {
            let s = match (s0, cx.ints(1)) {
                (Some(s), Some(v)) => {
                    let axes = cx
                        .attr_ints("axes")
                        .unwrap_or_else(|| (0..v.len() as i64).collect());
                    let mut o = s.clone();
                    for (a, &n) in axes.iter().zip(&v) {
                        if let Some(a) = norm_axis(*a, s.len()) {
                            o[a] = Dim::Known(n);
                        }
                    }
                    Some(o)
                }
                (s, _) => unknown_dims(s.map(|s| s.len())),
            };
            one(e0, s)
        }
        _ => None,
    }
}

fn constant(cx: &Cx<'_>) -> TypeInfo {
    match cx.n.attrs.first().map(|a| (a.name.as_str(), &a.value)) {
        Some(("value", AttrValue::Tensor(t))) => TypeInfo::tensor(t.elem(), Some(known(t.shape()))),
        Some(("value_float", _)) => TypeInfo::tensor(ElemType::F32, Some(vec![])),
        Some(("value_int", _)) => TypeInfo::tensor(ElemType::I64, Some(vec![])),
        Some(("value_floats", AttrValue::Floats(v))) => {
            TypeInfo::tensor(ElemType::F32, Some(vec![Dim::Known(v.len() as i64)]))
        }
        Some(("value_ints", AttrValue::Ints(v))) => {
            TypeInfo::tensor(ElemType::I64, Some(vec![Dim::Known(v.len() as i64)]))
        }
        Some(("value_string", _)) => TypeInfo::tensor(ElemType::String, Some(vec![])),
        Some(("value_strings", AttrValue::Strings(v))) => {
            TypeInfo::tensor(ElemType::String, Some(vec![Dim::Known(v.len() as i64)]))
        }
        Some(("sparse_value", _)) => TypeInfo::Unknown,
        _ => TypeInfo::Unknown,
    }
}

fn reshape(cx: &Cx<'_>, s0: Shape) -> Shape {
    let Some(t) = cx.ints(1) else {
        return cx
            .s(1)
            .and_then(|s| s.first().and_then(|d| d.known()))
            .map(|r| vec![Dim::Unknown; r as usize]);
    };
    let allowzero = cx.int("allowzero", 0) != 0;
    let mut dims: Vec<Dim> = t
        .iter()
        .enumerate()
        .map(|(i, &v)| match v {
            0 if !allowzero => s0
                .as_ref()
                .and_then(|s| s.get(i).cloned())
                .unwrap_or(Dim::Unknown),
            -1 => Dim::Unknown,
            v => Dim::Known(v),
        })
        .collect();
    if let (Some(pos), Some(total)) = (
        t.iter().position(|&v| v == -1),
        s0.as_ref().and_then(|s| prod(s)),
    ) {
        let rest: Option<i64> = dims
            .iter()
            .enumerate()
            .filter(|(i, _)| *i != pos)
            .try_fold(1i64, |a, (_, d)| d.known().map(|v| a * v));
        if let Some(r) = rest.filter(|&r| r > 0) {
            dims[pos] = Dim::Known(total / r);
        }
    }
    Some(dims)
}

fn squeeze(cx: &Cx<'_>, s0: Shape) -> Shape {
    let axes = if cx.opset >= 13 {
        if cx.has(1) {
            cx.ints(1)
        } else {
            None
        }
    } else {
        cx.attr_ints("axes")
    };
    let s = s0?;
    match axes {
        Some(axes) if cx.op() == "Unsqueeze" => {
            let r = s.len() + axes.len();
            let ax: Vec<usize> = axes.iter().filter_map(|&a| norm_axis(a, r)).collect();
            let mut it = s.into_iter();
            Some(
                (0..r)
                    .map(|i| {
                        if ax.contains(&i) {
                            Dim::Known(1)
                        } else {
                            it.next().unwrap_or(Dim::Unknown)
                        }
                    })
                    .collect(),
            )
        }
        Some(axes) => {
            let ax: Vec<usize> = axes.iter().filter_map(|&a| norm_axis(a, s.len())).collect();
            Some(
                s.into_iter()
                    .enumerate()
                    .filter(|(i, _)| !ax.contains(i))
                    .map(|(_, d)| d)
                    .collect(),
            )
        }
        None if cx.op() == "Squeeze" && !cx.has(1) && cx.n.attr("axes").is_none() => s
            .iter()
            .all(|d| d.known().is_some())
            .then(|| s.into_iter().filter(|d| d.known() != Some(1)).collect()),
        None if cx.op() == "Unsqueeze" => cx
            .s(1)
            .and_then(|a| a.first().and_then(|d| d.known()))
            .map(|k| vec![Dim::Unknown; s.len() + k as usize]),
        _ => None,
    }
}

fn slice(cx: &Cx<'_>, s0: Shape) -> Shape {
    let s = s0?;
    let r = s.len();
    let (starts, ends, axes, steps) = if cx.opset < 10 {
        (
            cx.attr_ints("starts"),
            cx.attr_ints("ends"),
            cx.attr_ints("axes"),
            None,
        )
    } else {
        let opt = |i: usize| if cx.has(i) { cx.ints(i) } else { None };
        (
            cx.ints(1),
            cx.ints(2),
            if cx.has(3) { cx.ints(3) } else { None },
            opt(4),
        )
    };
    let (Some(starts), Some(ends)) = (starts, ends) else {
        return Some(vec![Dim::Unknown; r]);
    };
    let axes_known = cx.opset < 10 || !cx.has(3) || axes.is_some();
    let steps_known = cx.opset < 10 || !cx.has(4) || steps.is_some();
    if !axes_known || !steps_known {
        return Some(vec![Dim::Unknown; r]);
    }
    let axes = axes.unwrap_or_else(|| (0..starts.len() as i64).collect());
    let steps = steps.unwrap_or_else(|| vec![1; starts.len()]);
    let mut out = s.clone();
    for (k, &a) in axes.iter().enumerate() {
        let a = norm_axis(a, r)?;
        let (Some(&st), Some(&en), Some(&step)) = (starts.get(k), ends.get(k), steps.get(k)) else {
            return None;
        };
        let Some(d) = s[a].known() else {
            out[a] = Dim::Unknown;
            continue;
        };
        if step == 0 {
            return None;
        }
        let clampi = |v: i64, lo: i64, hi: i64| v.clamp(lo, hi);
        let norm = |v: i64| if v < 0 { v.saturating_add(d) } else { v };
        let n = if step > 0 {
            let (b, e) = (clampi(norm(st), 0, d), clampi(norm(en), 0, d));
            ((e - b) + step - 1).div_euclid(step).max(0)
        } else {
            let (b, e) = (clampi(norm(st), -1, d - 1), clampi(norm(en), -1, d - 1));
            ((b - e) + (-step) - 1).div_euclid(-step).max(0)
        };
        out[a] = Dim::Known(n);
    }
    Some(out)
}

fn split(cx: &Cx<'_>, e0: Option<ElemType>, s0: Shape) -> Vec<TypeInfo> {
    let n = cx.num_out();
    let unknown = || {
        (0..n)
            .map(|_| tensor(e0, unknown_dims(s0.as_ref().map(|s| s.len()))))
            .collect()
    };
    let Some(s) = s0.clone() else {
        return unknown();
    };
    let Some(a) = norm_axis(cx.int("axis", 0), s.len()) else {
        return unknown();
    };
    let sizes: Option<Vec<i64>> = if cx.opset >= 13 && cx.has(1) {
        cx.ints(1)
    } else if cx.opset < 13 && cx.n.attr("split").is_some() {
        cx.attr_ints("split")
    } else if cx.opset < 11 && cx.has(1) {
        cx.ints(1)
    } else {
        s[a].known().map(|d| {
            let parts = cx.opt_int("num_outputs").unwrap_or(n as i64).max(1);
            let chunk = (d + parts - 1) / parts;
            (0..parts)
                .map(|i| (d - i * chunk).clamp(0, chunk))
                .collect()
        })
    };
    match sizes {
        Some(sz) if sz.len() == n => sz
            .iter()
            .map(|&k| {
                let mut o = s.clone();
                o[a] = Dim::Known(k);
                tensor(e0, Some(o))
            })
            .collect(),
        _ => (0..n)
            .map(|_| {
                let mut o = s.clone();
                o[a] = Dim::Unknown;
                tensor(e0, Some(o))
            })
            .collect(),
    }
}

fn pad(cx: &Cx<'_>, s0: Shape) -> Shape {
    let s = s0?;
    let r = s.len();
    let pads = if cx.opset < 11 {
        cx.attr_ints("pads").or_else(|| cx.attr_ints("paddings"))
    } else {
        cx.ints(1)
    };
    let Some(pads) = pads else {
        return Some(vec![Dim::Unknown; r]);
    };
    let axes: Vec<usize> = if cx.opset >= 18 && cx.has(3) {
        match cx.ints(3) {
            Some(a) => a.iter().filter_map(|&a| norm_axis(a, r)).collect(),
            None => return Some(vec![Dim::Unknown; r]),
        }
    } else {
        (0..r).collect()
    };
    let k = axes.len();
    if pads.len() != 2 * k {
        return None;
    }
    let mut out = s.clone();
    for (j, &a) in axes.iter().enumerate() {
        out[a] = dim(s[a].known().map(|d| d + pads[j] + pads[j + k]));
    }
    Some(out)
}
