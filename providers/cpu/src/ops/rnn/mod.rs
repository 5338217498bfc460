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

use crate::kernel::Ctx;
use crate::ops::FLOATS;
use crate::util::GemmScalar;

/// The element types the recurrent ops accept (bfloat16 from opset 22).
pub(crate) const RNN_TYPES: &[ElemType] = FLOATS;

/// The working precision: f64 for double tensors, f32 for the rest.
pub(crate) trait Real: num_traits::Float + GemmScalar {
    fn of(v: f64) -> Self;
    fn f64(self) -> f64;
}
impl Real for f32 {
    fn of(v: f64) -> f32 {
        v as f32
    }
    fn f64(self) -> f64 {
        self as f64
    }
}
impl Real for f64 {
    fn of(v: f64) -> f64 {
        v
    }
    fn f64(self) -> f64 {
        self
    }
}

/// A float tensor's elements in working precision.
pub(crate) fn read<F: Real>(t: &Tensor) -> Result<Vec<F>, Error> {
    use half::{bf16, f16};
    Ok(match t.elem() {
        ElemType::F32 => t
            .as_slice::<f32>()?
            .iter()
            .map(|&v| F::of(v as f64))
            .collect(),
        ElemType::F64 => t.as_slice::<f64>()?.iter().map(|&v| F::of(v)).collect(),
        ElemType::F16 => t
            .as_slice::<f16>()?
            .iter()
            .map(|&v| F::of(v.to_f64()))
            .collect(),
        ElemType::BF16 => t
            .as_slice::<bf16>()?
            .iter()
            .map(|&v| F::of(v.to_f64()))
            .collect(),
        e => {
            return Err(Error::not_implemented(format!(
                "element type {e} is not supported here"
            )))
        }
    })
}

/// A tensor of element type `elem` holding `data`.
fn emit<F: Real>(
    ctx: &Ctx<'_>,
    elem: ElemType,
    shape: &[i64],
    data: &[F],
) -> Result<Tensor, Error> {
    use half::{bf16, f16};
    fn fill<T, F: Copy>(o: &mut [T], d: &[F], f: impl Fn(F) -> T) {
        o.iter_mut().zip(d).for_each(|(o, &v)| *o = f(v));
    }
    match elem {
        ElemType::F32 => ctx.tensor(shape, |o: &mut [f32]| fill(o, data, |v| v.f64() as f32)),
        ElemType::F64 => ctx.tensor(shape, |o: &mut [f64]| fill(o, data, |v| v.f64())),
        ElemType::F16 => ctx.tensor(shape, |o: &mut [f16]| {
            fill(o, data, |v| f16::from_f64(v.f64()))
        }),
        ElemType::BF16 => ctx.tensor(shape, |o: &mut [bf16]| {
            fill(o, data, |v| bf16::from_f64(v.f64()))
        }),
        e => Err(Error::not_implemented(format!(
            "element type {e} is not supported here"
        ))),
    }
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
