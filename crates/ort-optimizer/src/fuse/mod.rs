//! Extended level: fusions into the ops of [`crate::FUSED_DOMAIN`]
//! (see `docs/fused-ops.md`) that the CPU provider implements.

mod activation;
mod attention;
mod bias_add;
mod conv_bn;
mod conv_max_pool;
mod gelu;
mod layer_norm;
mod matmul_integer_to_float;
mod quantize_dequantize;
mod quantized_conv;
mod quantized_hard_swish;
mod quantized_weight_gemm;
mod rows_gemm;
mod skip_layer_norm;
mod transpose_matmul;

use crate::basic::DequantizeConstants;
use crate::Pass;

pub use activation::ActivationFusion;
pub use attention::AttentionFusion;
pub use bias_add::BiasAddFusion;
pub use conv_bn::ConvBatchNorm;
pub use conv_max_pool::ConvMaxPool;
pub use gelu::GeluFusion;
pub use layer_norm::LayerNormFusion;
pub use matmul_integer_to_float::MatMulIntegerToFloat;
pub use quantize_dequantize::QuantizeDequantize;
pub use quantized_conv::QuantizedConv;
pub use quantized_hard_swish::QuantizedHardSwish;
pub use quantized_weight_gemm::QuantizedWeightGemm;
pub use rows_gemm::RowsGemm;
pub use skip_layer_norm::SkipLayerNorm;
pub use transpose_matmul::TransposeMatMul;

/// The fusions, in the order they run. The weights that a fused op keeps
/// quantized are taken first; then the other dequantized constants fold to
/// floats, for the fusions that read weights as numbers (ConvBatchNorm).
pub fn passes() -> Vec<Box<dyn Pass>> {
    vec![
        Box::new(QuantizedWeightGemm),
        Box::new(QuantizedConv),
        Box::new(DequantizeConstants),
        Box::new(ConvBatchNorm),
        Box::new(GeluFusion),
        Box::new(BiasAddFusion),
        Box::new(LayerNormFusion),
        Box::new(SkipLayerNorm),
        Box::new(AttentionFusion),
        Box::new(TransposeMatMul),
        Box::new(ActivationFusion),
        Box::new(ConvMaxPool),
        Box::new(RowsGemm),
        Box::new(QuantizeDequantize),
        Box::new(QuantizedHardSwish),
        Box::new(MatMulIntegerToFloat),
    ]
}
