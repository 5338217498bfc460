//! QuantizeLinear (`com.microsoft`): the ONNX op's kernel; onnxruntime's
//! contrib version has the same inputs and `axis`.

use ort_core::ElemType::{F16, F32};

crate::register!(
    "QuantizeLinear",
    "com.microsoft",
    [1, 1],
    &[F32, F16],
    0,
    crate::ops::quant::quantize_linear::build
);
