//! The strided copy (`shaders/copy.wgsl`) that Transpose, Expand, Slice, Concat
//! and Split are made of.

use ort_core::Error;

use super::{dispatch, grid, numel, strides, Builder, Operand};
use crate::gpu::Gpu;

pub const MAX_RANK: usize = 8;

/// A box of `dims` read from x at `src` + Σ c·`src_strides` and written to y at
/// `dst` + Σ c·`dst_strides`.
pub struct Region<'a> {
    pub dims: &'a [i64],
    pub src: i64,
    pub src_strides: &'a [i64],
    pub dst: i64,
    pub dst_strides: &'a [i64],
}

pub fn copy(
    gpu: &Gpu,
    b: &mut Builder,
    x: &Operand,
    y: &Operand,
    r: &Region<'_>,
) -> Result<(), Error> {
    let n = numel(r.dims);
    if n == 0 {
        return Ok(());
    }
    if r.dims.len() > MAX_RANK {
        return Err(Error::not_implemented(format!(
            "Vulkan copies are limited to rank {MAX_RANK}, got {:?}",
            r.dims
        )));
    }
    let (groups, row) = grid(n)?;
    let mut pc = [0u32; 32];
    pc[..3].copy_from_slice(&[n as u32, r.dims.len() as u32, row]);
    pc[4] = r.src as u32;
    pc[5] = r.dst as u32;
    for k in 0..r.dims.len() {
        pc[8 + k] = r.dims[k] as u32;
        pc[16 + k] = r.src_strides[k] as i32 as u32;
        pc[24 + k] = r.dst_strides[k] as u32;
    }
    dispatch(gpu, b, &gpu.pipelines.copy, &[&x.0, &y.0], pc, groups)
}

/// y = x read through `src_strides` (from offset `src`) over y's shape.
pub fn gather(
    gpu: &Gpu,
    b: &mut Builder,
    x: &Operand,
    y: &Operand,
    src: i64,
    src_strides: &[i64],
) -> Result<(), Error> {
    let dst = strides(&y.1);
    copy(
        gpu,
        b,
        x,
        y,
        &Region {
            dims: &y.1,
            src,
            src_strides,
            dst: 0,
            dst_strides: &dst,
        },
    )
}

/// A contiguous copy of x into y (same element count).
pub fn contiguous(gpu: &Gpu, b: &mut Builder, x: &Operand, y: &Operand) -> Result<(), Error> {
    let n = [numel(&y.1) as i64];
    copy(
        gpu,
        b,
        x,
        y,
        &Region {
            dims: &n,
            src: 0,
            src_strides: &[1],
            dst: 0,
            dst_strides: &[1],
        },
    )
}
