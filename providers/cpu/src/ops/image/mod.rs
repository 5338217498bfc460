//! Image and spatial ops: Resize, GridSample, AffineGrid, RoiAlign, NonMaxSuppression, Col2Im, DeformConv, LpPool, MaxUnpool, ImageDecoder.

use ort_core::{Error, Tensor};

/// Runs `$body` with `$F` = f64 for double tensors and f32 for float, float16 and
/// bfloat16 ones (halves are widened on the way in and narrowed on the way out).
macro_rules! img_float {
    ($elem:expr, $F:ident => $body:expr) => {{
        use ort_core::ElemType as __E;
        #[allow(unused_imports)]
        use {
            num_traits::Float as _, num_traits::One as _, num_traits::Zero as _,
            $crate::ops::nn::Flt as _,
        };
        match $elem {
            __E::F64 => {
                type $F = f64;
                $body
            }
            __E::F32 | __E::F16 | __E::BF16 => {
                type $F = f32;
                $body
            }
            e => Err(ort_core::Error::not_implemented(format!(
                "element type {e} is not supported here"
            ))),
        }
    }};
}

mod affine_grid;
mod grid_sample;
mod image_decoder;
mod non_max_suppression;
mod resize;
mod roi_align;

/// A float tensor's elements widened to f64 (scales, rois and the like).
pub(crate) fn f64s(t: &Tensor) -> Result<Vec<f64>, Error> {
    Ok(crate::ops::nn::data::<f64>(t)?.into_owned())
}

/// Whether work of this size is worth splitting across threads.
pub(crate) fn par(threads: usize, work: usize) -> bool {
    threads > 1 && work >= crate::ops::nn::PAR_WORK
}
