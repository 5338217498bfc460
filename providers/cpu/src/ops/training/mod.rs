//! The ai.onnx.preview.training optimizer updates: Adagrad, Adam, Momentum.
//!
//! All three take a learning rate `R`, an iteration count `T`, then `k` groups of `n`
//! tensors each (X, G and the optimizer's state tensors), and return `k - 1` groups of
//! `n`: the new X's, then each new state. Elements update independently, so one
//! per-element rule (computed in f64) serves every optimizer.

use ort_core::{ElemType, Error, Value};

use crate::kernel::{input, Ctx, Outputs};

/// The element types R and the tensors may have.
pub(crate) const F32_F64: &[ElemType] = &[ElemType::F32, ElemType::F64];

mod adagrad;
mod adam;
mod momentum;

/// Runs an optimizer: `rule(r, t, &[x, g, state...], &mut [x', state'...])` for every
/// element of every tensor group.
pub(crate) fn run_optimizer(
    inputs: &[Option<&Value>],
    ctx: &Ctx<'_>,
    groups: usize,
    rule: impl Fn(f64, i64, &[f64], &mut [f64]),
) -> Outputs {
    let r_t = input(inputs, 0)?;
    let t_t = input(inputs, 1)?;
    if r_t.len() != 1 || t_t.len() != 1 {
        return Err(Error::invalid("R and T must be scalars"));
    }
    let r = floats(r_t)?[0];
    if t_t.elem() != ElemType::I64 {
        return Err(Error::invalid(format!(
            "T must be int64, got {}",
            t_t.elem()
        )));
    }
    let t = t_t.to_i64_vec()?[0];
    let rest = inputs.len().saturating_sub(2);
    if rest == 0 || !rest.is_multiple_of(groups) {
        return Err(Error::invalid(format!(
            "expected a multiple of {groups} tensors after R and T, got {rest}"
        )));
    }
    let n = rest / groups;
    let mut outs: Vec<Vec<Option<Value>>> = vec![Vec::with_capacity(n); groups - 1];
    for i in 0..n {
        let ts = (0..groups)
            .map(|g| input(inputs, 2 + g * n + i))
            .collect::<Result<Vec<_>, _>>()?;
        let x = ts[0];
        if let Some(bad) = ts
            .iter()
            .find(|u| u.shape() != x.shape() || u.elem() != x.elem())
        {
            return Err(Error::invalid(format!(
                "tensor group {i}: {}{:?} does not match X {}{:?}",
                bad.elem(),
                bad.shape(),
                x.elem(),
                x.shape()
            )));
        }
        let data = ts
            .iter()
            .map(|u| floats(u))
            .collect::<Result<Vec<_>, _>>()?;
        let len = x.len();
        let mut res: Vec<Vec<f64>> = vec![vec![0.0; len]; groups - 1];
        let mut ins = vec![0.0; groups];
        let mut o = vec![0.0; groups - 1];
        for e in 0..len {
            for (slot, d) in ins.iter_mut().zip(&data) {
                *slot = d[e];
            }
            rule(r, t, &ins, &mut o);
            for (dst, v) in res.iter_mut().zip(&o) {
                dst[e] = *v;
            }
        }
        for (g, vals) in res.into_iter().enumerate() {
            let out = match x.elem() {
                ElemType::F32 => ctx.tensor::<f32>(x.shape(), |d| {
                    d.iter_mut().zip(&vals).for_each(|(d, v)| *d = *v as f32)
                })?,
                _ => ctx.tensor_from::<f64>(x.shape(), &vals)?,
            };
            outs[g].push(Some(Value::Tensor(out)));
        }
    }
    Ok(outs.into_iter().flatten().collect())
}

/// A float or double tensor's elements as f64.
fn floats(t: &ort_core::Tensor) -> Result<Vec<f64>, Error> {
    match t.elem() {
        ElemType::F32 => Ok(t.as_slice::<f32>()?.iter().map(|&v| v as f64).collect()),
        ElemType::F64 => Ok(t.as_slice::<f64>()?.to_vec()),
        e => Err(Error::invalid(format!(
            "expected a float or double tensor, got {e}"
        ))),
    }
}
