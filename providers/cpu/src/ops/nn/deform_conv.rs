//! DeformConv (opsets 19, 22): 2-D convolution whose kernel taps are moved by
//! learned per-position offsets (bilinear sampling, zeros outside) and scaled by
//! an optional mask.

use ort_core::{Error, Value};
use rayon::prelude::*;

use super::{data, output, Flt, PAR_WORK};
use crate::kernel::{input, one, opt_input, Ctx, Kernel, NodeInfo, Outputs};
use crate::ops::{FLOATS, LATEST};
use crate::util::dims;

struct DeformConv {
    dilations: Option<Vec<i64>>,
    group: usize,
    kernel_shape: Option<Vec<i64>>,
    offset_group: usize,
    pads: Option<Vec<i64>>,
    strides: Option<Vec<i64>>,
}

fn build(info: &NodeInfo<'_, '_>) -> Result<Box<dyn Kernel>, Error> {
    let (group, offset_group) = (info.int("group", 1)?, info.int("offset_group", 1)?);
    if group <= 0 || offset_group <= 0 {
        return Err(Error::invalid(format!(
            "DeformConv: group {group} and offset_group {offset_group} must be positive"
        )));
    }
    Ok(Box::new(DeformConv {
        dilations: info.ints("dilations")?,
        group: group as usize,
        kernel_shape: info.ints("kernel_shape")?,
        offset_group: offset_group as usize,
        pads: info.ints("pads")?,
        strides: info.ints("strides")?,
    }))
}

/// Bilinear sample of `plane` (h × w) at (y, x), zero outside.
#[inline]
fn sample<F: Flt>(plane: &[F], h: usize, w: usize, y: f64, x: f64) -> f64 {
    if y <= -1.0 || y >= h as f64 || x <= -1.0 || x >= w as f64 {
        return 0.0;
    }
    let (y0, x0) = (y.floor(), x.floor());
    let (ly, lx) = (y - y0, x - x0);
    let (y0, x0) = (y0 as isize, x0 as isize);
    let at = |yy: isize, xx: isize| -> f64 {
        if yy < 0 || xx < 0 || yy >= h as isize || xx >= w as isize {
            0.0
        } else {
            plane[yy as usize * w + xx as usize].f64()
        }
    };
    (1.0 - ly) * (1.0 - lx) * at(y0, x0)
        + (1.0 - ly) * lx * at(y0, x0 + 1)
        + ly * (1.0 - lx) * at(y0 + 1, x0)
        + ly * lx * at(y0 + 1, x0 + 1)
}

impl Kernel for DeformConv {
    fn compute(&self, inputs: &[Option<&Value>], ctx: &Ctx<'_>) -> Outputs {
        let x = input(inputs, 0)?;
        let wt = input(inputs, 1)?;
        let off = input(inputs, 2)?;
        let b = opt_input(inputs, 3)?;
        let mask = opt_input(inputs, 4)?;
        let (xs, ws, os) = (dims(x.shape()), dims(wt.shape()), dims(off.shape()));
        if xs.len() != 4 || ws.len() != 4 || os.len() != 4 {
            return Err(Error::not_implemented(format!(
                "DeformConv supports 2-D inputs only, got X {xs:?}, W {ws:?}, offset {os:?}"
            )));
        }
        let (n, ic, ih, iw) = (xs[0], xs[1], xs[2], xs[3]);
        let (oc, icg, kh, kw) = (ws[0], ws[1], ws[2], ws[3]);
        let (g, og) = (self.group, self.offset_group);
        if let Some(k) = &self.kernel_shape {
            if k.as_slice() != [kh as i64, kw as i64] {
                return Err(Error::invalid(format!(
                    "DeformConv: kernel_shape {k:?} differs from the weights' {:?}",
                    &ws[2..]
                )));
            }
        }
        let two = |v: &Option<Vec<i64>>, len: usize, d: i64| -> Result<Vec<i64>, Error> {
            let v = v.clone().unwrap_or_else(|| vec![d; len]);
            if v.len() != len || v.iter().any(|&x| x < 0) {
                return Err(Error::invalid(format!("DeformConv: bad attribute {v:?}")));
            }
            Ok(v)
        };
        let (st, dl, pd) = (
            two(&self.strides, 2, 1)?,
            two(&self.dilations, 2, 1)?,
            two(&self.pads, 4, 0)?,
        );
        let k = kh * kw;
        let (oh, ow) = (os[2], os[3]);
        if ic != icg * g
            || oc % g != 0
            || ic % og != 0
            || os[0] != n
            || os[1] != og * 2 * k
            || st.contains(&0)
            || dl.contains(&0)
        {
            return Err(Error::invalid(format!(
                "DeformConv: shapes X {xs:?}, W {ws:?}, offset {os:?} do not fit group {g} and offset_group {og}"
            )));
        }
        for (i, (ins, o)) in [(ih, oh), (iw, ow)].into_iter().enumerate() {
            let span = dl[i] * ((if i == 0 { kh } else { kw }) as i64 - 1) + 1;
            let expect = (ins as i64 + pd[i] + pd[i + 2] - span) / st[i] + 1;
            if expect != o as i64 {
                return Err(Error::invalid(format!(
                    "DeformConv: offset spatial size {o} on axis {i} should be {expect}"
                )));
            }
        }
        if let Some(m) = mask {
            if m.shape() != [n as i64, (og * k) as i64, oh as i64, ow as i64] {
                return Err(Error::invalid(format!(
                    "DeformConv: mask shape {:?} should be [{n}, {}, {oh}, {ow}]",
                    m.shape(),
                    og * k
                )));
            }
        }
        if let Some(b) = b {
            if b.len() != oc {
                return Err(Error::invalid(format!(
                    "DeformConv: bias must have {oc} values"
                )));
            }
        }
        let p = oh * ow;
        let shape = [n as i64, oc as i64, oh as i64, ow as i64];
        let (ocg, icog) = (oc / g, ic / og);
        one(with_float!(x.elem(), F => {
            let xd = data::<F>(x)?;
            let wd = data::<F>(wt)?;
            let od = data::<F>(off)?;
            let md = mask.map(data::<F>).transpose()?;
            let bd = b.map(data::<F>).transpose()?;
            output::<F>(ctx, x.elem(), &shape, |o| {
                if p == 0 {
                    return;
                }
                for bn in 0..n {
                    // Columns: (ic, kh, kw) rows of p sampled values.
                    let mut col = vec![F::zero(); ic * k * p];
                    let fill = |(row, cr): (usize, &mut [F])| {
                        let (c, kk) = (row / k, row % k);
                        let (ki, kj) = (kk / kw, kk % kw);
                        let gi = c / icog;
                        let plane = &xd[(bn * ic + c) * ih * iw..][..ih * iw];
                        let base = (bn * og + gi) * 2 * k + 2 * kk;
                        let dy = &od[base * p..][..p];
                        let dx = &od[(base + 1) * p..][..p];
                        let m = md.as_ref().map(|m| &m[((bn * og + gi) * k + kk) * p..][..p]);
                        for (q, v) in cr.iter_mut().enumerate() {
                            let (i, j) = (q / ow, q % ow);
                            let y = (i as i64 * st[0] - pd[0] + (ki as i64) * dl[0]) as f64 + dy[q].f64();
                            let xx = (j as i64 * st[1] - pd[1] + (kj as i64) * dl[1]) as f64 + dx[q].f64();
                            let mut s = sample(plane, ih, iw, y, xx);
                            if let Some(m) = m {
                                s *= m[q].f64();
                            }
                            *v = F::of(s);
                        }
                    };
                    if ctx.threads > 1 && col.len() >= PAR_WORK {
                        col.par_chunks_mut(p).enumerate().for_each(fill);
                    } else {
                        col.chunks_mut(p).enumerate().for_each(fill);
                    }
                    let ob = &mut o[bn * oc * p..(bn + 1) * oc * p];
                    let gemm = |(c, orow): (usize, &mut [F])| {
                        let gi = c / ocg;
                        orow.fill(bd.as_ref().map_or(F::zero(), |b| b[c]));
                        for r in 0..icg * k {
                            let wv = wd[c * icg * k + r];
                            let src = &col[(gi * icg * k + r) * p..][..p];
                            for (d, &s) in orow.iter_mut().zip(src) {
                                *d += wv * s;
                            }
                        }
                    };
                    if ctx.threads > 1 && ob.len() * icg * k >= PAR_WORK {
                        ob.par_chunks_mut(p).enumerate().for_each(gemm);
                    } else {
                        ob.chunks_mut(p).enumerate().for_each(gemm);
                    }
                }
            })
        })?)
    }
}

crate::register!("DeformConv", [19, LATEST], FLOATS, build);
