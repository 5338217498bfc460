//! SkipLayerNormalization (`com.microsoft`): the fused domain's kernel (residual
//! sum and layer normalization per row, `ops/fused`), with the sum
//! `input + skip + bias` at output 3 as onnxruntime numbers it.

use crate::ops::fused::skip_layer_normalization::build_with_sum_at;
use crate::ops::FLOATS;

crate::register!(
    "SkipLayerNormalization",
    "com.microsoft",
    [1, 1],
    FLOATS,
    0,
    |info| {
        super::refuse_outputs(info, &[1, 2])?;
        build_with_sum_at(info, 3)
    }
);
