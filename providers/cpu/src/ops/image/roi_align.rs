//! RoiAlign (opsets 10, 16, 22): average or max of bilinear samples over a
//! regular grid in every bin of every region of interest.

use ort_core::{Error, Value};
use rayon::prelude::*;

use super::{f64s, par};
use crate::kernel::{input, one, Ctx, Kernel, NodeInfo, Outputs};
use crate::ops::nn::{data, output, Flt};
use crate::ops::{FLOATS, LATEST};
use crate::util::dims;

struct RoiAlign {
    max: bool,
    out_h: usize,
    out_w: usize,
    sampling_ratio: i64,
    spatial_scale: f64,
    half_pixel: bool,
}

fn build(info: &NodeInfo<'_, '_>) -> Result<Box<dyn Kernel>, Error> {
    let max = match info.string("mode", "avg")?.as_str() {
        "avg" => false,
        "max" => true,
        m => return Err(Error::invalid(format!("unknown RoiAlign mode {m:?}"))),
    };
    let half_pixel = if info.opset() < 16 {
        false
    } else {
        match info
            .string("coordinate_transformation_mode", "half_pixel")?
            .as_str()
        {
            "half_pixel" => true,
            "output_half_pixel" => false,
            m => {
                return Err(Error::invalid(format!(
                    "unknown coordinate_transformation_mode {m:?}"
                )))
            }
        }
    };
    let (oh, ow) = (info.int("output_height", 1)?, info.int("output_width", 1)?);
    let sampling_ratio = info.int("sampling_ratio", 0)?;
    if oh <= 0 || ow <= 0 || sampling_ratio < 0 {
        return Err(Error::invalid(format!(
            "RoiAlign: bad output size {oh}x{ow} or sampling_ratio {sampling_ratio}"
        )));
    }
    Ok(Box::new(RoiAlign {
        max,
        out_h: oh as usize,
        out_w: ow as usize,
        sampling_ratio,
        spatial_scale: info.float("spatial_scale", 1.0)? as f64,
        half_pixel,
    }))
}

/// A bilinear sample: four positions in the plane and their weights.
type Sample = ([usize; 4], [f64; 4]);

impl RoiAlign {
    /// The samples of every bin of one region (bin-major), and the samples per bin.
    fn samples(&self, roi: &[f64], h: usize, w: usize) -> (Vec<Sample>, usize, usize) {
        let off = if self.half_pixel { 0.5 } else { 0.0 };
        let s = self.spatial_scale;
        let (x0, y0) = (roi[0] * s - off, roi[1] * s - off);
        let (x1, y1) = (roi[2] * s - off, roi[3] * s - off);
        let (mut rw, mut rh) = (x1 - x0, y1 - y0);
        if !self.half_pixel {
            rw = rw.max(1.0);
            rh = rh.max(1.0);
        }
        let (bh, bw) = (rh / self.out_h as f64, rw / self.out_w as f64);
        let grid = |r: f64, n: usize| {
            if self.sampling_ratio > 0 {
                self.sampling_ratio as usize
            } else {
                (r / n as f64).ceil().max(0.0) as usize
            }
        };
        let (gh, gw) = (grid(rh, self.out_h), grid(rw, self.out_w));
        let (hf, wf) = (h as f64, w as f64);
        let mut out = Vec::with_capacity(self.out_h * self.out_w * gh * gw);
        for ph in 0..self.out_h {
            for pw in 0..self.out_w {
                for iy in 0..gh {
                    let yy = y0 + ph as f64 * bh + (iy as f64 + 0.5) * bh / gh as f64;
                    for ix in 0..gw {
                        let xx = x0 + pw as f64 * bw + (ix as f64 + 0.5) * bw / gw as f64;
                        if yy < -1.0 || yy > hf || xx < -1.0 || xx > wf || h == 0 || w == 0 {
                            out.push(([0; 4], [0.0; 4]));
                            continue;
                        }
                        let (mut y, mut x) = (yy.max(0.0), xx.max(0.0));
                        let (mut yl, mut xl) = (y as usize, x as usize);
                        let (yh, xh);
                        if yl >= h - 1 {
                            yl = h - 1;
                            yh = yl;
                            y = yl as f64;
                        } else {
                            yh = yl + 1;
                        }
                        if xl >= w - 1 {
                            xl = w - 1;
                            xh = xl;
                            x = xl as f64;
                        } else {
                            xh = xl + 1;
                        }
                        let (ly, lx) = (y - yl as f64, x - xl as f64);
                        let (hy, hx) = (1.0 - ly, 1.0 - lx);
                        out.push((
                            [yl * w + xl, yl * w + xh, yh * w + xl, yh * w + xh],
                            [hy * hx, hy * lx, ly * hx, ly * lx],
                        ));
                    }
                }
            }
        }
        (out, gh * gw, (gh * gw).max(1))
    }

    fn pool<F: Flt>(
        &self,
        plane: &[F],
        samples: &[Sample],
        per_bin: usize,
        count: usize,
        o: &mut [F],
    ) {
        for (b, o) in o.iter_mut().enumerate() {
            let bin = &samples[b * per_bin..(b + 1) * per_bin];
            let v = if self.max {
                bin.iter()
                    .map(|(p, w)| {
                        (0..4)
                            .map(|i| w[i] * plane[p[i]].f64())
                            .fold(f64::NEG_INFINITY, f64::max)
                    })
                    .fold(None, |m: Option<f64>, v| Some(m.map_or(v, |m| m.max(v))))
                    .unwrap_or(0.0)
            } else {
                bin.iter()
                    .map(|(p, w)| (0..4).map(|i| w[i] * plane[p[i]].f64()).sum::<f64>())
                    .sum::<f64>()
                    / count as f64
            };
            *o = F::of(v);
        }
    }
}

impl Kernel for RoiAlign {
    fn compute(&self, inputs: &[Option<&Value>], ctx: &Ctx<'_>) -> Outputs {
        let x = input(inputs, 0)?;
        let rois_t = input(inputs, 1)?;
        let bi = input(inputs, 2)?.to_i64_vec()?;
        let xs = dims(x.shape());
        let rs = rois_t.shape();
        if xs.len() != 4 || rs.len() != 2 || rs[1] != 4 || bi.len() != rs[0] as usize {
            return Err(Error::invalid(format!(
                "RoiAlign: X {xs:?} must be 4-D, rois {rs:?} (R, 4) and batch_indices of length R"
            )));
        }
        let (n, c, h, w) = (xs[0], xs[1], xs[2], xs[3]);
        if let Some(&b) = bi.iter().find(|&&b| b < 0 || b as usize >= n) {
            return Err(Error::invalid(format!(
                "RoiAlign: batch index {b} is outside the batch of {n}"
            )));
        }
        let rois = f64s(rois_t)?;
        let r = bi.len();
        let shape = [r as i64, c as i64, self.out_h as i64, self.out_w as i64];
        let plane_out = self.out_h * self.out_w;
        let tables: Vec<_> = (0..r)
            .map(|i| self.samples(&rois[i * 4..i * 4 + 4], h, w))
            .collect();
        one(crate::with_float!(x.elem(), F => {
            let xd = data::<F>(x)?;
            output::<F>(ctx, x.elem(), &shape, |o| {
                if plane_out == 0 {
                    return;
                }
                let f = |(p, o): (usize, &mut [F])| {
                    let (ri, ch) = (p / c, p % c);
                    let (s, per_bin, count) = &tables[ri];
                    let b = bi[ri] as usize;
                    let plane = &xd[(b * c + ch) * h * w..][..h * w];
                    self.pool(plane, s, *per_bin, *count, o);
                };
                if par(ctx.threads, o.len() * 16) {
                    o.par_chunks_mut(plane_out).enumerate().for_each(f);
                } else {
                    o.chunks_mut(plane_out).enumerate().for_each(f);
                }
            })
        })?)
    }
}

crate::register!("RoiAlign", [10, LATEST], FLOATS, build);
