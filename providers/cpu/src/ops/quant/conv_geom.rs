//! Integer convolution (ConvInteger, QLinearConv) as im2col plus one exact f64
//! product per group, over the window geometry of the float convolutions.

use ort_core::Error;

use crate::kernel::NodeInfo;
use crate::ops::nn::window::{Geom, Window};
use crate::util::{gemm_strided, MatRef};

/// Convolution attributes: the window (shared with the float convolutions and
/// pooling) and the group count, resolved against shapes at run time.
pub(crate) struct ConvAttrs {
    window: Window,
    group: i64,
}

/// A convolution's geometry, for an input `[N, C, spatial...]`.
pub(crate) struct ConvGeom {
    pub n: usize,
    pub c: usize,
    pub m: usize,
    pub group: usize,
    win: Geom,
}

impl ConvAttrs {
    pub fn new(info: &NodeInfo<'_, '_>) -> Result<ConvAttrs, Error> {
        Ok(ConvAttrs {
            window: Window::parse(info)?,
            group: info.int("group", 1)?,
        })
    }

    pub fn geom(&self, x: &[i64], w: &[i64]) -> Result<ConvGeom, Error> {
        if x.len() < 3 || w.len() != x.len() {
            return Err(Error::invalid(format!(
                "conv needs x [N, C, ...] and w of equal rank, got {x:?} and {w:?}"
            )));
        }
        let group = self.group;
        if group <= 0 || x[1] != w[1] * group || w[0] % group != 0 {
            return Err(Error::invalid(format!(
                "x {x:?} and w {w:?} do not fit group {group}"
            )));
        }
        let u = |v: &[i64]| v.iter().map(|&d| d as usize).collect::<Vec<_>>();
        let win = self.window.geom(&u(&x[2..]), Some(&u(&w[2..])))?;
        if let Some(d) = win.output.iter().position(|&o| o == 0) {
            return Err(Error::invalid(format!(
                "conv output would be empty along spatial axis {d}"
            )));
        }
        Ok(ConvGeom {
            n: x[0] as usize,
            c: x[1] as usize,
            m: w[0] as usize,
            group: group as usize,
            win,
        })
    }
}

impl ConvGeom {
    pub fn out_shape(&self) -> Vec<i64> {
        [self.n, self.m]
            .iter()
            .chain(&self.win.output)
            .map(|&d| d as i64)
            .collect()
    }

    /// `acc[n, m, out...] = Σ x·w` over each group's channels and the kernel window,
    /// with `x` and `w` already centered on their zero points (padding reads 0).
    pub fn run(&self, x: &[f64], w: &[f64], threads: usize) -> Result<Vec<f64>, Error> {
        let (isz, osz) = (
            self.win.input.iter().product::<usize>(),
            self.win.output.iter().product::<usize>(),
        );
        let kk = self.win.kernel.iter().product::<usize>();
        let (cg, mg) = (self.c / self.group, self.m / self.group);
        // For each (kernel offset, output position): the input position, if inside.
        let src: Vec<Option<usize>> = (0..kk * osz)
            .map(|j| {
                let (mut ki, mut oi, mut flat) = (j / osz, j % osz, 0);
                for d in (0..self.win.input.len()).rev() {
                    let (kd, od) = (ki % self.win.kernel[d], oi % self.win.output[d]);
                    (ki, oi) = (ki / self.win.kernel[d], oi / self.win.output[d]);
                    let pos = (od * self.win.strides[d] + kd * self.win.dilations[d])
                        .checked_sub(self.win.pad_begin[d])?;
                    if pos >= self.win.input[d] {
                        return None;
                    }
                    flat += pos * self.win.input[d + 1..].iter().product::<usize>();
                }
                Some(flat)
            })
            .collect();
        let mut cols = vec![0.0; cg * kk * osz];
        let mut acc = vec![0.0; self.n * self.m * osz];
        for n in 0..self.n {
            for g in 0..self.group {
                for c in 0..cg {
                    let xc = &x[(n * self.c + g * cg + c) * isz..][..isz];
                    let dst = &mut cols[c * kk * osz..(c + 1) * kk * osz];
                    dst.iter_mut()
                        .zip(&src)
                        .for_each(|(d, s)| *d = s.map_or(0.0, |i| xc[i]));
                }
                let wg = MatRef::rows(&w[g * mg * cg * kk..(g + 1) * mg * cg * kk], mg, cg * kk);
                let out = &mut acc[(n * self.m + g * mg) * osz..(n * self.m + (g + 1) * mg) * osz];
                gemm_strided(
                    wg,
                    MatRef::rows(&cols, cg * kk, osz),
                    out,
                    osz,
                    false,
                    threads,
                )?;
            }
        }
        Ok(acc)
    }
}
