//! onnxruntime's contrib ops (domain `com.microsoft`, and the few it registers in
//! the ONNX domain) that its transformer optimizer, quantizers and
//! onnxruntime-genai write into saved models, with the semantics of its
//! `docs/ContribOperators.md`. Where the project's fused domain has the same
//! computation, the kernel is shared.
//!
//! - here: elementwise and normalization ops, FusedConv/FusedGemm/FusedMatMul,
//!   the dynamic-quantization linear layers;
//! - `attention/`: Attention, MultiHeadAttention, GroupQueryAttention,
//!   RotaryEmbedding, EmbedLayerNormalization and their quantized forms;
//! - `quant/`: the QLinear* ops, QGemm, MatMulNBits, GatherBlockQuantized;
//! - `nchwc/`: the `com.microsoft.nchwc` blocked-layout ops of models saved at
//!   onnxruntime's `all` level.

mod attention;
mod bias_add;
mod dynamic_quantize_matmul;
mod fused_conv;
mod fused_gemm;
mod fused_matmul;
mod gelu;
mod matmul_integer_to_float;
mod nchwc;
mod quant;
mod simplified_layer_normalization;
mod skip_layer_normalization;
mod skip_simplified_layer_normalization;

use ort_core::Error;

use crate::kernel::NodeInfo;

/// Refuses a node that asks for an output the kernel does not compute (the
/// statistics outputs, which onnxruntime fills only for training).
fn refuse_outputs(info: &NodeInfo<'_, '_>, unused: &[usize]) -> Result<(), Error> {
    for &k in unused {
        if info.node.outputs.get(k).is_some_and(|o| !o.is_empty()) {
            return Err(Error::not_implemented(format!(
                "{}: output {k} (a training statistic) is not computed",
                info.op()
            )));
        }
    }
    Ok(())
}
