//! SkipLayerNormalization (`docs/fused-ops.md`): the residual sum and the layer
//! normalization over the last axis in one pass per row.

use ort_core::{Error, Value};

use crate::kernel::{input, opt_input, Ctx, Kernel, NodeInfo, Outputs};
use crate::ops::nn::layer_normalization::{norm_in_place, norm_row};
use crate::ops::nn::{data, output, with_float, PAR_WORK};
use crate::ops::{FLOATS, LATEST};
use crate::parallel::{for_each_chunk, for_each_chunk_pair};
use crate::util::{broadcast_all, broadcast_zip, dims};

struct SkipLayerNormalization {
    epsilon: f64,
    /// Whether the Sum output is read.
    sum: bool,
    /// Which output is the Sum: 1 here, 3 in `com.microsoft` (after the
    /// training statistics).
    sum_at: usize,
}

fn build(info: &NodeInfo<'_, '_>) -> Result<Box<dyn Kernel>, Error> {
    build_with_sum_at(info, 1)
}

/// The kernel with its Sum output (input + skip + bias) at output `sum_at`.
pub(crate) fn build_with_sum_at(
    info: &NodeInfo<'_, '_>,
    sum_at: usize,
) -> Result<Box<dyn Kernel>, Error> {
    Ok(Box::new(SkipLayerNormalization {
        epsilon: info.float("epsilon", 1e-5)? as f64,
        sum: info.node.outputs.get(sum_at).is_some_and(|o| !o.is_empty()),
        sum_at,
    }))
}

impl Kernel for SkipLayerNormalization {
    fn compute(&self, inputs: &[Option<&Value>], ctx: &Ctx<'_>) -> Outputs {
        let (x, skip, scale) = (input(inputs, 0)?, input(inputs, 1)?, input(inputs, 2)?);
        let (beta, bias) = (opt_input(inputs, 3)?, opt_input(inputs, 4)?);
        // X + Skip broadcasts like Add; the normalized axis is the sum's last.
        let shape = broadcast_all(&[x.shape(), skip.shape()])?;
        let s = shape.as_slice();
        let d = *s
            .last()
            .ok_or_else(|| Error::invalid("X must have rank >= 1"))? as usize;
        let vec_d =
            |t: &ort_core::Tensor| t.len() == d && t.shape().iter().rev().skip(1).all(|&v| v == 1);
        if skip.elem() != x.elem()
            || !vec_d(scale)
            || !beta.is_none_or(vec_d)
            || !bias.is_none_or(vec_d)
        {
            return Err(Error::invalid(format!(
                "SkipLayerNormalization: Scale, B and Bias must hold {d} elements of X's type, got Scale {:?}",
                scale.shape()
            )));
        }
        let elem = x.elem();
        let (y, sum) = with_float!(elem, F => {
            let (xd, kd, sc) = (data::<F>(x)?, data::<F>(skip)?, data::<F>(scale)?);
            let bd = beta.map(data::<F>).transpose()?;
            let bias = bias.map(data::<F>).transpose()?;
            let eps = F::of(self.epsilon);
            let n: usize = s.iter().product::<i64>() as usize;
            // A few flops per value: splitting pays only on large tensors
            // (bert_small's 128×256 ran slower on two threads).
            let threads = if n >= 4 * PAR_WORK { ctx.threads } else { 1 };
            if skip.shape() == x.shape() && !self.sum {
                // Each row summed into its output and normalized there, by
                // one thread: no sum tensor, and no thread reads rows that
                // another wrote.
                let y = output::<F>(ctx, elem, s, |o| {
                    if d == 0 {
                        return;
                    }
                    let row = |i: usize, o: &mut [F]| {
                        let (xr, kr) = (&xd[i * d..][..d], &kd[i * d..][..d]);
                        o.iter_mut().zip(xr.iter().zip(kr)).for_each(|(o, (&a, &b))| *o = a + b);
                        if let Some(b) = &bias {
                            o.iter_mut().zip(b.iter()).for_each(|(o, &c)| *o += c);
                        }
                        norm_in_place(o, &sc, bd.as_deref(), eps);
                    };
                    for_each_chunk(threads, o, d, row);
                })?;
                Ok::<_, Error>((y, None))
            } else {
            let mut sum = vec![F::zero(); n];
            broadcast_zip(&mut sum, &dims(s), &xd, x.shape(), &kd, skip.shape(), &|a: F, b: F| a + b);
            let y = output::<F>(ctx, elem, s, |o| {
                if d == 0 {
                    return;
                }
                let row = |_: usize, o: &mut [F], t: &mut [F]| {
                    if let Some(b) = &bias {
                        t.iter_mut().zip(b.iter()).for_each(|(t, &c)| *t += c);
                    }
                    norm_row(t, o, &sc, bd.as_deref(), eps);
                };
                for_each_chunk_pair(threads, (o, d), (&mut sum, d), row);
            })?;
            let sum = if self.sum {
                Some(output::<F>(ctx, elem, s, |o| o.copy_from_slice(&sum))?)
            } else {
                None
            };
            Ok::<_, Error>((y, sum))
            }
        })?;
        let mut outs = vec![None; self.sum_at + 1];
        outs[0] = Some(y.into());
        outs[self.sum_at] = sum.map(Value::from);
        Ok(outs)
    }
}

crate::register!(
    "SkipLayerNormalization",
    "ai.ort_rs.fused",
    [1, LATEST],
    FLOATS,
    0,
    build
);
