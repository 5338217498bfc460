//! Random ops: RandomNormal/Uniform[Like], Bernoulli, Multinomial.
//!
//! Each call draws from a fresh generator: seeded from the `seed` attribute when the
//! node has one (so a seeded node gives the same values on every run, in any
//! process), from operating-system entropy otherwise. Kernels stay stateless and
//! thread-safe that way. Values are drawn in f64 and rounded to the output type.

use ort_core::{ElemType, Error, Tensor};
use rand::rngs::StdRng;
use rand::SeedableRng;

use crate::kernel::{Ctx, NodeInfo};
use crate::util::Num;

mod bernoulli;
mod multinomial;
mod random_normal;
mod random_uniform;

/// The optional `seed` attribute, as a generator seed.
pub(crate) fn seed_attr(n: &NodeInfo<'_, '_>) -> Result<Option<u64>, Error> {
    if !n.has("seed") {
        return Ok(None);
    }
    let s = n.float("seed", 0.0)?;
    Ok(Some(s.to_bits() as u64))
}

/// A generator for one call.
pub(crate) fn rng(seed: Option<u64>) -> StdRng {
    match seed {
        Some(s) => StdRng::seed_from_u64(s),
        None => StdRng::from_os_rng(),
    }
}

/// The `dtype` attribute as an element type, or `default` when absent.
pub(crate) fn dtype_attr(
    n: &NodeInfo<'_, '_>,
    default: Option<ElemType>,
) -> Result<Option<ElemType>, Error> {
    if !n.has("dtype") {
        return Ok(default);
    }
    let code = n.int("dtype", 0)?;
    i32::try_from(code)
        .ok()
        .and_then(ElemType::from_onnx)
        .map(Some)
        .ok_or_else(|| Error::invalid(format!("unknown dtype {code}")))
}

/// A tensor of `elem` holding `vals` (rounded; bool is `v != 0`).
pub(crate) fn tensor_of(
    ctx: &Ctx<'_>,
    elem: ElemType,
    shape: &[i64],
    vals: &[f64],
) -> Result<Tensor, Error> {
    if elem == ElemType::Bool {
        return ctx.tensor::<bool>(shape, |o| {
            o.iter_mut().zip(vals).for_each(|(o, v)| *o = *v != 0.0)
        });
    }
    crate::dispatch_numeric!(elem, T => ctx.tensor::<T>(shape, |o| {
        o.iter_mut().zip(vals).for_each(|(o, v)| *o = <T as Num>::from_f64(*v))
    }))
}

/// What RandomNormal/Uniform[Like] produce: a float tensor of the `shape` attribute,
/// or (the Like variants) of input 0's shape, whose type is also the default dtype.
pub(crate) struct Draws {
    /// `None` for the Like variants.
    shape: Option<Vec<i64>>,
    elem: Option<ElemType>,
    seed: Option<u64>,
}

impl Draws {
    pub fn new(n: &NodeInfo<'_, '_>, like: bool) -> Result<Draws, Error> {
        Ok(Draws {
            shape: if like { None } else { Some(shape_attr(n)?) },
            elem: dtype_attr(n, None)?,
            seed: seed_attr(n)?,
        })
    }

    /// The output, one `draw` per element from this call's generator.
    pub fn fill(
        &self,
        inputs: &[Option<&ort_core::Value>],
        ctx: &Ctx<'_>,
        mut draw: impl FnMut(&mut StdRng) -> f64,
    ) -> Result<Tensor, Error> {
        let (shape, elem) = match &self.shape {
            Some(s) => (s.clone(), self.elem.unwrap_or(ElemType::F32)),
            None => {
                let x = crate::kernel::input(inputs, 0)?;
                (x.shape().to_vec(), self.elem.unwrap_or(x.elem()))
            }
        };
        let elem = check_float_dtype(elem)?;
        let n = shape.iter().product::<i64>() as usize;
        let mut g = rng(self.seed);
        let vals: Vec<f64> = (0..n).map(|_| draw(&mut g)).collect();
        tensor_of(ctx, elem, &shape, &vals)
    }
}

/// The element types RandomNormal/Uniform may produce.
fn check_float_dtype(elem: ElemType) -> Result<ElemType, Error> {
    if crate::ops::FLOATS.contains(&elem) {
        Ok(elem)
    } else {
        Err(Error::invalid(format!(
            "dtype must be a float type, got {elem}"
        )))
    }
}

/// The output shape: the `shape` attribute (RandomNormal/Uniform), or input 0's shape
/// (the *Like variants).
fn shape_attr(n: &NodeInfo<'_, '_>) -> Result<Vec<i64>, Error> {
    let s = n
        .ints("shape")?
        .ok_or_else(|| Error::invalid(format!("{} needs the shape attribute", n.op())))?;
    if s.iter().any(|&d| d < 0) {
        return Err(Error::invalid(format!(
            "shape {s:?} has a negative dimension"
        )));
    }
    Ok(s)
}

#[cfg(test)]
pub(crate) mod stats {
    /// Mean and (population) variance.
    pub fn moments(v: &[f64]) -> (f64, f64) {
        let n = v.len() as f64;
        let mean = v.iter().sum::<f64>() / n;
        let var = v.iter().map(|x| (x - mean) * (x - mean)).sum::<f64>() / n;
        (mean, var)
    }
}
