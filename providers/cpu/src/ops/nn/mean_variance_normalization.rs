//! MeanVarianceNormalization: `(x - E[x]) / (sqrt(E[(x - E[x])²]) + 1e-9)` over `axes`.

use ort_core::{Error, Value};

use super::{data, output};
use crate::kernel::{input, one, Ctx, Kernel, NodeInfo, Outputs};
use crate::ops::{FLOATS, LATEST};
use crate::util::axis;

struct MeanVarianceNormalization {
    axes: Vec<i64>,
}

fn build(info: &NodeInfo<'_, '_>) -> Result<Box<dyn Kernel>, Error> {
    Ok(Box::new(MeanVarianceNormalization {
        axes: info.ints("axes")?.unwrap_or_else(|| vec![0, 2, 3]),
    }))
}

impl Kernel for MeanVarianceNormalization {
    fn compute(&self, inputs: &[Option<&Value>], ctx: &Ctx<'_>) -> Outputs {
        let x = input(inputs, 0)?;
        let s = x.shape();
        let mut reduced = vec![false; s.len()];
        for &a in &self.axes {
            reduced[axis(a, s.len())?] = true;
        }
        // Each element's slot among the kept (non-reduced) index combinations.
        let dims: Vec<usize> = s.iter().map(|&d| d as usize).collect();
        let mut kept_stride = vec![0usize; dims.len()];
        let mut slots = 1usize;
        for i in (0..dims.len()).rev() {
            if !reduced[i] {
                kept_stride[i] = slots;
                slots *= dims[i];
            }
        }
        let n = x.len();
        let mut slot = vec![0usize; n];
        let mut idx = vec![0usize; dims.len()];
        for v in slot.iter_mut() {
            *v = idx.iter().zip(&kept_stride).map(|(i, s)| i * s).sum();
            for i in (0..dims.len()).rev() {
                idx[i] += 1;
                if idx[i] < dims[i] {
                    break;
                }
                idx[i] = 0;
            }
        }
        let count = (n / slots.max(1)).max(1);
        one(with_float!(x.elem(), F => {
            let xd = data::<F>(x)?;
            let mut mean = vec![F::zero(); slots];
            for (&v, &k) in xd.iter().zip(&slot) {
                mean[k] += v;
            }
            let cnt = F::of(count as f64);
            mean.iter_mut().for_each(|m| *m /= cnt);
            let mut var = vec![F::zero(); slots];
            for (&v, &k) in xd.iter().zip(&slot) {
                let d = v - mean[k];
                var[k] += d * d;
            }
            let eps = F::of(1e-9);
            let den: Vec<F> = var.iter().map(|&v| (v / cnt).sqrt() + eps).collect();
            output::<F>(ctx, x.elem(), s, |o| {
                for ((o, &v), &k) in o.iter_mut().zip(xd.iter()).zip(&slot) {
                    *o = (v - mean[k]) / den[k];
                }
            })
        })?)
    }
}

crate::register!("MeanVarianceNormalization", [9, LATEST], FLOATS, build);
