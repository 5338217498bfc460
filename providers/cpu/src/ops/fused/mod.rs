//! Kernels for the optimizer's fused ops (domain `ai.ort_rs.fused`, specified in
//! `docs/fused-ops.md`), one op per file.
pub mod activation;
pub mod conv_max_pool;
pub mod fused_conv;
pub mod fused_gemm;
pub mod fused_matmul;
pub mod gelu;
pub mod layer_normalization;
pub mod matmul_integer_to_float;
pub mod multi_head_attention;
pub mod quantize_dequantize;
pub mod quantized_conv;
pub mod quantized_hard_swish;
pub mod quantized_weight_gemm;
pub mod skip_layer_normalization;
#[cfg(test)]
mod tests_attention;
#[cfg(test)]
mod tests_linear;
#[cfg(test)]
mod tests_norm;
#[cfg(test)]
mod tests_quant;
