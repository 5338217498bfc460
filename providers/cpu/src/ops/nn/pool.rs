//! What MaxPool and AveragePool share: geometry for up to three spatial axes
//! (fewer are lifted to three unit axes), per-axis window tables and a per-plane
//! parallel driver.

use std::ops::Range;

use ort_core::{Error, Tensor};

use super::window::{Geom, Window};
use super::PAR_WORK;
use crate::parallel::{for_each_chunk, for_each_chunk_pair};
use crate::util::dims;

/// A pooling problem: a window lifted to 3-D and the output shape.
pub(super) struct Pool {
    pub g: Geom,
    pub out_shape: Vec<i64>,
}

/// One output position along one axis.
#[derive(Clone)]
pub(super) struct Span {
    /// Kernel taps that land inside the input.
    pub taps: Range<usize>,
    /// Input index of tap 0 (negative in the begin padding).
    pub start: isize,
    /// Taps that land inside the padded input (AveragePool's count_include_pad).
    pub padded: usize,
}

impl Pool {
    pub fn new(window: &Window, x: &Tensor) -> Result<Pool, Error> {
        let xs = dims(x.shape());
        if xs.len() < 3 || xs.len() > 5 {
            return Err(Error::not_implemented(format!(
                "pooling supports 1 to 3 spatial axes, input has shape {xs:?}"
            )));
        }
        let g = window.geom(&xs[2..], None)?;
        let mut out_shape = vec![xs[0] as i64, xs[1] as i64];
        out_shape.extend(g.output.iter().map(|&d| d as i64));
        Ok(Pool {
            g: g.lifted(3),
            out_shape,
        })
    }

    pub fn in_size(&self) -> usize {
        self.g.input.iter().product()
    }
    pub fn out_size(&self) -> usize {
        self.g.output.iter().product()
    }

    /// Per axis, the window of every output position.
    pub fn spans(&self) -> [Vec<Span>; 3] {
        let g = &self.g;
        std::array::from_fn(|i| {
            let (d, n, k) = (
                g.dilations[i] as isize,
                g.input[i] as isize,
                g.kernel[i] as isize,
            );
            let (lo_pad, hi_pad) = (-(g.pad_begin[i] as isize), n + g.pad_end[i] as isize);
            (0..g.output[i])
                .map(|o| {
                    let start = (o * g.strides[i]) as isize - g.pad_begin[i] as isize;
                    // Taps t with lo <= start + t·d < hi.
                    let within = |lo: isize, hi: isize| {
                        let a = if start >= lo {
                            0
                        } else {
                            (lo - start + d - 1) / d
                        };
                        let b = if hi - start <= 0 {
                            0
                        } else {
                            (hi - start + d - 1) / d
                        };
                        a.min(k) as usize..b.clamp(a.min(k), k) as usize
                    };
                    Span {
                        taps: within(0, n),
                        start,
                        padded: within(lo_pad, hi_pad).len(),
                    }
                })
                .collect()
        })
    }

    /// Runs `f(plane, out_plane, indices_plane)` for every (batch, channel) plane,
    /// in parallel when worth it.
    pub fn each<T: Send>(
        &self,
        out: &mut [T],
        idx: Option<&mut [i64]>,
        threads: usize,
        f: impl Fn(usize, &mut [T], Option<&mut [i64]>) + Sync + Send,
    ) {
        let os = self.out_size();
        if os == 0 {
            return;
        }
        let par = threads > 1 && out.len() * self.g.kernel.iter().product::<usize>() >= PAR_WORK;
        let threads = if par { threads } else { 1 };
        match idx {
            Some(ix) => {
                for_each_chunk_pair(threads, (out, os), (ix, os), |p, o, i| f(p, o, Some(i)))
            }
            None => for_each_chunk(threads, out, os, |p, o| f(p, o, None)),
        }
    }
}

simd_fn! {
    /// Folds every window of one plane into `o` with `f`, starting from `init`.
    /// Per output row, the window's input rows are first folded element-wise
    /// into one row (contiguous, so it vectorizes), and each output then folds
    /// its few taps along that row.
    pub(super) fn stencil[T: Copy, Op: Fn(T, T) -> T](p: &Pool, xp: &[T], o: &mut [T], init: T, spans: &[Vec<Span>; 3], f: Op) {
        let g = &p.g;
        let (ih, iw, ow) = (g.input[1], g.input[2], g.output[2]);
        let (kw, sw, dw) = (g.kernel[2], g.strides[2], g.dilations[2]);
        // One slot of slack after the windows: the stride-2 pick below reads
        // pairs, the second of the last pair unused.
        let (mut folded, mut across) = (vec![init; iw], vec![init; iw + 1]);
        // The outputs whose windows are whole (not cut by the padding): a run.
        let full = |c: &Span| c.taps.len() == kw;
        let lo = spans[2].iter().position(full).unwrap_or(ow);
        let hi = spans[2].iter().rposition(full).map_or(lo, |i| i + 1);
        let mut rows = o.chunks_mut(ow.max(1));
        for a in &spans[0] {
            for b in &spans[1] {
                let Some(orow) = rows.next() else { return };
                let mut first = true;
                for kd in a.taps.clone() {
                    let d = (a.start + (kd * g.dilations[0]) as isize) as usize;
                    for kh in b.taps.clone() {
                        let h = (b.start + (kh * g.dilations[1]) as isize) as usize;
                        let xr = &xp[(d * ih + h) * iw..][..iw];
                        if first {
                            folded.copy_from_slice(xr);
                            first = false;
                        } else {
                            folded.iter_mut().zip(xr).for_each(|(m, &v)| *m = f(*m, v));
                        }
                    }
                }
                if first {
                    folded.fill(init);
                }
                // Every full window along the row, folded tap by tap over the
                // whole row (vectorized); outputs then pick theirs, and only
                // windows cut by the padding fold their taps one by one.
                let n = (iw + dw).saturating_sub(kw * dw);
                let windows = &mut across[..n];
                windows.copy_from_slice(&folded[..n]);
                for t in 1..kw {
                    let src = &folded[t * dw..t * dw + n];
                    windows.iter_mut().zip(src).for_each(|(m, &v)| *m = f(*m, v));
                }
                if lo < hi {
                    let base = spans[2][lo].start as usize;
                    let inner = &mut orow[lo..hi];
                    match sw {
                        1 => inner.copy_from_slice(&across[base..base + inner.len()]),
                        2 => {
                            let pairs = across[base..base + 2 * inner.len()].chunks_exact(2);
                            inner.iter_mut().zip(pairs).for_each(|(o, w)| *o = w[0]);
                        }
                        _ => {
                            let picks = across[base..].iter().step_by(sw);
                            inner.iter_mut().zip(picks).for_each(|(o, &w)| *o = w);
                        }
                    }
                }
                for (ox, (out, c)) in orow.iter_mut().zip(&spans[2]).enumerate() {
                    if (lo..hi).contains(&ox) {
                        continue;
                    }
                    let mut m = init;
                    for kw in c.taps.clone() {
                        m = f(m, folded[(c.start + (kw * dw) as isize) as usize]);
                    }
                    *out = m;
                }
            }
        }
    }
}
