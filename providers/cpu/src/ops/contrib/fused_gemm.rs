//! FusedGemm (`com.microsoft`): `act(alpha · A' ⋅ B' + beta · C)`, the fused
//! domain's Gemm kernel; the activation's parameters come from onnxruntime's
//! `activation_alpha`/`activation_beta`/`activation_gamma` attributes.

use crate::ops::FLOATS;

crate::register!(
    "FusedGemm",
    "com.microsoft",
    [1, 1],
    FLOATS,
    0,
    crate::ops::nn::gemm::build_fused
);
