//! Sequences and optionals.

use ort_core::abi::RBox;
use ort_core::{Dim, ElemType, TypeInfo};

use super::{elem, norm_axis, shape, tensor, Cx, Rule, Shape};
use crate::ir::AttrValue;

fn seq(t: TypeInfo) -> TypeInfo {
    TypeInfo::Sequence(RBox::new(t))
}

/// The shape two tensors both fit: equal dims kept, differing ones unknown.
fn join(a: Shape, b: Shape) -> Shape {
    let (a, b) = (a?, b?);
    (a.len() == b.len()).then(|| {
        a.iter()
            .zip(&b)
            .map(|(x, y)| if x == y { x.clone() } else { Dim::Unknown })
            .collect()
    })
}

fn inner(t: &TypeInfo) -> TypeInfo {
    match t {
        TypeInfo::Sequence(i) | TypeInfo::Optional(i) => (**i).clone(),
        _ => TypeInfo::Unknown,
    }
}

pub(super) fn infer(cx: &Cx<'_>) -> Rule {
    if !cx.n.domain.is_empty() {
        return None;
    }
    let bool_scalar = || Some(Ok(vec![tensor(Some(ElemType::Bool), Some(vec![]))]));
    Some(Ok(vec![match cx.op() {
        "SequenceEmpty" => seq(tensor(cx.dtype("dtype").or(Some(ElemType::F32)), None)),
        "SequenceConstruct" => {
            let present: Vec<usize> = (0..cx.num_in()).filter(|&i| cx.has(i)).collect();
            let s = present
                .iter()
                .skip(1)
                .fold(present.first().and_then(|&i| cx.s(i)), |acc, &i| {
                    join(acc, cx.s(i))
                });
            let e = present.iter().find_map(|&i| cx.e(i));
            if e.is_none() {
                return Some(Ok(vec![]));
            }
            seq(tensor(e, s))
        }
        "SequenceInsert" => {
            let i = inner(cx.t(0));
            let e = elem(&i).or(cx.e(1));
            let s = if matches!(i, TypeInfo::Unknown) {
                None
            } else {
                join(shape(&i), cx.s(1))
            };
            if e.is_none() {
                return Some(Ok(vec![]));
            }
            seq(tensor(e, s))
        }
        "SequenceErase" => cx.t(0).clone(),
        "SequenceAt" => inner(cx.t(0)),
        "SequenceLength" => tensor(Some(ElemType::I64), Some(vec![])),
        "SplitToSequence" => {
            let s = cx.s(0).and_then(|s| {
                let a = norm_axis(cx.int("axis", 0), s.len())?;
                let mut o = s.clone();
                if !cx.has(1) {
                    if cx.int("keepdims", 1) == 0 {
                        o.remove(a);
                    } else {
                        o[a] = Dim::Known(1);
                    }
                } else if cx.rank(1) == Some(0) {
                    o[a] = Dim::Unknown;
                    // A scalar split of a known axis gives equal parts except the last.
                    if let (Some(d), Some(k)) =
                        (s[a].known(), cx.ints(1).and_then(|v| v.first().copied()))
                    {
                        if k > 0 && d % k == 0 {
                            o[a] = Dim::Known(k);
                        }
                    }
                } else {
                    o[a] = Dim::Unknown;
                }
                Some(o)
            });
            seq(tensor(cx.e(0), s))
        }
        "ConcatFromSequence" => {
            let i = inner(cx.t(0));
            let new_axis = cx.int("new_axis", 0) != 0;
            let s = shape(&i).and_then(|s| {
                let r = s.len() + new_axis as usize;
                let a = norm_axis(cx.int("axis", 0), r)?;
                let mut o = s.clone();
                if new_axis {
                    o.insert(a, Dim::Unknown);
                } else {
                    o[a] = Dim::Unknown;
                }
                Some(o)
            });
            tensor(elem(&i), s)
        }
        "Optional" => match (cx.has(0), cx.n.attr("type")) {
            (true, _) => TypeInfo::Optional(RBox::new(cx.t(0).clone())),
            (false, Some(AttrValue::Type(t))) => TypeInfo::Optional(RBox::new(t.clone())),
            _ => return Some(Ok(vec![])),
        },
        "OptionalHasElement" => return bool_scalar(),
        "OptionalGetElement" => match cx.t(0) {
            TypeInfo::Optional(i) => (**i).clone(),
            t => t.clone(),
        },
        _ => return None,
    }]))
}
