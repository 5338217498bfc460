//! FusedConv (`com.microsoft`): `act(Conv(X, W, B) + Z)`, the fused domain's
//! Conv kernel; onnxruntime writes it with the same `activation` and
//! `activation_params` attributes.

use crate::ops::FLOATS;

crate::register!(
    "FusedConv",
    "com.microsoft",
    [1, 1],
    FLOATS,
    0,
    crate::ops::nn::conv::build_fused
);
