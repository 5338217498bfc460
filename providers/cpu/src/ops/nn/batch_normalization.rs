//! BatchNormalization: `y = x·a + b` with scale, bias, mean and variance folded per
//! channel; training uses two-pass batch statistics and blends running ones by momentum.

use ort_core::{Error, Tensor, Value};

use super::{data, narrow, output, Flt, PAR_WORK};
use crate::kernel::{input, Ctx, Kernel, NodeInfo, Outputs};
use crate::ops::{FLOATS, LATEST};

struct BatchNormalization {
    epsilon: f64,
    momentum: f64,
    training: bool,
    outputs: usize,
}

fn build(info: &NodeInfo<'_, '_>) -> Result<Box<dyn Kernel>, Error> {
    let training = info.opset() >= 14 && info.int("training_mode", 0)? != 0;
    Ok(Box::new(BatchNormalization {
        epsilon: info.float("epsilon", 1e-5)? as f64,
        momentum: info.float("momentum", 0.9)? as f64,
        training,
        outputs: info.num_outputs(),
    }))
}

impl Kernel for BatchNormalization {
    fn compute(&self, inputs: &[Option<&Value>], ctx: &Ctx<'_>) -> Outputs {
        let x = input(inputs, 0)?;
        let params: Vec<&Tensor> = (1..5).map(|i| input(inputs, i)).collect::<Result<_, _>>()?;
        let xs = x.shape();
        if xs.len() < 2 {
            return Err(Error::invalid(format!(
                "X must have rank >= 2, got shape {xs:?}"
            )));
        }
        let c = xs[1] as usize;
        let plane = xs[2..].iter().product::<i64>() as usize;
        // Before opset 9, spatial=0 gives every (channel, position) its own parameters.
        let per_element = params[0].len() == c * plane && plane != 1;
        let want = if per_element { c * plane } else { c };
        if let Some(p) = params.iter().find(|p| p.len() != want) {
            return Err(Error::invalid(format!(
                "parameter of shape {:?} does not fit X {xs:?}",
                p.shape()
            )));
        }
        if self.training && per_element {
            return Err(Error::not_implemented(
                "training mode with per-element parameters",
            ));
        }
        let (unit, len) = if per_element {
            (1, c * plane)
        } else {
            (plane, c)
        };
        with_float!(x.elem(), F => {
            let xd = data::<F>(x)?;
            let [scale, bias, mean, var] = [0, 1, 2, 3].map(|i| data::<F>(params[i]));
            let (scale, bias, mut mean, mut var) = (scale?, bias?, mean?.into_owned(), var?.into_owned());
            let running = if self.training {
                let (cm, cv) = batch_stats(&xd, c, plane);
                let mom = F::of(self.momentum);
                let blend = |old: &[F], new: &[F]| -> Vec<F> {
                    old.iter().zip(new).map(|(&o, &n)| o * mom + n * (F::one() - mom)).collect()
                };
                let r = (blend(&mean, &cm), blend(&var, &cv));
                (mean, var) = (cm, cv);
                Some(r)
            } else {
                None
            };
            // y = x·a + b per channel (or per element).
            let eps = F::of(self.epsilon);
            let a: Vec<F> = (0..len).map(|j| scale[j] / (var[j] + eps).sqrt()).collect();
            let b: Vec<F> = (0..len).map(|j| bias[j] - mean[j] * a[j]).collect();
            let y = output::<F>(ctx, x.elem(), xs, |o| {
                let f = |(i, (o, x)): (usize, (&mut [F], &[F]))| {
                    let j = i % len;
                    o.iter_mut().zip(x).for_each(|(o, &v)| *o = v * a[j] + b[j]);
                };
                if o.is_empty() {
                    return;
                }
                let threads = if o.len() >= PAR_WORK { ctx.threads } else { 1 };
                crate::parallel::for_each_chunk(threads, o, unit, |i, o| {
                    let x = &xd[i * unit..][..o.len()];
                    f((i, (o, x)))
                });
            })?;
            let mut outs = vec![Some(Value::from(y))];
            if self.outputs > 1 {
                let (rm, rv) = match running {
                    Some((rm, rv)) => (rm, rv),
                    None => (mean, var),
                };
                let (et, shape) = (params[2].elem(), params[2].shape());
                outs.push(Some(narrow(ctx, et, shape, &rm)?.into()));
                outs.push(Some(narrow(ctx, et, shape, &rv)?.into()));
            }
            Ok(outs)
        })
    }
}

/// Per-channel mean and population variance over the batch and spatial axes.
fn batch_stats<F: Flt>(x: &[F], c: usize, plane: usize) -> (Vec<F>, Vec<F>) {
    let count = F::of((x.len() / c.max(1)) as f64);
    let mut mean = vec![F::zero(); c];
    let mut var = vec![F::zero(); c];
    if plane == 0 || count == F::zero() {
        return (mean, var);
    }
    for (i, p) in x.chunks(plane).enumerate() {
        mean[i % c] += p.iter().copied().sum::<F>();
    }
    mean.iter_mut().for_each(|m| *m = *m / count);
    for (i, p) in x.chunks(plane).enumerate() {
        let m = mean[i % c];
        var[i % c] += p.iter().map(|&v| (v - m) * (v - m)).sum::<F>();
    }
    var.iter_mut().for_each(|v| *v = *v / count);
    (mean, var)
}

crate::register!("BatchNormalization", [1, LATEST], FLOATS, build);
