//! Gemm and the fused-domain FusedMatMul / FusedGemm (`docs/fused-ops.md`),
//! lowered to the MatMul shader (which reads transposed operands in place)
//! followed by the scale, the bias and the activation as elementwise dispatches.

use ort_core::kit::Attributes;
use ort_core::{GraphView, NodeView};

use super::binary::Binary;
use super::matmul::MatMul;
use super::unary::Unary;
use super::{is, is_fused, Arg, Claim, Lower, Lowered};

/// The epilogue activation of a fused op, if any; Err when the shader has none
/// of that name.
pub fn activation(node: &NodeView<'_>) -> Result<Option<Unary>, String> {
    let Some(name) = node.attr_string("activation")? else {
        return Ok(None);
    };
    let params = node.attr_floats("activation_params")?.unwrap_or_default();
    Unary::activation(&name, &params)
        .map(Some)
        .ok_or(format!("no Vulkan shader for the activation {name}"))
}

/// Appends the activation of a fused op to `steps`.
pub fn push_activation(node: &NodeView<'_>, steps: &mut Vec<Lowered>) -> Result<(), String> {
    if let Some(act) = activation(node)? {
        let last = steps.len() - 1;
        steps.push(Lowered::new(act, vec![Arg::Prev(last)]));
    }
    Ok(())
}

pub fn claim(node: &NodeView<'_>, graph: &GraphView<'_>) -> Result<Option<Claim>, String> {
    let gemm = is(node, "Gemm") || is_fused(node, "FusedGemm");
    if !(gemm || is_fused(node, "FusedMatMul")) {
        return Ok(None);
    }
    super::matmul::check(&node.inputs[..2], graph)?;
    if gemm && node.inputs[..2].iter().any(|v| graph.rank_of(v) != Some(2)) {
        return Err("Gemm takes matrices of rank 2".into());
    }
    let trans = [
        node.attr_int("transA", 0)? != 0,
        node.attr_int("transB", 0)? != 0,
    ];
    let mut steps = vec![Lowered::new(
        MatMul { trans },
        vec![Arg::Input(0), Arg::Input(1)],
    )];
    let alpha = node.attr_float("alpha", 1.0)?;
    if alpha != 1.0 {
        steps.push(Lowered::new(
            Binary::MUL,
            vec![Arg::Prev(0), Arg::scalar(alpha)],
        ));
    }
    if node.has_input(2) {
        let product = steps.len() - 1;
        let beta = if gemm {
            node.attr_float("beta", 1.0)?
        } else {
            1.0
        };
        let bias = if beta != 1.0 {
            steps.push(Lowered::new(
                Binary::MUL,
                vec![Arg::Input(2), Arg::scalar(beta)],
            ));
            Arg::Prev(steps.len() - 1)
        } else {
            Arg::Input(2)
        };
        steps.push(Lowered::new(Binary::ADD, vec![Arg::Prev(product), bias]));
    }
    push_activation(node, &mut steps)?;
    Ok(Some(Claim::steps(steps)))
}
