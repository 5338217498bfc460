//! ConvTranspose: per image and group one GEMM `Wᵀ·X` into columns, then col2im adds
//! each kernel tap's row into the output, channels in parallel.

use ort_core::{Error, Value};
use rayon::prelude::*;

use super::blas::{gemm, Mat};
use super::window::{AutoPad, Window};
use super::{data, numel, output, Flt, PAR_WORK};
use crate::kernel::{input, one, opt_input, Ctx, Kernel, NodeInfo, Outputs};
use crate::ops::{FLOATS, LATEST};
use crate::util::{dims, shape_i64};

struct ConvTranspose {
    window: Window,
    group: usize,
    output_padding: Option<Vec<i64>>,
    output_shape: Option<Vec<i64>>,
}

fn build(info: &NodeInfo<'_, '_>) -> Result<Box<dyn Kernel>, Error> {
    let group = info.int("group", 1)?;
    if group < 1 {
        return Err(Error::invalid(format!(
            "group must be positive, got {group}"
        )));
    }
    Ok(Box::new(ConvTranspose {
        window: Window::parse(info)?,
        group: group as usize,
        output_padding: info.ints("output_padding")?,
        output_shape: info.ints("output_shape")?,
    }))
}

/// Per spatial axis: input size, output size, kernel, stride, dilation, begin pad.
struct Axes {
    input: Vec<usize>,
    output: Vec<usize>,
    kernel: Vec<usize>,
    strides: Vec<usize>,
    dilations: Vec<usize>,
    pad: Vec<isize>,
}

impl ConvTranspose {
    fn axes(&self, input: &[usize], kernel: &[usize]) -> Result<Axes, Error> {
        let rank = input.len();
        if self.window.kernel.as_ref().is_some_and(|k| k != kernel) {
            return Err(Error::invalid(format!(
                "kernel_shape differs from the weights' {kernel:?}"
            )));
        }
        let (strides, dilations, pads) = self.window.params(rank)?;
        let opad = match &self.output_padding {
            None => vec![0; rank],
            Some(v) if v.len() == rank && v.iter().all(|&p| p >= 0) => {
                v.iter().map(|&p| p as usize).collect()
            }
            Some(v) => return Err(Error::invalid(format!("bad output_padding {v:?}"))),
        };
        let wanted = match &self.output_shape {
            // Some exporters include the batch and channel axes.
            Some(v) if v.len() >= rank && v[v.len() - rank..].iter().all(|&d| d >= 0) => {
                Some(&v[v.len() - rank..])
            }
            Some(v) => return Err(Error::invalid(format!("bad output_shape {v:?}"))),
            None => None,
        };
        let mut a = Axes {
            input: input.to_vec(),
            output: vec![0; rank],
            kernel: kernel.to_vec(),
            pad: vec![0; rank],
            strides,
            dilations,
        };
        for i in 0..rank {
            let s = a.strides[i];
            let full =
                (s * input[i].saturating_sub(1) + opad[i] + (kernel[i] - 1) * a.dilations[i] + 1)
                    as isize;
            let target = match (wanted, self.window.auto_pad) {
                (Some(w), _) => Some(w[i] as isize),
                (None, AutoPad::SameUpper | AutoPad::SameLower) => Some((input[i] * s) as isize),
                _ => None,
            };
            (a.output[i], a.pad[i]) = match target {
                Some(t) => {
                    let total = full - t;
                    // A negative total means zeros appended at the end, no cropping.
                    let begin = match self.window.auto_pad {
                        _ if total <= 0 => 0,
                        AutoPad::SameUpper => total / 2,
                        _ => total - total / 2,
                    };
                    (t as usize, begin)
                }
                None if self.window.auto_pad == AutoPad::Valid => (full as usize, 0),
                None => {
                    let size = full - (pads[i] + pads[i + rank]) as isize;
                    if size < 0 {
                        return Err(Error::invalid(format!(
                            "pads {pads:?} crop the whole output"
                        )));
                    }
                    (size as usize, pads[i] as isize)
                }
            };
        }
        Ok(a)
    }
}

impl Kernel for ConvTranspose {
    fn compute(&self, inputs: &[Option<&Value>], ctx: &Ctx<'_>) -> Outputs {
        let (x, w, b) = (input(inputs, 0)?, input(inputs, 1)?, opt_input(inputs, 2)?);
        let (xs, ws) = (dims(x.shape()), dims(w.shape()));
        if xs.len() < 3 || ws.len() != xs.len() {
            return Err(Error::invalid(format!(
                "ConvTranspose needs X of rank >= 3 and W of the same rank, got {xs:?} and {ws:?}"
            )));
        }
        if w.elem() != x.elem() || b.is_some_and(|b| b.elem() != x.elem()) {
            return Err(Error::invalid("X, W and B must share one element type"));
        }
        let (c, group) = (xs[1], self.group);
        let m = ws[1] * group;
        if ws[0] != c || c % group != 0 || ws[2..].contains(&0) || b.is_some_and(|b| b.len() != m) {
            return Err(Error::invalid(format!(
                "W {ws:?} (or B) does not fit {c} input channels in {group} groups"
            )));
        }
        let a = self.axes(&xs[2..], &ws[2..])?;
        let mut out_shape = vec![xs[0], m];
        out_shape.extend(&a.output);
        one(with_float!(x.elem(), F => {
            let (xd, wd) = (data::<F>(x)?, data::<F>(w)?);
            let bd = b.map(data::<F>).transpose()?;
            output::<F>(ctx, x.elem(), &shape_i64(&out_shape), |o| {
                run(&a, (xs[0], c, m, group), &xd, &wd, bd.as_deref(), o, ctx.threads)
            })
        })?)
    }
}

crate::register!("ConvTranspose", [1, LATEST], FLOATS, build);

/// Per image and group: cols = Wᵀ·X (a row per output channel and kernel tap),
/// then each row is scattered into the output (col2im), channels in parallel.
fn run<F: Flt>(
    a: &Axes,
    (n, c, m, group): (usize, usize, usize, usize),
    x: &[F],
    w: &[F],
    b: Option<&[F]>,
    out: &mut [F],
    threads: usize,
) {
    let (cg, mg) = (c / group, m / group);
    let (kv, in_sz, out_sz) = (numel(&a.kernel), numel(&a.input), numel(&a.output));
    if out_sz == 0 || m == 0 {
        return;
    }
    let mut cols = vec![F::zero(); mg * kv * in_sz];
    for ni in 0..n {
        for gi in 0..group {
            let xg = &x[(ni * c + gi * cg) * in_sz..][..cg * in_sz];
            let wg = Mat::rows(&w[gi * cg * mg * kv..][..cg * mg * kv], mg * kv).t();
            gemm(
                (mg * kv, in_sz, cg),
                wg,
                Mat::rows(xg, in_sz),
                &mut cols,
                in_sz,
                F::one(),
                false,
                threads,
            );
            let og = &mut out[(ni * m + gi * mg) * out_sz..][..mg * out_sz];
            let channel = |mi: usize, o: &mut [F]| {
                o.fill(b.map_or(F::zero(), |b| b[gi * mg + mi]));
                for k in 0..kv {
                    col2im_row(a, k, &cols[(mi * kv + k) * in_sz..][..in_sz], o);
                }
            };
            if threads > 1 && cols.len() >= PAR_WORK {
                og.par_chunks_mut(out_sz)
                    .enumerate()
                    .for_each(|(mi, o)| channel(mi, o));
            } else {
                og.chunks_mut(out_sz)
                    .enumerate()
                    .for_each(|(mi, o)| channel(mi, o));
            }
        }
    }
}

/// Adds one kernel tap's contributions (`row`, one per input position) to an
/// output channel.
fn col2im_row<F: Flt>(a: &Axes, mut k: usize, row: &[F], o: &mut [F]) {
    let rank = a.input.len();
    let mut taps = vec![0isize; rank];
    for i in (0..rank).rev() {
        taps[i] = (k % a.kernel[i] * a.dilations[i]) as isize - a.pad[i];
        k /= a.kernel[i];
    }
    let last = rank - 1;
    let (iw, s, t, ow) = (
        a.input[last],
        a.strides[last] as isize,
        taps[last],
        a.output[last] as isize,
    );
    if iw == 0 {
        return;
    }
    // Input positions j on the last axis whose target j*s + t lies in [0, ow).
    let lo = if t >= 0 { 0 } else { (-t + s - 1) / s };
    let hi = if ow - t <= 0 {
        0
    } else {
        ((ow - t + s - 1) / s).min(iw as isize)
    };
    for (r, seg) in row.chunks(iw).enumerate() {
        let (mut rem, mut base, mut step, mut inside) = (r, 0usize, a.output[last], true);
        for i in (0..last).rev() {
            let p = (rem % a.input[i] * a.strides[i]) as isize + taps[i];
            rem /= a.input[i];
            if p < 0 || p >= a.output[i] as isize {
                inside = false;
                break;
            }
            base += p as usize * step;
            step *= a.output[i];
        }
        if !inside {
            continue;
        }
        for j in lo..hi {
            o[base + (j * s + t) as usize] += seg[j as usize];
        }
    }
}
