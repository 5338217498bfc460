//! GroupNormalization: normalizes each instance's groups of channels, then scales
//! and shifts. Opset 18 takes one scale and bias per group, opset 21 per channel.

use ort_core::{Error, Value};
use rayon::prelude::*;

use super::layer_normalization::moments;
use super::{data, output, PAR_WORK};
use crate::kernel::{input, one, Ctx, Kernel, NodeInfo, Outputs};
use crate::ops::{FLOATS, LATEST};

struct GroupNormalization {
    groups: usize,
    epsilon: f64,
    per_channel: bool,
}

fn build(info: &NodeInfo<'_, '_>) -> Result<Box<dyn Kernel>, Error> {
    let g = info.int("num_groups", 0)?;
    if g <= 0 {
        return Err(Error::invalid(format!(
            "num_groups must be positive, got {g}"
        )));
    }
    Ok(Box::new(GroupNormalization {
        groups: g as usize,
        epsilon: info.float("epsilon", 1e-5)? as f64,
        per_channel: info.opset() >= 21,
    }))
}

impl Kernel for GroupNormalization {
    fn compute(&self, inputs: &[Option<&Value>], ctx: &Ctx<'_>) -> Outputs {
        let (x, scale, bias) = (input(inputs, 0)?, input(inputs, 1)?, input(inputs, 2)?);
        let s = x.shape();
        if s.len() < 2 {
            return Err(Error::invalid("GroupNormalization input needs rank >= 2"));
        }
        let c = s[1] as usize;
        let g = self.groups;
        if !c.is_multiple_of(g) {
            return Err(Error::invalid(format!(
                "{c} channels are not divisible into {g} groups"
            )));
        }
        let want = if self.per_channel { c } else { g };
        if scale.len() != want || bias.len() != want {
            return Err(Error::invalid(format!(
                "scale and bias must have {want} elements"
            )));
        }
        let spatial = s[2..].iter().product::<i64>() as usize;
        let cg = c / g;
        let block = cg * spatial;
        let per_channel = self.per_channel;
        one(with_float!(x.elem(), F => {
            let (xd, sc, b) = (data::<F>(x)?, data::<F>(scale)?, data::<F>(bias)?);
            let eps = F::of(self.epsilon);
            output::<F>(ctx, x.elem(), s, |o| {
                if block == 0 {
                    return;
                }
                let f = |(i, (o, x)): (usize, (&mut [F], &[F]))| {
                    let grp = i % g;
                    let (mean, var) = moments(x);
                    let k = F::one() / (var + eps).sqrt();
                    for (ci, (o, x)) in o.chunks_mut(spatial).zip(x.chunks(spatial)).enumerate() {
                        let p = if per_channel { grp * cg + ci } else { grp };
                        let (a, bb) = (sc[p] * k, b[p]);
                        o.iter_mut().zip(x).for_each(|(o, &v)| *o = (v - mean) * a + bb);
                    }
                };
                if ctx.threads > 1 && o.len() >= PAR_WORK {
                    o.par_chunks_mut(block).zip(xd.par_chunks(block)).enumerate().for_each(f);
                } else {
                    o.chunks_mut(block).zip(xd.chunks(block)).enumerate().for_each(f);
                }
            })
        })?)
    }
}

crate::register!("GroupNormalization", [18, LATEST], FLOATS, build);
