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

use super::blas::{gemm_rows, Mat, THIN};
use super::conv::{Epilogue, Shape};
use super::sgemm_avx512::PackedA;
use super::window::Geom;
use super::{numel, with_scratch, Flt, PAR_WORK};
use crate::ops::fused::activation::finish;
use crate::parallel::for_each_chunk;

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

/// Wide outputs computed per GEMM call, in floats (1 MiB, the L2 size): only
/// products larger than that (a first layer's) are split into bands, each
/// split costing a parallel region and a pass over the weights.
const BAND_FLOATS: usize = 1 << 18;

/// The geometry of the phase planes of one channel.
struct Planes {
    g: Geom,
    qh: usize,
    qw: usize,
}

impl Planes {
    fn new(g: Geom) -> Planes {
        let reach = |i: usize| g.output[i] + (g.kernel[i] - 1) * g.dilations[i] / g.strides[i];
        let (qh, qw) = (reach(0), reach(1));
        Planes { g, qh, qw }
    }
    fn plane(&self) -> usize {
        self.qh * self.qw
    }
    fn channel(&self) -> usize {
        self.g.strides[0] * self.g.strides[1] * self.plane()
    }
    /// Offset of tap (ky, kx) in a channel's planes.
    fn tap(&self, ky: usize, kx: usize) -> usize {
        let g = &self.g;
        let (dy, dx) = (ky * g.dilations[0], kx * g.dilations[1]);
        let (u, a) = (dy % g.strides[0], dy / g.strides[0]);
        let (v, b) = (dx % g.strides[1], dx / g.strides[1]);
        (u * g.strides[1] + v) * self.plane() + a * self.qw + b
    }
    /// Whether some tap reads phase (u, v).
    fn used(&self, u: usize, v: usize) -> bool {
        let g = &self.g;
        let hits = |k: usize, d: usize, s: usize, p: usize| (0..k).any(|t| t * d % s == p);
        hits(g.kernel[0], g.dilations[0], g.strides[0], u)
            && hits(g.kernel[1], g.dilations[1], g.strides[1], v)
    }
    /// Fills one channel's used phase planes from its input plane `xc`.
    fn fill<F: Flt>(&self, xc: &[F], out: &mut [F]) {
        let g = &self.g;
        let (ih, iw, sh, sw) = (g.input[0], g.input[1], g.strides[0], g.strides[1]);
        let (top, left) = (g.pad_begin[0] as isize, g.pad_begin[1] as isize);
        let qw = self.qw;
        for (pi, plane) in out.chunks_exact_mut(self.plane()).enumerate() {
            let (u, v) = (pi / sw, pi % sw);
            if !self.used(u, v) {
                continue;
            }
            let (u, v) = (u as isize, v as isize);
            // Columns j with 0 <= j·sw + v - left < iw; the rest are padding.
            let first = |lim: isize| (lim.max(0) as usize).div_ceil(sw).min(qw);
            let (j0, j1) = (first(left - v), first(iw as isize + left - v));
            for (i, row) in plane.chunks_exact_mut(qw).enumerate() {
                let y = i as isize * sh as isize + u - top;
                if y < 0 || y >= ih as isize || j0 >= j1 {
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
    let (taps, in_sz) = (numel(&g.kernel), numel(&g.input));
    let (oh, ow, qw) = (g.output[0], g.output[1], pl.qw);
    let (kdim, wide) = (cg * taps, oh * qw);
    if kdim == 0 {
        // No input channels: the output is the bias.
        for (m, o) in og.chunks_mut(oh * ow).enumerate() {
            o.fill(bias.map_or(F::zero(), |b| b[m]));
        }
        finish(og, ep.z, ep.act, threads);
        return true;
    }
    let chan = pl.channel();
    let rows: Vec<usize> = (0..cg)
        .flat_map(|c| {
            let pl = &pl;
            (0..taps).map(move |t| c * chan + pl.tap(t / g.kernel[1], t % g.kernel[1]))
        })
        .collect();
    // Slack after the planes: a shifted run may reach qw - 1 values past its
    // channel into columns that are discarded.
    let planes_len = cg * chan + qw;
    if wide < THIN {
        return false;
    }
    // Output rows per product: a band's wide outputs stay in L2 until they
    // are compacted (a first layer's would be megabytes).
    let band = oh
        .div_ceil((mg * wide).div_ceil(BAND_FLOATS))
        .max(THIN.div_ceil(qw));
    with_scratch(planes_len + mg * band * qw, |s: &mut [F]| {
        let (planes, out_wide) = s.split_at_mut(planes_len);
        planes[cg * chan..].fill(F::zero());
        let fill = |c: usize, dst: &mut [F]| pl.fill(&xg[c * in_sz..][..in_sz], dst);
        let fill_threads = if cg * chan >= PAR_WORK { threads } else { 1 };
        for_each_chunk(fill_threads, &mut planes[..cg * chan], chan, fill);
        let a = Mat::rows(wg, kdim);
        let out_sz = oh * ow;
        for r0 in (0..oh).step_by(band) {
            let r1 = (r0 + band).min(oh);
            let n = (r1 - r0) * qw;
            let out_wide = &mut out_wide[..mg * n];
            // Row p of B is planes[rows[p] + r0·qw..][..n]: within the planes
            // and their slack, as the whole product's rows are.
            let b = (&planes[r0 * qw..], &rows[..]);
            if !gemm_rows((mg, n, kdim), packed, a, b, out_wide, n, false, threads) {
                return false;
            }
            // Drop the discarded columns, add the bias, then the epilogue while
            // the band is in cache (not as passes of their own over the output).
            let span = r0 * ow..r1 * ow;
            let out_wide = &*out_wide;
            let compact = |m: usize, o: &mut [F]| {
                let w = &out_wide[m * n..][..n];
                let b = bias.map_or(F::zero(), |b| b[m]);
                let o = &mut o[span.clone()];
                for (orow, wrow) in o.chunks_exact_mut(ow).zip(w.chunks(qw)) {
                    orow.iter_mut()
                        .zip(&wrow[..ow])
                        .for_each(|(o, &v)| *o = v + b);
                }
                let z = ep.z.map(|z| &z[m * out_sz..][span.clone()]);
                finish(o, z, ep.act, 1);
            };
            let compact_threads = if mg * span.len() >= PAR_WORK {
                threads
            } else {
                1
            };
            for_each_chunk(compact_threads, og, out_sz, compact);
        }
        true
    })
}
