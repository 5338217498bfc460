//! RMSNormalization (opset 23): `x / sqrt(mean(x²) + ε) · scale` over the trailing
//! axes from `axis` on.

use ort_core::{Error, Value};

use super::{data, expand, output, sum_by, Flt, PAR_WORK};
use crate::kernel::{input, one, Ctx, Kernel, NodeInfo, Outputs};
use crate::ops::{FLOATS, LATEST};
use crate::util::axis;

struct RmsNormalization {
    axis: i64,
    epsilon: f64,
}

pub(crate) fn build(info: &NodeInfo<'_, '_>) -> Result<Box<dyn Kernel>, Error> {
    match info.int("stash_type", 1)? {
        1 | 11 => {}
        s => {
            return Err(Error::not_implemented(format!(
                "RMSNormalization stash_type {s} is not supported"
            )))
        }
    }
    Ok(Box::new(RmsNormalization {
        axis: info.int("axis", -1)?,
        epsilon: info.float("epsilon", 1e-5)? as f64,
    }))
}

impl Kernel for RmsNormalization {
    fn compute(&self, inputs: &[Option<&Value>], ctx: &Ctx<'_>) -> Outputs {
        let (x, scale) = (input(inputs, 0)?, input(inputs, 1)?);
        let s = x.shape();
        let ax = axis(self.axis, s.len())?;
        let d = s[ax..].iter().product::<i64>() as usize;
        one(with_float!(x.elem(), F => {
            let xd = data::<F>(x)?;
            // Scale repeats per row unless it also varies along the leading axes.
            let to = if scale.rank() <= s.len() - ax { &s[ax..] } else { s };
            let sc = expand(&data::<F>(scale)?, scale.shape(), to)?;
            let eps = F::of(self.epsilon);
            output::<F>(ctx, x.elem(), s, |o| {
                if d == 0 {
                    return;
                }
                let f = |(r, (o, x)): (usize, (&mut [F], &[F]))| {
                    let at = if sc.len() == d { 0 } else { r * d };
                    rms_row(x, o, &sc[at..at + d], eps);
                };
                let threads = if o.len() >= PAR_WORK { ctx.threads } else { 1 };
                crate::parallel::for_each_chunk(threads, o, d, |r, o| f((r, (o, &xd[r * d..][..d]))));
            })
        })?)
    }
}

simd_fn! {
    /// Normalizes one row by its root mean square.
    fn rms_row[F: Flt](x: &[F], o: &mut [F], scale: &[F], eps: F) {
        let ms = sum_by(x, |v| v * v) / F::of(x.len() as f64);
        let k = F::one() / (ms + eps).sqrt();
        o.iter_mut().zip(x).zip(scale).for_each(|((o, &v), &g)| *o = v * k * g);
    }
}

crate::register!("RMSNormalization", [23, LATEST], FLOATS, build);
