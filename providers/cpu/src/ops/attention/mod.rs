//! Attention and the normalizations around it: Attention, RMSNormalization, RotaryEmbedding, LinearAttention, FlexAttention, GroupNormalization, LRN, ...
//!
//! Kernels compute in f32 (f64 for double tensors): float16 and bfloat16 inputs are
//! widened on the way in and narrowed on the way out.

#[allow(clippy::module_inception)]
mod attention;
mod causal_conv_with_state;
mod flex_attention;
mod linear_attention;
mod rotary_embedding;

use ort_core::ElemType;

use crate::ops::nn::Flt;

/// Rounds a value to what element type `elem` can hold (f16 and bf16 lose bits),
/// so intermediate results match a computation carried out in that type.
pub(crate) fn rounder<F: Flt>(elem: ElemType) -> fn(F) -> F {
    match elem {
        ElemType::F16 => |v: F| F::of(half::f16::from_f64(v.f64()).to_f64()),
        ElemType::BF16 => |v: F| F::of(half::bf16::from_f64(v.f64()).to_f64()),
        _ => |v: F| v,
    }
}

/// Whether node output `i` exists and is wanted.
pub(crate) fn wants(info: &crate::kernel::NodeInfo<'_, '_>, i: usize) -> bool {
    info.node.outputs.get(i).is_some_and(|n| !n.is_empty())
}
