//! BiasAdd (`com.microsoft`): `X + bias + skip` for X and skip of shape
//! `[N, S, C]` and bias `[C]`, one pass in parallel chunks.

use ort_core::{Error, Value};

use crate::kernel::{input, one, Ctx, Kernel, Outputs};
use crate::ops::nn::{data, output, PAR_WORK};
use crate::ops::FLOATS;

struct BiasAdd;

impl Kernel for BiasAdd {
    fn compute(&self, inputs: &[Option<&Value>], ctx: &Ctx<'_>) -> Outputs {
        let (x, bias, skip) = (input(inputs, 0)?, input(inputs, 1)?, input(inputs, 2)?);
        let c = x.shape().last().copied().unwrap_or(0);
        if x.rank() != 3 || skip.shape() != x.shape() || bias.shape() != [c] || c == 0 {
            return Err(Error::invalid(format!(
                "BiasAdd takes X and skip of one shape [N, S, C] and bias [C], got {:?}, {:?}, {:?}",
                x.shape(),
                skip.shape(),
                bias.shape()
            )));
        }
        one(crate::with_float!(x.elem(), F => {
            let (xd, bd, sd) = (data::<F>(x)?, data::<F>(bias)?, data::<F>(skip)?);
            let c = c as usize;
            output::<F>(ctx, x.elem(), x.shape(), |o| {
                let threads = if o.len() >= PAR_WORK { ctx.threads } else { 1 };
                let rows = (PAR_WORK / 4 / c).max(1);
                crate::parallel::for_each_chunk(threads, o, rows * c, |i, o| {
                    let start = i * rows * c;
                    for (k, o) in o.iter_mut().enumerate() {
                        let at = start + k;
                        *o = xd[at] + bd[at % c] + sd[at];
                    }
                });
            })
        })?)
    }
}

crate::register!("BiasAdd", "com.microsoft", [1, 1], FLOATS, 0, same: all, |_| Ok(
    Box::new(BiasAdd)
));
