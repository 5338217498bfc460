//! DequantizeLinear (`com.microsoft`): the ONNX op's kernel; onnxruntime's
//! contrib version has the same inputs and `axis`.

use ort_core::ElemType::{I16, I32, I4, I8, U16, U4, U8};

crate::register!(
    "DequantizeLinear",
    "com.microsoft",
    [1, 1],
    &[I8, U8, I16, U16, I32, I4, U4],
    0,
    crate::ops::quant::dequantize_linear::build
);
