//! FusedGemm: Gemm + activation; the Gemm kernel with an epilogue.

use crate::ops::{FLOATS, LATEST};

crate::register!(
    "FusedGemm",
    "ai.ort_rs.fused",
    [1, LATEST],
    FLOATS,
    0,
    crate::ops::nn::gemm::build_fused
);
