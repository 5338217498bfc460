//! Image and spatial ops: Resize, GridSample, AffineGrid, RoiAlign, NonMaxSuppression, Col2Im, DeformConv, LpPool, MaxUnpool, ImageDecoder.

use ort_core::{Error, Tensor};

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
