//! FusedConv: Conv + residual + activation; the Conv kernel with an epilogue.

use crate::ops::{FLOATS, LATEST};

crate::register!(
    "FusedConv",
    "ai.ort_rs.fused",
    [1, LATEST],
    FLOATS,
    0,
    crate::ops::nn::conv::build_fused
);
