//! AffineGrid (opset 20): the sampling grid of an affine transform, for GridSample.

use ort_core::{Error, Value};

use crate::kernel::{input, one, Ctx, Kernel, NodeInfo, Outputs};
use crate::ops::nn::{data, output};
use crate::ops::{FLOATS, LATEST};

struct AffineGrid {
    align_corners: bool,
}

fn build(info: &NodeInfo<'_, '_>) -> Result<Box<dyn Kernel>, Error> {
    Ok(Box::new(AffineGrid {
        align_corners: info.int("align_corners", 0)? != 0,
    }))
}

impl AffineGrid {
    /// Normalized coordinates of the `n` positions along one axis.
    fn base(&self, n: usize) -> Vec<f64> {
        (0..n)
            .map(|i| {
                if self.align_corners {
                    if n == 1 {
                        -1.0
                    } else {
                        -1.0 + 2.0 * i as f64 / (n - 1) as f64
                    }
                } else {
                    (2 * i + 1) as f64 / n as f64 - 1.0
                }
            })
            .collect()
    }
}

impl Kernel for AffineGrid {
    fn compute(&self, inputs: &[Option<&Value>], ctx: &Ctx<'_>) -> Outputs {
        let theta = input(inputs, 0)?;
        let size = input(inputs, 1)?.to_i64_vec()?;
        let ts = theta.shape();
        let k = size.len().saturating_sub(2);
        if !(k == 2 || k == 3)
            || ts.len() != 3
            || ts[0] != size[0]
            || ts[1] != k as i64
            || ts[2] != k as i64 + 1
            || size.iter().any(|&d| d < 0)
        {
            return Err(Error::invalid(format!(
                "theta {ts:?} and size {size:?} must be (N, 2, 3) with (N, C, H, W) or (N, 3, 4) with (N, C, D, H, W)"
            )));
        }
        let n = size[0] as usize;
        // Spatial sizes, padded to (D, H, W).
        let sp: Vec<usize> = size[2..].iter().map(|&d| d as usize).collect();
        let (d, h, w) = if k == 2 {
            (1, sp[0], sp[1])
        } else {
            (sp[0], sp[1], sp[2])
        };
        let (bz, by, bx) = (self.base(d), self.base(h), self.base(w));
        let mut shape = vec![n as i64];
        shape.extend_from_slice(&size[2..]);
        shape.push(k as i64);
        one(crate::with_float!(theta.elem(), F => {
            let th = data::<F>(theta)?;
            output::<F>(ctx, theta.elem(), &shape, |o| {
                let mut it = o.iter_mut();
                for b in 0..n {
                    let t: Vec<f64> = th[b * k * (k + 1)..(b + 1) * k * (k + 1)]
                        .iter()
                        .map(|v| v.f64())
                        .collect();
                    for &z in &bz {
                        for &y in &by {
                            for &x in &bx {
                                let p: &[f64] = if k == 2 { &[x, y, 1.0] } else { &[x, y, z, 1.0] };
                                for r in 0..k {
                                    let v: f64 = (0..=k).map(|c| t[r * (k + 1) + c] * p[c]).sum();
                                    if let Some(o) = it.next() {
                                        *o = F::of(v);
                                    }
                                }
                            }
                        }
                    }
                }
            })
        })?)
    }
}

crate::register!("AffineGrid", [20, LATEST], FLOATS, build);
