//! GridSample (opsets 16, 20, 22): samples X at the normalized positions of a
//! grid, with nearest, (multi)linear or (multi)cubic interpolation and zeros,
//! border or reflection padding, over any number of spatial axes.

use ort_core::{Error, Value};
use rayon::prelude::*;

use super::par;
use crate::kernel::{input, one, Ctx, Kernel, NodeInfo, Outputs};
use crate::ops::nn::{data, output, Flt};
use crate::ops::{FLOATS, LATEST};
use crate::util::dims;

#[derive(Clone, Copy, PartialEq)]
enum Mode {
    Nearest,
    Linear,
    Cubic,
}

#[derive(Clone, Copy, PartialEq)]
enum Padding {
    Zeros,
    Border,
    Reflection,
}

struct GridSample {
    mode: Mode,
    padding: Padding,
    align_corners: bool,
}

fn build(info: &NodeInfo<'_, '_>) -> Result<Box<dyn Kernel>, Error> {
    let mode = match info.string("mode", "linear")?.as_str() {
        "nearest" => Mode::Nearest,
        "linear" | "bilinear" => Mode::Linear,
        "cubic" | "bicubic" => Mode::Cubic,
        m => return Err(Error::invalid(format!("unknown GridSample mode {m:?}"))),
    };
    let padding = match info.string("padding_mode", "zeros")?.as_str() {
        "zeros" => Padding::Zeros,
        "border" => Padding::Border,
        "reflection" => Padding::Reflection,
        m => return Err(Error::invalid(format!("unknown padding_mode {m:?}"))),
    };
    Ok(Box::new(GridSample {
        mode,
        padding,
        align_corners: info.int("align_corners", 0)? != 0,
    }))
}

/// Folds `x` back into `[lo, hi]` by reflecting at the nearer border.
fn reflect(x: f64, lo: f64, hi: f64) -> f64 {
    let range = hi - lo;
    if range <= 0.0 {
        return lo;
    }
    if x < lo {
        let dx = lo - x;
        let n = (dx / range).trunc();
        let r = dx - n * range;
        if n % 2.0 == 0.0 {
            lo + r
        } else {
            hi - r
        }
    } else if x > hi {
        let dx = x - hi;
        let n = (dx / range).trunc();
        let r = dx - n * range;
        if n % 2.0 == 0.0 {
            hi - r
        } else {
            lo + r
        }
    } else {
        x
    }
}

fn cubic(x: f64) -> f64 {
    const A: f64 = -0.75;
    let x = x.abs();
    if x <= 1.0 {
        ((A + 2.0) * x - (A + 3.0)) * x * x + 1.0
    } else if x < 2.0 {
        ((A * x - 5.0 * A) * x + 8.0 * A) * x - 4.0 * A
    } else {
        0.0
    }
}

impl GridSample {
    /// The taps along one axis of length `len` for the normalized coordinate `g`:
    /// (index, weight) pairs, index None for a zero-padded position.
    fn taps(&self, g: f64, len: usize, out: &mut Vec<(Option<usize>, f64)>) {
        out.clear();
        let lf = len as f64;
        let x = if self.align_corners {
            (g + 1.0) / 2.0 * (lf - 1.0)
        } else {
            ((g + 1.0) * lf - 1.0) / 2.0
        };
        // The reference computes coordinates in single precision.
        let mut x = x as f32 as f64;
        let (lo, hi) = if self.align_corners {
            (0.0, lf - 1.0)
        } else {
            (-0.5, lf - 0.5)
        };
        if self.mode == Mode::Nearest {
            x = x.round_ties_even();
        }
        if x < lo || x > hi {
            match self.padding {
                Padding::Border => x = x.clamp(0.0, lf - 1.0),
                Padding::Reflection => x = reflect(x, lo, hi),
                Padding::Zeros => {}
            }
        }
        let pixel = |i: i64| -> Option<usize> {
            match self.padding {
                Padding::Zeros => (i >= 0 && i < len as i64).then_some(i as usize),
                Padding::Border => Some(i.clamp(0, len as i64 - 1) as usize),
                Padding::Reflection => {
                    let r = reflect(i as f64, lo, hi) as i64;
                    Some(r.clamp(0, len as i64 - 1) as usize)
                }
            }
        };
        match self.mode {
            Mode::Nearest => out.push((pixel(x as i64), 1.0)),
            Mode::Linear => {
                let x0 = x.floor();
                let t = x - x0;
                out.push((pixel(x0 as i64), 1.0 - t));
                out.push((pixel(x0 as i64 + 1), t));
            }
            Mode::Cubic => {
                let x0 = x.floor();
                let t = x - x0;
                for k in -1..3i64 {
                    out.push((pixel(x0 as i64 + k), cubic(t - k as f64)));
                }
            }
        }
    }

    fn run<F: Flt>(
        &self,
        x: &[F],
        xs: &[usize],
        grid: &[F],
        gs: &[usize],
        o: &mut [F],
        threads: usize,
    ) {
        let k = xs.len() - 2;
        let (n, c) = (xs[0], xs[1]);
        let sp = &xs[2..];
        let in_plane: usize = sp.iter().product();
        let points: usize = gs[1..gs.len() - 1].iter().product();
        // Strides of the spatial axes.
        let mut strides = vec![1usize; k];
        for i in (0..k.saturating_sub(1)).rev() {
            strides[i] = strides[i + 1] * sp[i + 1];
        }
        let plane = |p: usize, op: &mut [F]| {
            let (b, ch) = (p / c, p % c);
            let xp = &x[(b * c + ch) * in_plane..][..in_plane];
            let mut taps: Vec<Vec<(Option<usize>, f64)>> = vec![Vec::new(); k];
            let mut odo = vec![0usize; k];
            for (q, o) in op.iter_mut().enumerate() {
                let g = &grid[(b * points + q) * k..][..k];
                // The grid lists (x, y, z): the last spatial axis first.
                for (d, t) in taps.iter_mut().enumerate() {
                    self.taps(g[k - 1 - d].f64(), sp[d], t);
                }
                let mut acc = 0.0f64;
                odo.fill(0);
                'combos: loop {
                    let mut w = 1.0;
                    let mut off = Some(0usize);
                    for d in 0..k {
                        let (i, wd) = taps[d][odo[d]];
                        w *= wd;
                        off = match (off, i) {
                            (Some(a), Some(i)) => Some(a + i * strides[d]),
                            _ => None,
                        };
                    }
                    if let Some(off) = off {
                        acc += w * xp[off].f64();
                    }
                    for d in (0..k).rev() {
                        odo[d] += 1;
                        if odo[d] < taps[d].len() {
                            continue 'combos;
                        }
                        odo[d] = 0;
                    }
                    break;
                }
                *o = F::of(acc);
            }
        };
        if points == 0 {
            return;
        }
        if par(threads, o.len() * 4) {
            o.par_chunks_mut(points)
                .enumerate()
                .for_each(|(p, op)| plane(p, op));
        } else {
            o.chunks_mut(points)
                .enumerate()
                .for_each(|(p, op)| plane(p, op));
        }
        let _ = n;
    }
}

impl Kernel for GridSample {
    fn compute(&self, inputs: &[Option<&Value>], ctx: &Ctx<'_>) -> Outputs {
        let x = input(inputs, 0)?;
        let grid = input(inputs, 1)?;
        let xs = dims(x.shape());
        let gs = dims(grid.shape());
        let k = xs.len().saturating_sub(2);
        if k == 0 || gs.len() != xs.len() || gs[0] != xs[0] || gs[k + 1] != k {
            return Err(Error::invalid(format!(
                "GridSample: X {xs:?} and grid {gs:?} do not fit (grid must be (N, ..., {k}))"
            )));
        }
        if xs[2..].contains(&0) && gs[1..=k].iter().product::<usize>() > 0 {
            return Err(Error::invalid("GridSample: cannot sample an empty input"));
        }
        let mut shape = vec![xs[0] as i64, xs[1] as i64];
        shape.extend(gs[1..=k].iter().map(|&d| d as i64));
        one(crate::with_float!(x.elem(), F => {
            let xd = data::<F>(x)?;
            let gd = data::<F>(grid)?;
            output::<F>(ctx, x.elem(), &shape, |o| self.run(&xd, &xs, &gd, &gs, o, ctx.threads))
        })?)
    }
}

crate::register!("GridSample", [16, LATEST], FLOATS, build);
