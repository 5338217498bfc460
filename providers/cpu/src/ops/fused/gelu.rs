//! Gelu in the fused domain: the optimizer's GELU pattern fusion, for models of
//! opsets before ONNX's own Gelu (20). Same kernel as ONNX Gelu.

use crate::ops::{FLOATS, LATEST};

crate::register!(
    "Gelu",
    "ai.ort_rs.fused",
    [1, LATEST],
    FLOATS,
    0,
    crate::ops::nn::gelu::build
);
