//! The fused-domain MultiHeadAttention (`docs/fused-ops.md`), lowered to views,
//! transposes, the MatMul shader and the (optionally causal) Softmax shader:
//! `softmax(scale · Qₕ·Kₕᵀ + Mask) · Vₕ` per batch and head.

use ort_core::kit::Attributes;
use ort_core::{AttrValue, GraphView, NodeView};

use super::binary::Binary;
use super::matmul::MatMul;
use super::softmax::Softmax;
use super::transpose::Transpose;
use super::view::View;
use super::{is_fused, Arg, Claim, Lower, Lowered};

pub fn claim(node: &NodeView<'_>, graph: &GraphView<'_>) -> Result<Option<Claim>, String> {
    if !is_fused(node, "MultiHeadAttention") {
        return Ok(None);
    }
    if graph.elem_of(&node.inputs[0]) == Some(ort_core::ElemType::F16) {
        return Err("float16 attention is left to the CPU (see Softmax)".into());
    }
    let heads = node.attr_int("num_heads", 0)?;
    if heads < 1 {
        return Err("MultiHeadAttention without num_heads".into());
    }
    let scale = match node.attr("scale") {
        Some(AttrValue::Float(s)) => *s,
        _ => {
            let q = &node.inputs[0];
            let last = graph
                .value_type(q)
                .and_then(|t| t.shape())
                .and_then(|s| s.last())
                .and_then(|d| d.known())
                .ok_or(format!(
                    "the head size of {q} is not known, so neither is the default scale"
                ))?;
            1.0 / ((last / heads) as f32).sqrt()
        }
    };
    let heads_first = || Transpose {
        perm: Some(vec![0, 2, 1, 3]),
    };
    let mut steps = vec![
        // 0, 1: Q as [B, H, Sq, D]; 2, 3: K as [B, H, Sk, D]
        Lowered::new(View::SplitLast { heads }, vec![Arg::Input(0)]),
        Lowered::new(heads_first(), vec![Arg::Prev(0)]),
        Lowered::new(View::SplitLast { heads }, vec![Arg::Input(1)]),
        Lowered::new(heads_first(), vec![Arg::Prev(2)]),
        // 4: Q·Kᵀ, 5: scaled
        Lowered::new(
            MatMul {
                trans: [false, true],
            },
            vec![Arg::Prev(1), Arg::Prev(3)],
        ),
        Lowered::new(Binary::MUL, vec![Arg::Prev(4), Arg::scalar(scale)]),
    ];
    if node.has_input(3) {
        steps.push(Lowered::new(Binary::ADD, vec![Arg::Prev(5), Arg::Input(3)]));
    }
    let softmax = Softmax {
        log: false,
        axis: -1,
        causal: node.attr_int("causal", 0)? != 0,
    };
    steps.push(Lowered::new(softmax, vec![Arg::Prev(steps.len() - 1)]));
    let p = steps.len() - 1;
    steps.extend([
        Lowered::new(View::SplitLast { heads }, vec![Arg::Input(2)]),
        Lowered::new(heads_first(), vec![Arg::Prev(p + 1)]),
        Lowered::new(
            MatMul {
                trans: [false, false],
            },
            vec![Arg::Prev(p), Arg::Prev(p + 2)],
        ),
        Lowered::new(heads_first(), vec![Arg::Prev(p + 3)]),
        Lowered::new(View::MergeLast, vec![Arg::Prev(p + 4)]),
    ]);
    Ok(Some(Claim::steps(steps)))
}
