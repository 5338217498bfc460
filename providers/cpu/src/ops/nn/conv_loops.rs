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

simd_fn! {
    /// One depthwise output plane: for each output row and kernel tap, a
    /// multiply-add of a whole (contiguous or strided) input row segment.
    pub(super) fn depthwise_plane[F: Flt](g: &Geom, xc: &[F], wk: &[F], bias: F, o: &mut [F]) {
        let (ih, iw, ow) = (g.input[0], g.input[1], g.output[1]);
        let (kh, kw, sh, sw) = (g.kernel[0], g.kernel[1], g.strides[0], g.strides[1]);
        let cols: Vec<(usize, usize, isize)> = (0..kw)
            .map(|j| {
                let off = g.tap(1, j);
                let (lo, hi) = g.valid(1, off);
                (lo, hi, off)
            })
            .collect();
        let xs = Phased::new(xc, ih, iw, sw);
        o.fill(bias);
        for (r, orow) in o.chunks_mut(ow.max(1)).enumerate() {
            for i in 0..kh {
                let y = (r * sh) as isize + g.tap(0, i);
                if y < 0 || y >= ih as isize {
                    continue;
                }
                for (j, &(lo, hi, off)) in cols.iter().enumerate() {
                    if lo < hi {
                        let wv = wk[i * kw + j];
                        let src = xs.from(y as usize, (lo * sw) as isize + off);
                        for (o, &v) in orow[lo..hi].iter_mut().zip(src) {
                            *o += wv * v;
                        }
                    }
                }
            }
        }
    }
}

/// A plane whose rows are regrouped by stride phase (x[0], x[s], ..., then x[1],
/// x[1 + s], ...), so that a strided walk along a row reads contiguous memory.
pub(super) struct Phased<'a, T: Clone> {
    data: std::borrow::Cow<'a, [T]>,
    iw: usize,
    s: usize,
    plen: usize,
}

impl<'a, T: Copy> Phased<'a, T> {
    #[inline(always)]
    pub fn new(x: &'a [T], rows: usize, iw: usize, s: usize) -> Self {
        let plen = iw.div_ceil(s.max(1));
        if s <= 1 || x.is_empty() {
            return Phased {
                data: x.into(),
                iw,
                s: 1,
                plen,
            };
        }
        // Slots past a short phase's end keep x[0]; they are never read.
        let mut data = vec![x[0]; rows * s * plen];
        for (row, out) in x.chunks(iw).take(rows).zip(data.chunks_mut(s * plen)) {
            for (p, dst) in out.chunks_mut(plen).enumerate().take(iw) {
                let n = (iw - p).div_ceil(s);
                for (t, d) in dst[..n].iter_mut().enumerate() {
                    *d = row[p + t * s];
                }
            }
        }
        Phased {
            data: data.into(),
            iw,
            s,
            plen,
        }
    }
    /// Elements x[row][t], x[row][t + s], ... for an in-row index t >= 0.
    #[inline(always)]
    pub fn from(&self, row: usize, t: isize) -> &[T] {
        let t = t as usize;
        if self.s == 1 {
            &self.data[row * self.iw + t..(row + 1) * self.iw]
        } else {
            let base = row * self.s * self.plen + (t % self.s) * self.plen;
            &self.data[base + t / self.s..base + self.plen]
        }
    }
}
