//! LayerNormalization: per row over the trailing axes, a two-pass mean and variance, then
//! one normalize-scale-shift pass; rows in parallel, Mean and InvStdDev on request.

use ort_core::{ElemType, Error, Value};

use super::{data, expand, narrow, output, sum_by, Flt, PAR_WORK};
use crate::kernel::{input, opt_input, Ctx, Kernel, NodeInfo, Outputs};
use crate::ops::{FLOATS, LATEST};
use crate::parallel::for_each_chunk_pair;
use crate::util::axis;

struct LayerNormalization {
    axis: i64,
    epsilon: f64,
    /// Element types of the Mean and InvStdDev outputs, when wanted.
    stats: [Option<ElemType>; 2],
}

pub(crate) fn build(info: &NodeInfo<'_, '_>) -> Result<Box<dyn Kernel>, Error> {
    let stash = match info.int("stash_type", 1)? {
        1 => ElemType::F32,
        11 => ElemType::F64,
        16 => ElemType::BF16,
        10 => ElemType::F16,
        s => return Err(Error::invalid(format!("unsupported stash_type {s}"))),
    };
    let wanted = |i: usize| {
        (info.num_outputs() > i && !info.node.outputs[i].is_empty())
            .then(|| info.output_type(i).unwrap_or(stash))
    };
    Ok(Box::new(LayerNormalization {
        axis: info.int("axis", -1)?,
        epsilon: info.float("epsilon", 1e-5)? as f64,
        stats: [wanted(1), wanted(2)],
    }))
}

/// Mean and population variance of one vector (two passes, for accuracy).
#[inline(always)]
pub(super) fn moments<F: Flt>(x: &[F]) -> (F, F) {
    let n = F::of(x.len().max(1) as f64);
    let mean = sum_by(x, |v| v) / n;
    let var = sum_by(x, |v| (v - mean) * (v - mean)) / n;
    (mean, var)
}

impl Kernel for LayerNormalization {
    fn compute(&self, inputs: &[Option<&Value>], ctx: &Ctx<'_>) -> Outputs {
        let (x, scale, bias) = (input(inputs, 0)?, input(inputs, 1)?, opt_input(inputs, 2)?);
        let s = x.shape();
        let ax = axis(self.axis, s.len())?;
        let d = s[ax..].iter().product::<i64>() as usize;
        let rows = x.len().checked_div(d).unwrap_or(0);
        let mut stat_shape = s.to_vec();
        stat_shape[ax..].fill(1);
        with_float!(x.elem(), F => {
            let xd = data::<F>(x)?;
            // Scale and B repeat per row unless they vary along the leading axes too.
            let param = |t: &ort_core::Tensor| -> Result<Vec<F>, Error> {
                let to = if t.rank() <= s.len() - ax { &s[ax..] } else { s };
                expand(&data::<F>(t)?, t.shape(), to)
            };
            let sc = param(scale)?;
            let b = bias.map(param).transpose()?;
            let mut stats = vec![(F::zero(), F::zero()); rows];
            let eps = F::of(self.epsilon);
            let y = output::<F>(ctx, x.elem(), s, |o| {
                if d == 0 {
                    return;
                }
                let f = |r: usize, o: &mut [F], st: &mut [(F, F)]| {
                    // Parameters repeat per row, or (rarely) vary along leading axes too.
                    let at = |p: &[F]| if p.len() == d { 0 } else { r * d };
                    let bias = b.as_ref().map(|b| &b[at(b)..at(b) + d]);
                    let x = &xd[r * d..][..d];
                    st[0] = norm_row(x, o, &sc[at(&sc)..at(&sc) + d], bias, eps);
                };
                let threads = if o.len() >= PAR_WORK { ctx.threads } else { 1 };
                for_each_chunk_pair(threads, (o, d), (&mut stats, 1), f);
            })?;
            let mut outs = vec![Some(Value::from(y))];
            let mean: Vec<F> = stats.iter().map(|s| s.0).collect();
            let inv: Vec<F> = stats.iter().map(|s| s.1).collect();
            for (st, v) in self.stats.iter().zip([&mean, &inv]) {
                outs.push(st.map(|e| narrow(ctx, e, &stat_shape, v)).transpose()?.map(Value::from));
            }
            Ok(outs)
        })
    }
}

simd_fn! {
    /// Normalizes one row, returning its mean and inverse standard deviation.
    pub(crate) fn norm_row[F: Flt](x: &[F], o: &mut [F], scale: &[F], bias: Option<&[F]>, eps: F) -> (F, F) {
        let (mean, var) = moments(x);
        let k = F::one() / (var + eps).sqrt();
        match bias {
            Some(b) => {
                for ((o, &v), (&g, &b)) in o.iter_mut().zip(x).zip(scale.iter().zip(b)) {
                    *o = (v - mean) * k * g + b;
                }
            }
            None => o.iter_mut().zip(x).zip(scale).for_each(|((o, &v), &g)| *o = (v - mean) * k * g),
        }
        (mean, k)
    }
}

simd_fn! {
    /// [`norm_row`] of a row normalized where it lies.
    pub(crate) fn norm_in_place[F: Flt](o: &mut [F], scale: &[F], bias: Option<&[F]>, eps: F) {
        let (mean, var) = moments(o);
        let k = F::one() / (var + eps).sqrt();
        match bias {
            Some(b) => {
                for (o, (&g, &b)) in o.iter_mut().zip(scale.iter().zip(b)) {
                    *o = (*o - mean) * k * g + b;
                }
            }
            None => o.iter_mut().zip(scale).for_each(|(o, &g)| *o = (*o - mean) * k * g),
        }
    }
}

crate::register!("LayerNormalization", [17, LATEST], FLOATS, build);
