//! LpNormalization: divides by the L1 or L2 norm along one axis.

use ort_core::{Error, Value};

use super::{data, output};
use crate::kernel::{input, one, Ctx, Kernel, NodeInfo, Outputs};
use crate::ops::{FLOATS, LATEST};
use crate::util::axis;

struct LpNormalization {
    axis: i64,
    p: i64,
}

fn build(info: &NodeInfo<'_, '_>) -> Result<Box<dyn Kernel>, Error> {
    let p = info.int("p", 2)?;
    if p != 1 && p != 2 {
        return Err(Error::invalid(format!(
            "LpNormalization p must be 1 or 2, got {p}"
        )));
    }
    Ok(Box::new(LpNormalization {
        axis: info.int("axis", -1)?,
        p,
    }))
}

impl Kernel for LpNormalization {
    fn compute(&self, inputs: &[Option<&Value>], ctx: &Ctx<'_>) -> Outputs {
        let x = input(inputs, 0)?;
        let s = x.shape();
        let ax = axis(self.axis, s.len())?;
        let n = s.get(ax).copied().unwrap_or(1) as usize;
        let inner = s[(ax + 1).min(s.len())..].iter().product::<i64>() as usize;
        let p = self.p;
        one(with_float!(x.elem(), F => {
            let xd = data::<F>(x)?;
            output::<F>(ctx, x.elem(), s, |o| {
                if n * inner == 0 {
                    return;
                }
                for (ob, xb) in o.chunks_mut(n * inner).zip(xd.chunks(n * inner)) {
                    for j in 0..inner {
                        let mut acc = F::zero();
                        for i in 0..n {
                            let v = xb[i * inner + j];
                            acc += if p == 1 { v.abs() } else { v * v };
                        }
                        let norm = if p == 1 { acc } else { acc.sqrt() };
                        for i in 0..n {
                            let v = xb[i * inner + j];
                            ob[i * inner + j] = if norm == F::zero() { F::zero() } else { v / norm };
                        }
                    }
                }
            })
        })?)
    }
}

crate::register!("LpNormalization", [1, LATEST], FLOATS, build);
