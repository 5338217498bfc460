//! LRN: local response normalization across neighbouring channels.

use ort_core::{Error, Value};
use rayon::prelude::*;

use super::{data, output, PAR_WORK};
use crate::kernel::{input, one, Ctx, Kernel, NodeInfo, Outputs};
use crate::ops::{FLOATS, LATEST};

struct Lrn {
    alpha: f64,
    beta: f64,
    bias: f64,
    size: usize,
}

fn build(info: &NodeInfo<'_, '_>) -> Result<Box<dyn Kernel>, Error> {
    let size = info.int("size", 0)?;
    if size <= 0 {
        return Err(Error::invalid(format!(
            "LRN size must be positive, got {size}"
        )));
    }
    Ok(Box::new(Lrn {
        alpha: info.float("alpha", 1e-4)? as f64,
        beta: info.float("beta", 0.75)? as f64,
        bias: info.float("bias", 1.0)? as f64,
        size: size as usize,
    }))
}

impl Kernel for Lrn {
    fn compute(&self, inputs: &[Option<&Value>], ctx: &Ctx<'_>) -> Outputs {
        let x = input(inputs, 0)?;
        let s = x.shape();
        if s.len() < 2 {
            return Err(Error::invalid("LRN input needs rank >= 2"));
        }
        let c = s[1] as usize;
        let inner = s[2..].iter().product::<i64>() as usize;
        let (lo, hi) = ((self.size - 1) / 2, self.size / 2);
        one(with_float!(x.elem(), F => {
            let xd = data::<F>(x)?;
            let (k, a, b) = (
                F::of(self.bias),
                F::of(self.alpha / self.size as f64),
                F::of(self.beta),
            );
            output::<F>(ctx, x.elem(), s, |o| {
                let block = c * inner;
                if block == 0 {
                    return;
                }
                let f = |(ob, xb): (&mut [F], &[F])| {
                    for ch in 0..c {
                        let (from, to) = (ch.saturating_sub(lo), (ch + hi + 1).min(c));
                        for j in 0..inner {
                            let mut sq = F::zero();
                            for cc in from..to {
                                let v = xb[cc * inner + j];
                                sq += v * v;
                            }
                            let v = xb[ch * inner + j];
                            ob[ch * inner + j] = v / (k + a * sq).powf(b);
                        }
                    }
                };
                if ctx.threads > 1 && o.len() >= PAR_WORK {
                    o.par_chunks_mut(block).zip(xd.par_chunks(block)).for_each(f);
                } else {
                    o.chunks_mut(block).zip(xd.chunks(block)).for_each(f);
                }
            })
        })?)
    }
}

crate::register!("LRN", [1, LATEST], FLOATS, build);
