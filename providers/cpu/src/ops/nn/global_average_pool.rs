//! GlobalAveragePool: each (N, C) plane summed in eight vectorizable lanes, times 1/size.

use ort_core::{Error, Value};

use super::{data, output, sum_by};
use crate::kernel::{input, one, Ctx, Kernel, Outputs};
use crate::ops::{FLOATS, LATEST};

pub(crate) struct GlobalAveragePool;

/// Output shape of a global pool: (N, C, 1, ...), and the spatial size.
pub(super) fn global_shape(shape: &[i64]) -> Result<(Vec<i64>, usize), Error> {
    if shape.len() < 2 {
        return Err(Error::invalid(format!(
            "global pooling needs rank >= 2, got shape {shape:?}"
        )));
    }
    let mut out = shape.to_vec();
    out[2..].fill(1);
    Ok((out, shape[2..].iter().product::<i64>() as usize))
}

impl Kernel for GlobalAveragePool {
    fn compute(&self, inputs: &[Option<&Value>], ctx: &Ctx<'_>) -> Outputs {
        let x = input(inputs, 0)?;
        let (shape, n) = global_shape(x.shape())?;
        one(with_float!(x.elem(), F => {
            let xd = data::<F>(x)?;
            output::<F>(ctx, x.elem(), &shape, |o| {
                let scale = F::one() / F::of(n as f64);
                for (i, o) in o.iter_mut().enumerate() {
                    *o = sum_by(&xd[i * n..(i + 1) * n], |v| v) * scale;
                }
            })
        })?)
    }
}

crate::register!("GlobalAveragePool", [1, LATEST], FLOATS, |_| Ok(Box::new(
    GlobalAveragePool
)));
