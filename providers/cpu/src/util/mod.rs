//! Shared helpers for kernels: ndarray views, shapes and axes, broadcasting,
//! elementwise loops, type dispatch, strided copies and matrix products.

mod dispatch;
mod elementwise;
mod gemm;
mod num;
mod strided;

use ndarray::{ArrayViewD, IxDyn};
use ort_core::{Element, Error, Tensor};

pub(crate) use elementwise::broadcast_zip;
pub use elementwise::{binary, in_pool, par_map, par_zip2, unary, PAR_MIN_LEN};
pub use gemm::{gemm_strided, GemmScalar, MatRef};
pub use num::{Movable, Num};
pub use strided::{simplify_strided, strided_copy, strides_of};

/// An ndarray view of a host tensor.
pub fn view<T: Element>(t: &Tensor) -> Result<ArrayViewD<'_, T>, Error> {
    let data = t.as_slice::<T>()?;
    ArrayViewD::from_shape(IxDyn(&dims(t.shape())), data).map_err(|e| Error::invalid(e.to_string()))
}

/// A shape as usizes.
pub fn dims(shape: &[i64]) -> Vec<usize> {
    shape.iter().map(|&d| d as usize).collect()
}

/// A shape as i64s.
pub fn shape_i64(dims: &[usize]) -> Vec<i64> {
    dims.iter().map(|&d| d as i64).collect()
}

// The one broadcasting rule, shared with every provider.
pub use ort_core::kit::broadcast_all;

/// Resolves a possibly negative axis against `rank`.
pub fn axis(a: i64, rank: usize) -> Result<usize, Error> {
    let r = rank as i64;
    let v = if a < 0 { a + r } else { a };
    if v < 0 || v >= r.max(1) {
        return Err(Error::invalid(format!(
            "axis {a} is out of range for rank {rank}"
        )));
    }
    Ok(v as usize)
}

/// A tensor viewing `t`'s elements from `start` on under `shape` (no copy).
pub fn view_at(t: &Tensor, start: usize, shape: &[i64]) -> Result<Tensor, Error> {
    Tensor::from_buffer(
        t.elem(),
        shape,
        t.buffer().clone(),
        t.offset() + start * t.elem().size(),
    )
}

/// An optional integer input (shapes, axes, ...) as i64s.
pub fn ints_input(
    inputs: &[Option<&ort_core::Value>],
    i: usize,
) -> Result<Option<Vec<i64>>, Error> {
    crate::kernel::opt_input(inputs, i)?
        .map(|t| t.to_i64_vec())
        .transpose()
}

/// Integers that moved from an attribute to input `i` at opset `since` (axes, split).
pub enum IntsArg {
    Attr(Option<Vec<i64>>),
    Input(usize),
}

impl IntsArg {
    pub fn new(
        n: &crate::kernel::NodeInfo<'_, '_>,
        attr: &str,
        since: i64,
        i: usize,
    ) -> Result<IntsArg, Error> {
        Ok(if n.opset() < since {
            IntsArg::Attr(n.ints(attr)?)
        } else {
            IntsArg::Input(i)
        })
    }
    pub fn get(&self, inputs: &[Option<&ort_core::Value>]) -> Result<Option<Vec<i64>>, Error> {
        match self {
            IntsArg::Attr(v) => Ok(v.clone()),
            IntsArg::Input(i) => ints_input(inputs, *i),
        }
    }
}
