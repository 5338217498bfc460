//! The innermost loops of convolution, compiled for AVX2 where available.

use super::window::Geom;
use super::{numel, Flt};

simd_fn! {
    /// Row `ri` of im2col: input channel `ri / taps` at kernel tap `ri % taps`,
    /// one value per output position (zero in the padding).
    pub(super) fn im2col_row[F: Flt](x: &[F], g: &Geom, ri: usize, dst: &mut [F]) {
        let (rank, kv, in_sz) = (g.rank(), numel(&g.kernel), numel(&g.input));
        let (c, mut k) = (ri / kv, ri % kv);
        let mut taps = [0isize; 8];
        for i in (0..rank).rev() {
            taps[i] = g.tap(i, k % g.kernel[i]);
            k /= g.kernel[i];
        }
        let last = rank - 1;
        let (iw, ow, sw, off) = (g.input[last], g.output[last], g.strides[last], taps[last]);
        let xc = &x[c * in_sz..(c + 1) * in_sz];
        let (lo, hi) = g.valid(last, off);
        for (o, seg) in dst.chunks_mut(ow).enumerate() {
            // The input row for this output row, unless it lies in the padding.
            let (mut rem, mut base, mut step, mut inside) = (o, 0, iw, true);
            for i in (0..last).rev() {
                let ii = (rem % g.output[i] * g.strides[i]) as isize + taps[i];
                rem /= g.output[i];
                if ii < 0 || ii >= g.input[i] as isize {
                    inside = false;
                    break;
                }
                base += ii as usize * step;
                step *= g.input[i];
            }
            if !inside {
                seg.fill(F::zero());
                continue;
            }
            let xr = &xc[base..base + iw];
            seg[..lo].fill(F::zero());
            seg[hi..].fill(F::zero());
            if sw == 1 {
                let start = (lo as isize + off) as usize;
                seg[lo..hi].copy_from_slice(&xr[start..start + hi - lo]);
            } else {
                for (j, d) in seg[lo..hi].iter_mut().enumerate() {
                    *d = xr[(((lo + j) * sw) as isize + off) as usize];
                }
            }
        }
    }
}

/// The scratch `depthwise_plane` needs for geometry `g` (2-D).
pub(super) fn depthwise_scratch(g: &Geom) -> usize {
    let (qh, qw) = phase_dims(g);
    let wide = (g.output[0] - 1) * qw + g.output[1];
    // Whole SPAN-wide blocks of sums, reading up to SPAN - 1 past the planes.
    g.strides[0] * g.strides[1] * qh * qw + SPAN + wide.next_multiple_of(SPAN)
}

/// Depthwise sums in one vector register, and registers summed side by side:
/// one chain of adds per register would wait on the add latency at every tap.
const LANES: usize = 16;
const CHAINS: usize = 4;
const SPAN: usize = LANES * CHAINS;

/// Rows and columns of each stride-phase plane: the output extent plus the
/// farthest tap's shift in whole strides.
fn phase_dims(g: &Geom) -> (usize, usize) {
    let reach = |i: usize| g.output[i] + (g.kernel[i] - 1) * g.dilations[i] / g.strides[i];
    (reach(0), reach(1))
}

simd_fn! {
    /// One depthwise output plane (2-D, any stride and dilation). The padded
    /// input is split by stride phase into planes P(u, v)[i][j] =
    /// padded[i·sh + u][j·sw + v] of width qw, so tap (ky, kx) reads plane
    /// ((ky·dh) mod sh, (kx·dw) mod sw) shifted by whole rows and columns. The
    /// output, read as rows of width qw whose last columns are discarded, is
    /// then a sum of shifted planes: each tap is one long contiguous
    /// multiply-add over the whole plane, not one short run per output row
    /// (depthwise planes late in a CNN are 7×7 or 14×14). `scratch` holds the
    /// phase planes and the wide sums (`depthwise_scratch`).
    pub(super) fn depthwise_plane[F: Flt](
        g: &Geom,
        xc: &[F],
        wk: &[F],
        bias: F,
        scratch: &mut [F],
        o: &mut [F],
    ) {
        let (ih, iw, oh, ow) = (g.input[0], g.input[1], g.output[0], g.output[1]);
        let (kh, kw, dh, dw) = (g.kernel[0], g.kernel[1], g.dilations[0], g.dilations[1]);
        let (sh, sw) = (g.strides[0], g.strides[1]);
        let (top, left) = (g.pad_begin[0] as isize, g.pad_begin[1] as isize);
        let (qh, qw) = phase_dims(g);
        let (planes, wide) = scratch.split_at_mut(sh * sw * qh * qw + SPAN);
        planes.fill(F::zero());
        for (pi, plane) in planes.chunks_exact_mut(qh * qw).enumerate() {
            let (u, v) = ((pi / sw) as isize, (pi % sw) as isize);
            // Columns j with 0 <= j·sw + v - left < iw, the rest stay padding.
            let first = |lim: isize| (lim.max(0) as usize).div_ceil(sw).min(qw);
            let (j0, j1) = (first(left - v), first(iw as isize + left - v));
            for (i, row) in plane.chunks_mut(qw).enumerate() {
                let y = i as isize * sh as isize + u - top;
                if y < 0 || y >= ih as isize || j0 >= j1 {
                    continue;
                }
                let xr = &xc[y as usize * iw..][..iw];
                let x0 = (j0 * sw) as isize + v - left;
                let src = xr[x0 as usize..].iter().step_by(sw);
                row[j0..j1].iter_mut().zip(src).for_each(|(d, &x)| *d = x);
            }
        }
        let n = ((oh - 1) * qw + ow).next_multiple_of(SPAN);
        let wide = &mut wide[..n];
        // Each tap is a shifted plane and a weight; sums are kept in registers
        // over all taps, SPAN outputs at a time, and stored once. (The last
        // block runs past the outputs into slack that is discarded.)
        let tap = |t: usize| {
            let (ky, kx) = (t / kw, t % kw);
            let (u, a) = (ky * dh % sh, ky * dh / sh);
            let (v, b) = (kx * dw % sw, kx * dw / sw);
            ((u * sw + v) * qh * qw + a * qw + b, wk[t])
        };
        let mut few = [(0usize, F::zero()); 49];
        let many: Vec<(usize, F)>;
        let taps = if kh * kw <= few.len() {
            (0..kh * kw).for_each(|t| few[t] = tap(t));
            &few[..kh * kw]
        } else {
            many = (0..kh * kw).map(tap).collect();
            &many[..]
        };
        for (c0, out) in (0..n).step_by(SPAN).zip(wide.chunks_exact_mut(SPAN)) {
            let mut acc = [[bias; LANES]; CHAINS];
            for &(off, wv) in taps {
                let src: &[F; SPAN] = planes[off + c0..off + c0 + SPAN].try_into().unwrap();
                for (c, a) in acc.iter_mut().enumerate() {
                    for j in 0..LANES {
                        a[j] += wv * src[c * LANES + j];
                    }
                }
            }
            for (o, a) in out.chunks_exact_mut(LANES).zip(&acc) {
                o.copy_from_slice(a);
            }
        }
        for (r, orow) in o.chunks_mut(ow).enumerate() {
            orow.copy_from_slice(&wide[r * qw..r * qw + ow]);
        }
    }
}
