//! FusedMatMul: MatMul with transposed operands, a scale, a bias and an
//! activation; the MatMul kernel with those options.

use ort_core::ElemType::{F32, F64};

use crate::ops::LATEST;

crate::register!(
    "FusedMatMul",
    "ai.ort_rs.fused",
    [1, LATEST],
    &[F32, F64],
    0,
    crate::ops::nn::mat_mul::build_fused
);
