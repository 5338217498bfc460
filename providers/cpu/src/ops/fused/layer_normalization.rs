//! LayerNormalization in the fused domain: the optimizer's fusion of the
//! decomposed pattern, for models of opsets before ONNX's own (17). Same kernel
//! as ONNX LayerNormalization.

use crate::ops::{FLOATS, LATEST};

crate::register!(
    "LayerNormalization",
    "ai.ort_rs.fused",
    [1, LATEST],
    FLOATS,
    0,
    crate::ops::nn::layer_normalization::build
);
