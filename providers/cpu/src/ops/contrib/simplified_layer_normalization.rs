//! SimplifiedLayerNormalization (onnxruntime registers it in the ONNX domain):
//! RMS normalization, the same kernel as ONNX RMSNormalization.

use crate::ops::FLOATS;

crate::register!(
    "SimplifiedLayerNormalization",
    "",
    [1, crate::ops::LATEST],
    FLOATS,
    0,
    |info| {
        super::refuse_outputs(info, &[1])?;
        crate::ops::nn::rms_normalization::build(info)
    }
);
