//! SkipSimplifiedLayerNormalization (`com.microsoft`): per row of the last axis,
//! `t = input + skip (+ bias)`, then `t / sqrt(mean(t²) + ε) · gamma`; rows in
//! parallel, `t` kept as output 3 when asked for.

use ort_core::{Error, Tensor, Value};

use crate::kernel::{input, opt_input, Ctx, Kernel, NodeInfo, Outputs};
use crate::ops::nn::{data, output, Flt, PAR_WORK};
use crate::ops::FLOATS;
use crate::parallel::for_each_chunk;

struct SkipSimplifiedLayerNormalization {
    epsilon: f64,
    /// Whether output 3 (the sum) is read.
    sum: bool,
}

impl Kernel for SkipSimplifiedLayerNormalization {
    fn compute(&self, inputs: &[Option<&Value>], ctx: &Ctx<'_>) -> Outputs {
        let (x, skip, gamma) = (input(inputs, 0)?, input(inputs, 1)?, input(inputs, 2)?);
        let bias = opt_input(inputs, 3)?;
        let d = x.shape().last().copied().unwrap_or(0);
        let vec_d = |t: &Tensor| t.elem() == x.elem() && t.shape() == [d];
        if skip.shape() != x.shape()
            || skip.elem() != x.elem()
            || !vec_d(gamma)
            || !bias.is_none_or(vec_d)
            || d == 0
        {
            return Err(Error::invalid(format!(
                "SkipSimplifiedLayerNormalization takes input and skip of one shape and \
                 gamma (and bias) of its last axis, got {:?}, {:?}, {:?}",
                x.shape(),
                skip.shape(),
                gamma.shape()
            )));
        }
        let d = d as usize;
        let (y, sum) = crate::with_float!(x.elem(), F => {
            let (xd, sd, gd) = (data::<F>(x)?, data::<F>(skip)?, data::<F>(gamma)?);
            let bd = bias.map(data::<F>).transpose()?;
            let eps = F::of(self.epsilon);
            let mut t: Vec<F> = xd.iter().zip(sd.iter()).map(|(&a, &b)| a + b).collect();
            if let Some(b) = &bd {
                t.iter_mut().enumerate().for_each(|(i, v)| *v += b[i % d]);
            }
            let y = output::<F>(ctx, x.elem(), x.shape(), |o| {
                let threads = if o.len() >= PAR_WORK { ctx.threads } else { 1 };
                for_each_chunk(threads, o, d, |r, o| rms_row(&t[r * d..][..d], o, &gd, eps));
            })?;
            let sum = if self.sum {
                Some(output::<F>(ctx, x.elem(), x.shape(), |o| o.copy_from_slice(&t))?)
            } else {
                None
            };
            Ok::<_, Error>((y, sum))
        })?;
        Ok(vec![Some(y.into()), None, None, sum.map(Value::from)])
    }
}

fn rms_row<F: Flt>(t: &[F], o: &mut [F], gamma: &[F], eps: F) {
    let ms = t.iter().map(|&v| v * v).fold(F::zero(), |a, b| a + b) / F::of(t.len() as f64);
    let k = F::one() / (ms + eps).sqrt();
    for ((o, &v), &g) in o.iter_mut().zip(t).zip(gamma) {
        *o = v * k * g;
    }
}

fn build(info: &NodeInfo<'_, '_>) -> Result<Box<dyn Kernel>, Error> {
    super::refuse_outputs(info, &[1, 2])?;
    Ok(Box::new(SkipSimplifiedLayerNormalization {
        epsilon: info.float("epsilon", 1e-5)? as f64,
        sum: info.node.outputs.get(3).is_some_and(|o| !o.is_empty()),
    }))
}

crate::register!(
    "SkipSimplifiedLayerNormalization",
    "com.microsoft",
    [1, 1],
    FLOATS,
    0,
    build
);
