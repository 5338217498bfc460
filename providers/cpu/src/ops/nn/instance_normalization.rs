//! InstanceNormalization: two-pass mean and variance per (N, C) plane, then one fused
//! scale-and-shift pass; planes in parallel.

use ort_core::{Error, Value};
use rayon::prelude::*;

use super::layer_normalization::moments;
use super::{data, output, PAR_WORK};
use crate::kernel::{input, one, Ctx, Kernel, NodeInfo, Outputs};
use crate::ops::{FLOATS, LATEST};

struct InstanceNormalization {
    epsilon: f64,
}

impl Kernel for InstanceNormalization {
    fn compute(&self, inputs: &[Option<&Value>], ctx: &Ctx<'_>) -> Outputs {
        let (x, scale, bias) = (input(inputs, 0)?, input(inputs, 1)?, input(inputs, 2)?);
        let s = x.shape();
        if s.len() < 2 {
            return Err(Error::invalid(format!(
                "X must have rank >= 2, got shape {s:?}"
            )));
        }
        let c = s[1] as usize;
        if scale.len() != c || bias.len() != c {
            return Err(Error::invalid(format!(
                "scale and B must have {c} elements"
            )));
        }
        let plane = s[2..].iter().product::<i64>() as usize;
        one(with_float!(x.elem(), F => {
            let (xd, sc, b) = (data::<F>(x)?, data::<F>(scale)?, data::<F>(bias)?);
            let eps = F::of(self.epsilon);
            output::<F>(ctx, x.elem(), s, |o| {
                if plane == 0 {
                    return;
                }
                let f = |(i, (o, x)): (usize, (&mut [F], &[F]))| {
                    let (mean, var) = moments(x);
                    let k = sc[i % c] / (var + eps).sqrt();
                    let shift = b[i % c] - mean * k;
                    o.iter_mut().zip(x).for_each(|(o, &v)| *o = v * k + shift);
                };
                if ctx.threads > 1 && o.len() >= PAR_WORK {
                    o.par_chunks_mut(plane).zip(xd.par_chunks(plane)).enumerate().for_each(f);
                } else {
                    o.chunks_mut(plane).zip(xd.chunks(plane)).enumerate().for_each(f);
                }
            })
        })?)
    }
}

fn build(info: &NodeInfo<'_, '_>) -> Result<Box<dyn Kernel>, Error> {
    Ok(Box::new(InstanceNormalization {
        epsilon: info.float("epsilon", 1e-5)? as f64,
    }))
}

crate::register!("InstanceNormalization", [1, LATEST], FLOATS, build);
