//! Signal processing: DFT, STFT, window functions, MelWeightMatrix.

mod dft;
mod mel_weight_matrix;
mod stft;
mod windows;

use ort_core::{ElemType, Error, Tensor, Value};
use rustfft::num_complex::Complex;

use crate::kernel::{opt_input, Ctx};
use crate::util::Num;

/// A scalar (or one-element) integer input, if present.
pub(crate) fn scalar_int(inputs: &[Option<&Value>], i: usize) -> Result<Option<i64>, Error> {
    match opt_input(inputs, i)? {
        None => Ok(None),
        Some(t) => match t.to_i64_vec()?.as_slice() {
            [v] => Ok(Some(*v)),
            _ => Err(Error::invalid(format!(
                "input {i} must hold one integer, got shape {:?}",
                t.shape()
            ))),
        },
    }
}

/// A scalar (or one-element) float input, if present.
pub(crate) fn scalar_float(inputs: &[Option<&Value>], i: usize) -> Result<Option<f64>, Error> {
    let Some(t) = opt_input(inputs, i)? else {
        return Ok(None);
    };
    if t.len() != 1 {
        return Err(Error::invalid(format!(
            "input {i} must hold one number, got shape {:?}",
            t.shape()
        )));
    }
    let v = t.to_f64_vec()?;
    Ok(Some(v[0]))
}

/// A tensor of numeric element type `elem` from f64 values (`as` conversion).
pub(crate) fn from_f64s(
    ctx: &Ctx<'_>,
    elem: ElemType,
    shape: &[i64],
    data: &[f64],
) -> Result<Tensor, Error> {
    crate::dispatch_numeric!(elem, T => ctx.tensor(shape, |o: &mut [T]| {
        o.iter_mut().zip(data).for_each(|(o, &v)| *o = <T as Num>::from_f64(v))
    }))
}

/// Reads a signal whose last dimension is 1 (real) or 2 (complex, interleaved).
pub(crate) fn complex_of(t: &Tensor) -> Result<Vec<Complex<f64>>, Error> {
    let last = t.shape().last().copied().unwrap_or(0);
    let v = t.to_f64_vec()?;
    match last {
        1 => Ok(v.into_iter().map(|r| Complex::new(r, 0.0)).collect()),
        2 => Ok(v
            .chunks_exact(2)
            .map(|c| Complex::new(c[0], c[1]))
            .collect()),
        _ => Err(Error::invalid(format!(
            "the last dimension of a signal must be 1 (real) or 2 (complex), got shape {:?}",
            t.shape()
        ))),
    }
}
