//! Recurrent layers (RNN, GRU, LSTM): the activation table, the attributes they share,
//! and one time-step driver, so each op file only holds its cell's equations.

mod act;
mod common;
mod drive;
mod gru;
mod lstm;
// The file is named after its op, like every other op file.
#[allow(clippy::module_inception)]
mod rnn;

use ort_core::{ElemType, Error, Tensor};

pub(crate) use act::Act;
pub(crate) use common::{Common, Seq};

use crate::ops::nn::{data, Flt};
use crate::ops::FLOATS;
use crate::util::GemmScalar;

/// The element types the recurrent ops accept (bfloat16 from opset 22).
pub(crate) const RNN_TYPES: &[ElemType] = FLOATS;

/// The working precision: f64 for double tensors, f32 for the rest.
pub(crate) trait Real: Flt + GemmScalar {}
impl<F: Flt + GemmScalar> Real for F {}

/// A float tensor's elements in working precision.
pub(crate) fn read<F: Real>(t: &Tensor) -> Result<Vec<F>, Error> {
    Ok(data::<F>(t)?.into_owned())
}

/// Swaps the two leading axes of an `[a, b, rest...]` array.
fn swap01<F: Copy>(v: &[F], a: usize, b: usize) -> Vec<F> {
    let rest = v.len().checked_div(a * b).unwrap_or(0);
    let mut out = Vec::with_capacity(v.len());
    for j in 0..b {
        for i in 0..a {
            out.extend_from_slice(&v[(i * b + j) * rest..][..rest]);
        }
    }
    out
}

#[cfg(test)]
mod tests;
