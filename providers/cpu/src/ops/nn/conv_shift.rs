//! 1-D and 2-D convolution as one GEMM over shifted input rows, without im2col.
//!
//! The padded input is split by stride phase into planes P(u, v)[i][j] =
//! padded[i·sh + u][j·sw + v], each `qw` wide (as the depthwise kernel does).
//! Kernel tap (ky, kx) then reads plane ((ky·dh) mod sh, (kx·dw) mod sw) shifted
//! by whole rows and columns, so the outputs, taken as rows `qw` wide whose last
//! columns are discarded, are W · B where row (c, ky, kx) of B is one contiguous
//! run of channel c's planes. The GEMM packs those runs straight into its
//! panels: the input is copied once (into the planes), not once per tap, and
//! the product is as large as im2col's up to the discarded columns.

use super::blas::{gemm_rows, runs_f32_kernel, Mat, THIN};
use super::conv::{Epilogue, Shape};
use super::sgemm::{PackedA, Then};
use super::window::Geom;
use super::{as_floats, numel, with_scratch, Flt, PAR_WORK};
use crate::ops::fused::activation::{clamp_bounds, finish};
use crate::parallel::{for_each, for_each_chunk, Disjoint};

simd_fn! {
    /// `dst[j] = src[2j]`, as a vectorized loop (a stride-2 convolution's
    /// phase planes); `src` holds at least `2·dst.len() - 1` values.
    fn evens[F: Flt](src: &[F], dst: &mut [F]) {
        let n = dst.len();
        let whole = n.min(src.len() / 2);
        let pairs = src[..2 * whole].chunks_exact(2);
        dst[..whole].iter_mut().zip(pairs).for_each(|(d, p)| *d = p[0]);
        if whole < n {
            dst[whole] = src[2 * whole];
        }
    }
}

simd_fn! {
    /// `dst[j] = src[j] + b`, clamped to `lo..=hi` when given (as `apply`
    /// clamps: NaN becomes a bound).
    fn add_clamp[F: Flt](src: &[F], dst: &mut [F], b: F, clamp: Option<(F, F)>) {
        let pairs = dst.iter_mut().zip(src);
        match clamp {
            None => pairs.for_each(|(o, &v)| *o = v + b),
            Some((lo, hi)) => pairs.for_each(|(o, &v)| *o = (v + b).max(lo).min(hi)),
        }
    }
}

/// Wide outputs computed per GEMM call, in floats (256 KiB): products larger
/// than that (a first layer's) are split into bands for the cache's sake,
/// each band costing a pass over the weights. With bands of a whole L2 (1
/// MiB) a band's planes and wide rows together overflowed it: mobilenet's
/// first layer (3 → 16 at 224², stride 2) ran 17% faster alone in quarter
/// bands, mobilenet and squeezenet 1.5% faster, resnet18 the same.
const BAND_FLOATS: usize = 1 << 16;

/// The most wide outputs a product splits by output channels over several
/// threads (1 MiB); larger ones split by bands.
const CHANNEL_SPLIT_FLOATS: usize = 1 << 18;

/// The geometry of the phase planes of one channel.
struct Planes {
    g: Geom,
    qh: usize,
    qw: usize,
    /// The most plane rows a tap reaches below its output row.
    below: usize,
}

impl Planes {
    fn new(g: Geom) -> Planes {
        let reach = |i: usize| (g.kernel[i] - 1) * g.dilations[i] / g.strides[i];
        let (qh, qw) = (g.output[0] + reach(0), g.output[1] + reach(1));
        Planes {
            below: reach(0),
            g,
            qh,
            qw,
        }
    }
    /// Values in one channel's planes of `h` rows each.
    fn channel(&self, h: usize) -> usize {
        self.g.strides[0] * self.g.strides[1] * h * self.qw
    }
    /// Offset of tap (ky, kx) in a channel's planes of `h` rows.
    fn tap(&self, ky: usize, kx: usize, h: usize) -> usize {
        let g = &self.g;
        let (dy, dx) = (ky * g.dilations[0], kx * g.dilations[1]);
        let (u, a) = (dy % g.strides[0], dy / g.strides[0]);
        let (v, b) = (dx % g.strides[1], dx / g.strides[1]);
        ((u * g.strides[1] + v) * h + a) * self.qw + b
    }
    /// Row p of the product's B for planes of `h` rows: the offset of
    /// (channel, tap) p.
    fn rows(&self, cg: usize, h: usize) -> Vec<usize> {
        let (taps, kw) = (numel(&self.g.kernel), self.g.kernel[1]);
        (0..cg * taps)
            .map(|p| (p / taps) * self.channel(h) + self.tap(p % taps / kw, p % taps % kw, h))
            .collect()
    }
    /// Whether some tap reads phase (u, v).
    fn used(&self, u: usize, v: usize) -> bool {
        let g = &self.g;
        let hits = |k: usize, d: usize, s: usize, p: usize| (0..k).any(|t| t * d % s == p);
        hits(g.kernel[0], g.dilations[0], g.strides[0], u)
            && hits(g.kernel[1], g.dilations[1], g.strides[1], v)
    }
    /// Fills rows `i0..i0 + h` of one channel's used phase planes (zero past
    /// the last row) from its input plane `xc`.
    fn fill<F: Flt>(&self, xc: &[F], out: &mut [F], i0: usize, h: usize) {
        let g = &self.g;
        let (ih, iw, sh, sw) = (g.input[0], g.input[1], g.strides[0], g.strides[1]);
        let (top, left) = (g.pad_begin[0] as isize, g.pad_begin[1] as isize);
        let qw = self.qw;
        for (pi, plane) in out.chunks_exact_mut(h * qw).enumerate() {
            let (u, v) = (pi / sw, pi % sw);
            if !self.used(u, v) {
                continue;
            }
            let (u, v) = (u as isize, v as isize);
            // Columns j with 0 <= j·sw + v - left < iw; the rest are padding.
            let first = |lim: isize| (lim.max(0) as usize).div_ceil(sw).min(qw);
            let (j0, j1) = (first(left - v), first(iw as isize + left - v));
            for (i, row) in plane.chunks_exact_mut(qw).enumerate() {
                let i = i0 + i;
                let y = i as isize * sh as isize + u - top;
                if i >= self.qh || y < 0 || y >= ih as isize || j0 >= j1 {
                    row.fill(F::zero());
                    continue;
                }
                row[..j0].fill(F::zero());
                row[j1..].fill(F::zero());
                let xr = &xc[y as usize * iw..][..iw];
                let x0 = ((j0 * sw) as isize + v - left) as usize;
                if sw == 1 {
                    row[j0..j1].copy_from_slice(&xr[x0..x0 + j1 - j0]);
                } else if sw == 2 {
                    evens(&xr[x0..], &mut row[j0..j1]);
                } else {
                    let src = xr[x0..].iter().step_by(sw);
                    row[j0..j1].iter_mut().zip(src).for_each(|(d, &x)| *d = x);
                }
            }
        }
    }
}

/// Runs the convolution of image-and-group inputs `xg` (C/group channels) into
/// `og` (M/group output planes) with weights `wg` (or their `packed` form), bias
/// `bias` (this group's values) and the epilogue (residual and activation,
/// applied plane by plane as the discarded columns are dropped); false, doing
/// nothing to `og`, where the GEMM kernel does not run (not float32, no
/// AVX-512, or fewer than `blas::THIN` output columns).
///
/// With several threads the work splits one of two ways, so that each thread
/// finishes (compacts and activates) what it computed, in one parallel region
/// and without passing planes or products between cores: by bands of output
/// rows, each thread filling its band's planes (early layers: large planes,
/// small weights), or by output channels over planes filled once (late
/// layers, whose weights outweigh their planes).
#[allow(clippy::too_many_arguments)]
pub(super) fn conv<F: Flt>(
    p: &Shape,
    xg: &[F],
    wg: &[F],
    bias: Option<&[F]>,
    packed: Option<&PackedA>,
    og: &mut [F],
    ep: Epilogue<'_, F>,
    threads: usize,
) -> bool {
    let (cg, mg) = (p.c / p.group, p.m / p.group);
    let pl = Planes::new(p.g.lifted(2));
    let g = &pl.g;
    let (oh, ow, qw) = (g.output[0], g.output[1], pl.qw);
    let kdim = cg * numel(&g.kernel);
    let wide = oh * qw;
    if kdim == 0 {
        // No input channels: the output is the bias.
        for (m, o) in og.chunks_mut(oh * ow).enumerate() {
            o.fill(bias.map_or(F::zero(), |b| b[m]));
        }
        finish(og, ep.z, ep.act, threads);
        return true;
    }
    if wide < THIN || !runs_f32_kernel::<F>() {
        return false;
    }
    let threads = if mg * wide * kdim >= PAR_WORK * 4 {
        threads
    } else {
        1
    };
    let out = Out {
        og: Disjoint::new(og),
        plane: oh * ow,
        ow,
        qw,
        bias,
        ep,
    };
    let a = Mat::rows(wg, kdim);
    if threads > 1
        && mg * wide <= CHANNEL_SPLIT_FLOATS
        && threads * mg * kdim > cg * pl.channel(pl.qh)
    {
        by_channels(&pl, (cg, mg), xg, (a, packed), &out, threads);
    } else {
        by_bands(&pl, (cg, mg), xg, (a, packed), &out, threads);
    }
    true
}

/// Where and how the wide product's rows land: the output planes, the bias
/// and the epilogue.
struct Out<'a, F> {
    og: Disjoint<'a, F>,
    plane: usize,
    ow: usize,
    qw: usize,
    bias: Option<&'a [F]>,
    ep: Epilogue<'a, F>,
}

impl<F: Flt> Out<'_, F> {
    /// Writes output rows `r0..` of channels `ms` from their wide rows
    /// (`ld` apart, the first at `wide[0]`), dropping the discarded columns,
    /// adding the bias, then the epilogue while they are in cache. Each
    /// (channel, output rows) part is written by one caller only.
    fn store(&self, ms: std::ops::Range<usize>, r0: usize, wide: &[F], ld: usize) {
        let (ow, qw) = (self.ow, self.qw);
        // ReLU and Clip (without a residual) go with the bias, in one pass.
        let fused = self.ep.z.map_or(clamp_bounds(self.ep.act), |_| None);
        let clamp = fused.flatten().map(|(lo, hi)| (F::of(lo), F::of(hi)));
        for (i, m) in ms.enumerate() {
            let w = &wide[i * ld..];
            let rows = w.len().min(ld) / qw;
            let span = m * self.plane + r0 * ow..m * self.plane + (r0 + rows) * ow;
            // SAFETY: callers store disjoint (channel, row band) parts.
            let o = unsafe { self.og.part(span.clone()) };
            let b = self.bias.map_or(F::zero(), |b| b[m]);
            for (orow, wrow) in o.chunks_exact_mut(ow).zip(w.chunks(qw)) {
                add_clamp(&wrow[..ow], orow, b, clamp);
            }
            if fused.is_none() {
                finish(o, self.ep.z.map(|z| &z[span]), self.ep.act, 1);
            }
        }
    }
}

/// Planes of `h` rows per channel for `cg` channels: B's row offsets into
/// them, and the length of a buffer that holds them with their slack.
struct Layout {
    h: usize,
    rows: Vec<usize>,
    chan: usize,
    len: usize,
}

impl Planes {
    fn layout(&self, cg: usize, h: usize) -> Layout {
        let chan = self.channel(h);
        // Slack after the planes: a shifted run may reach qw - 1 values past
        // its channel into columns that are discarded.
        Layout {
            h,
            rows: self.rows(cg, h),
            chan,
            len: cg * chan + self.qw,
        }
    }

    /// Fills rows `i0..` of every channel's planes of `planes` (laid out as
    /// `lay`, slack zeroed) from `xg`, channels split over `threads`.
    fn fill_all<F: Flt>(
        &self,
        lay: &Layout,
        xg: &[F],
        planes: &mut [F],
        i0: usize,
        threads: usize,
    ) {
        let in_sz = numel(&self.g.input);
        let body = planes.len() - self.qw;
        planes[body..].fill(F::zero());
        let threads = if body >= PAR_WORK { threads } else { 1 };
        for_each_chunk(threads, &mut planes[..body], lay.chan, |c, dst| {
            self.fill(&xg[c * in_sz..][..in_sz], dst, i0, lay.h)
        });
    }
}

/// Bands of output rows, each filled, multiplied and stored by one thread.
fn by_bands<F: Flt>(
    pl: &Planes,
    (cg, mg): (usize, usize),
    xg: &[F],
    (a, packed): (Mat<'_, F>, Option<&PackedA>),
    out: &Out<'_, F>,
    threads: usize,
) {
    let (oh, qw, kdim) = (pl.g.output[0], pl.qw, a.rs);
    let cache_bands = (mg * oh * qw).div_ceil(BAND_FLOATS);
    let want = if threads > 1 {
        cache_bands.max(2 * threads)
    } else {
        cache_bands
    };
    // Even bands, each wide enough for the kernel's tiles.
    let bands = want.min(oh / THIN.div_ceil(qw)).max(1);
    let lay = pl.layout(cg, oh.div_ceil(bands) + pl.below);
    for_each(threads, bands, |bi| {
        let (r0, r1) = (bi * oh / bands, (bi + 1) * oh / bands);
        let n = (r1 - r0) * qw;
        with_scratch(lay.len + mg * n, |s: &mut [F]| {
            let (planes, wide) = s.split_at_mut(lay.len);
            pl.fill_all(&lay, xg, planes, r0, 1);
            let b = (&planes[..], &lay.rows[..]);
            let ran = gemm_rows((mg, n, kdim), packed, a, b, wide, n, false, 1, None);
            debug_assert!(ran, "bands are at least THIN wide");
            out.store(0..mg, r0, wide, n);
        })
    });
}

/// Output channels split over the threads, the planes filled once.
fn by_channels<F: Flt>(
    pl: &Planes,
    (cg, mg): (usize, usize),
    xg: &[F],
    (a, packed): (Mat<'_, F>, Option<&PackedA>),
    out: &Out<'_, F>,
    threads: usize,
) {
    let (wide, kdim) = (pl.g.output[0] * pl.qw, a.rs);
    let lay = pl.layout(cg, pl.qh);
    with_scratch(lay.len + mg * wide, |s: &mut [F]| {
        let (planes, product) = s.split_at_mut(lay.len);
        pl.fill_all(&lay, xg, planes, 0, threads);
        let b = (&planes[..], &lay.rows[..]);
        let store = |ms: std::ops::Range<usize>, done: &[f32]| {
            out.store(ms, 0, as_floats::<F>(done).expect("F is f32"), wide)
        };
        let ran = gemm_rows(
            (mg, wide, kdim),
            packed,
            a,
            b,
            product,
            wide,
            false,
            threads,
            Some(Then::Rows(&store)),
        );
        debug_assert!(ran, "the product is at least THIN wide");
    })
}

/// The convolution of one image (one group, f32) followed by a 3×3 max pool
/// of its output (`pool`, which `depthwise_rows::fits`, or on AVX2
/// `depthwise_rows_avx2::pool_fits`), in bands of rows: each band of the
/// convolution's output is pooled while in cache, so that output, larger
/// than the pooled one by the pool's strides (3 MiB in a first layer), never
/// goes to memory and back. Threads take runs of pooled rows, each
/// recomputing the convolution rows its windows share with the run before. False, doing nothing, where the GEMM kernel does
/// not run.
#[allow(clippy::too_many_arguments)]
pub(super) fn conv_max_pool(
    p: &Shape,
    pool: &Geom,
    x: &[f32],
    (w, packed): (&[f32], Option<&PackedA>),
    bias: Option<&[f32]>,
    out: &mut [f32],
    act: Option<crate::ops::fused::activation::Act>,
    threads: usize,
) -> bool {
    let pl = Planes::new(p.g.lifted(2));
    let (oh, ow, qw) = (pl.g.output[0], pl.g.output[1], pl.qw);
    let (c, m) = (p.c, p.m);
    let kdim = c * numel(&pl.g.kernel);
    let pool_plane: fn(&Geom, &[f32], &mut [f32]) = if super::depthwise_rows::fits(pool) {
        super::depthwise_rows::max_pool_plane
    } else if super::depthwise_rows_avx2::pool_fits(pool) {
        super::depthwise_rows_avx2::max_pool_plane
    } else {
        return false;
    };
    let fits = pool.input == [oh, ow];
    if p.group != 1 || kdim == 0 || qw < THIN || !fits || !runs_f32_kernel::<f32>() {
        return false;
    }
    let (ph, pw, s, top) = (
        pool.output[0],
        pool.output[1],
        pool.strides[0],
        pool.pad_begin[0],
    );
    assert!(out.len() == m * ph * pw && x.len() == c * numel(&pl.g.input));
    // Convolution rows per product, as `by_bands` sizes its bands; a band
    // keeps up to two more, those the next pooled row shares.
    let step = (BAND_FLOATS / (m * qw)).clamp(1, oh);
    let cap = step + 2;
    let runs = if threads > 1 && m * oh * ow * kdim >= PAR_WORK * 4 {
        (2 * threads).min(ph)
    } else {
        1
    };
    let threads = threads.min(runs);
    let lay = pl.layout(c, step + pl.below);
    let a = Mat::rows(w, kdim);
    let pooled = Disjoint::new(out);
    // The first convolution row that pooled row r reads, and the end of
    // those that rows before r read.
    let first = |r: usize| (r * s).saturating_sub(top);
    let end = |r: usize| ((r - 1) * s + 3).saturating_sub(top).min(oh);
    for_each(threads, runs, |ri| {
        let (p0, p1) = (ri * ph / runs, (ri + 1) * ph / runs);
        if p0 == p1 {
            return;
        }
        with_scratch(
            lay.len + m * step * qw + m * cap * ow,
            |scratch: &mut [f32]| {
                let (planes, rest) = scratch.split_at_mut(lay.len);
                let (wide, band) = rest.split_at_mut(m * step * qw);
                // The band holds convolution rows b0..b1 (plane `cap` rows).
                let (mut b0, mut b1, last) = (first(p0), first(p0), end(p1));
                let mut r = p0;
                while r < p1 {
                    let rows = step.min(last - b1);
                    let n = rows * qw;
                    pl.fill_all(&lay, x, planes, b1, 1);
                    let b = (&planes[..], &lay.rows[..]);
                    let wide = &mut wide[..m * n];
                    let ran = gemm_rows((m, n, kdim), packed, a, b, wide, n, false, 1, None);
                    debug_assert!(ran, "rows are at least THIN wide");
                    let sink = Out {
                        og: Disjoint::new(&mut band[..]),
                        plane: cap * ow,
                        ow,
                        qw,
                        bias,
                        ep: Epilogue { z: None, act },
                    };
                    sink.store(0..m, b1 - b0, wide, n);
                    b1 += rows;
                    // Pooled rows whose windows the band now holds.
                    let mut done = r;
                    while done < p1 && (b1 == last || done * s + 3 <= b1 + top) {
                        done += 1;
                    }
                    if done > r {
                        let g = Geom {
                            input: vec![b1 - b0, ow],
                            output: vec![done - r, pw],
                            pad_begin: vec![b0 + top - r * s, pool.pad_begin[1]],
                            ..pool.clone()
                        };
                        for (ch, xc) in band.chunks_exact(cap * ow).enumerate() {
                            let at = ch * ph * pw + r * pw;
                            // SAFETY: pooled rows p0..p1 of each channel are this
                            // run's alone.
                            let o = unsafe { pooled.part(at..at + (done - r) * pw) };
                            pool_plane(&g, &xc[..(b1 - b0) * ow], o);
                        }
                        r = done;
                    }
                    if r < p1 {
                        // Drop the rows no pooled row left needs.
                        let keep = first(r) - b0;
                        for xc in band.chunks_exact_mut(cap * ow) {
                            xc.copy_within(keep * ow..(b1 - b0) * ow, 0);
                        }
                        b0 += keep;
                    }
                }
            },
        )
    });
    true
}
