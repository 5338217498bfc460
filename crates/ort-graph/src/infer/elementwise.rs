//! Elementwise ops: same shape as the input, or the inputs broadcast together.

use ort_core::ElemType;

use super::{broadcast, one, same_type, Cx, Rule};

/// Ops whose output has input 0's type and shape.
const SAME: &[&str] = &[
    "Relu",
    "Tanh",
    "Sigmoid",
    "Erf",
    "Abs",
    "Neg",
    "Exp",
    "Log",
    "Sqrt",
    "Reciprocal",
    "Floor",
    "Ceil",
    "Round",
    "Sin",
    "Cos",
    "Tan",
    "Asin",
    "Acos",
    "Atan",
    "Sinh",
    "Cosh",
    "Asinh",
    "Acosh",
    "Atanh",
    "Sign",
    "HardSigmoid",
    "HardSwish",
    "LeakyRelu",
    "Elu",
    "Selu",
    "Celu",
    "Softplus",
    "Softsign",
    "ThresholdedRelu",
    "Mish",
    "Gelu",
    "Clip",
    "Identity",
    "Shrink",
    "Swish",
    "BitwiseNot",
    "PRelu",
];

/// Ops broadcasting their inputs, which share one type, to an output of that type.
const BROADCAST: &[&str] = &[
    "Add",
    "Sub",
    "Mul",
    "Div",
    "Max",
    "Min",
    "Sum",
    "Mean",
    "Mod",
    "BitShift",
    "BitwiseAnd",
    "BitwiseOr",
    "BitwiseXor",
];

/// Ops comparing inputs of one type into a bool output.
const COMPARE: &[&str] = &[
    "Equal",
    "Greater",
    "Less",
    "GreaterOrEqual",
    "LessOrEqual",
    "And",
    "Or",
    "Xor",
];

pub(super) fn infer(cx: &Cx<'_>) -> Rule {
    if !cx.n.domain.is_empty() {
        return None;
    }
    let op = cx.op();
    let shapes = || {
        (0..cx.num_in())
            .filter(|&i| cx.has(i))
            .map(|i| cx.s(i))
            .collect::<Vec<_>>()
    };
    let present = || {
        (0..cx.num_in())
            .filter(|&i| cx.has(i))
            .map(|i| cx.t(i))
            .collect::<Vec<_>>()
    };
    if SAME.contains(&op) {
        if op == "PRelu" {
            if let Err(e) = same_type(&[cx.t(0), cx.t(1)]) {
                return Some(Err(e));
            }
        }
        return Some(Ok(vec![cx.t(0).clone()]));
    }
    if BROADCAST.contains(&op) {
        return Some((|| {
            let e = same_type(&present())?;
            Ok(vec![super::tensor(e, broadcast(&shapes())?)])
        })());
    }
    if COMPARE.contains(&op) {
        return Some((|| {
            same_type(&present())?;
            Ok(vec![super::tensor(
                Some(ElemType::Bool),
                broadcast(&shapes())?,
            )])
        })());
    }
    match op {
        "Not" | "IsNaN" | "IsInf" => one(Some(ElemType::Bool), cx.s(0)),
        "Pow" => Some(broadcast(&shapes()).map(|s| vec![super::tensor(cx.e(0), s)])),
        "Where" => Some((|| {
            let e = same_type(&[cx.t(1), cx.t(2)])?;
            Ok(vec![super::tensor(e, broadcast(&shapes())?)])
        })()),
        "Cast" => one(cx.dtype("to"), cx.s(0)),
        "CastLike" => one(cx.e(1), cx.s(0)),
        "BitCast" => {
            let to = cx.dtype("to");
            let s = match (cx.e(0), to) {
                (Some(a), Some(b)) if a.size() == b.size() => cx.s(0),
                _ => None,
            };
            one(to, s)
        }
        "Dropout" => Some(Ok(vec![
            cx.t(0).clone(),
            super::tensor(Some(ElemType::Bool), cx.s(0)),
        ])),
        _ => None,
    }
}
