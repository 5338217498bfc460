//! Winograd's input and output transforms for CPUs with AVX2 but not
//! AVX-512: the same layouts as `winograd`'s (a block's 16-lane vectors of
//! four pieces of four tiles), each vector computed as two 8-lane halves of
//! two pieces. Where the AVX-512 code gathers a column of a piece's four
//! patches with one permute, here each piece's rows go through 4×4
//! transposes of 128-bit quads.

use std::arch::x86_64::*;

use super::winograd::{Block, Job, BLOCK, CHUNK, POS};

/// The transposed 4×4 matrix of rows `r`.
#[inline]
#[target_feature(enable = "avx2,fma")]
fn transpose(r: [__m128; 4]) -> [__m128; 4] {
    let t0 = _mm_unpacklo_ps(r[0], r[1]);
    let t1 = _mm_unpacklo_ps(r[2], r[3]);
    let t2 = _mm_unpackhi_ps(r[0], r[1]);
    let t3 = _mm_unpackhi_ps(r[2], r[3]);
    [
        _mm_movelh_ps(t0, t1),
        _mm_movehl_ps(t1, t0),
        _mm_movelh_ps(t2, t3),
        _mm_movehl_ps(t3, t2),
    ]
}

impl Job<'_> {
    /// `Job::input` on AVX2: V for block `b`, every channel's patches
    /// padded into `strip` and transformed into `v`.
    ///
    /// # Safety
    /// The CPU has AVX2 and FMA.
    #[target_feature(enable = "avx2,fma")]
    pub(super) unsafe fn input_avx2(&self, b: &Block, strip: &mut [f32], v: &mut [f32]) {
        let (sw, c) = (Self::strip_dims(b).1, self.u.c);
        assert!(v.len() >= POS * c * BLOCK);
        for ci in 0..c {
            self.pad_strip(b, ci, strip);
            for vi in 0..b.vectors {
                let at = |piece: &(usize, usize, usize)| 4 * piece.0 * sw + 4 * piece.1;
                let p: [usize; 4] = std::array::from_fn(|q| at(&b.quarters(vi)[q]));
                for h in 0..2 {
                    // SAFETY: a piece's window ends 20 floats past its first
                    // patch in row 4·(rows-1)+5, inside the strip (strip_dims:
                    // rows padded to 8 tiles); the stores are inside v
                    // (asserted).
                    unsafe {
                        let s = strip.as_ptr();
                        // Columns 0..6 of one piece's four patches in patch
                        // row `row`: lane t of column j is s[p + row + 4t + j].
                        let piece = |p: usize, row: usize| {
                            let q: [__m128; 5] =
                                std::array::from_fn(|k| _mm_loadu_ps(s.add(p + row + 4 * k)));
                            let lo = transpose([q[0], q[1], q[2], q[3]]);
                            let hi = transpose([q[1], q[2], q[3], q[4]]);
                            [lo[0], lo[1], lo[2], lo[3], hi[0], hi[1]]
                        };
                        let row = |i: usize| {
                            let (a, b) = (piece(p[2 * h], i * sw), piece(p[2 * h + 1], i * sw));
                            bt(std::array::from_fn(|j| _mm256_set_m128(b[j], a[j])))
                        };
                        let t: [[__m256; 6]; 6] = std::array::from_fn(row);
                        let by_column: [[__m256; 6]; 6] =
                            std::array::from_fn(|k| std::array::from_fn(|i| t[i][k]));
                        for (k, column) in by_column.into_iter().enumerate() {
                            let col = bt(column);
                            for (i, val) in col.into_iter().enumerate() {
                                let at = (ci * POS + i * 6 + k) * BLOCK + 16 * vi + 8 * h;
                                _mm256_storeu_ps(v.as_mut_ptr().add(at), val);
                            }
                        }
                    }
                }
            }
        }
    }

    /// `Job::output` on AVX2: output channels `ms` of block `b` from their
    /// products, plus bias, then the residual and activation.
    ///
    /// # Safety
    /// The CPU has AVX2 and FMA; no other task writes these channels of
    /// this block's tiles.
    #[target_feature(enable = "avx2,fma")]
    pub(super) unsafe fn output_avx2(&self, b: &Block, prod: &[f32], ms: std::ops::Range<usize>) {
        let (oh, ow) = (self.g.output[0], self.g.output[1]);
        let plane = oh * ow;
        let (base, len) = self.out.raw();
        assert!(prod.len() >= POS * CHUNK * BLOCK && ms.len() <= CHUNK && len >= ms.end * plane);
        // A piece's floats in output row r of its tiles (4 per tile, up to
        // the plane's edge), and where that row starts.
        let place = |piece: &(usize, usize, usize), r: usize| {
            let x = 4 * (b.tx.start + piece.1);
            let oy = 4 * (b.ty.start + piece.0) + r;
            let w = if oy < oh {
                (4 * piece.2).min(ow.saturating_sub(x))
            } else {
                0
            };
            (w, oy * ow + x)
        };
        for m in ms.clone() {
            let bias = _mm256_set1_ps(self.bias.map_or(0.0, |b| b[m]));
            for vi in 0..b.vectors {
                let pieces = b.quarters(vi);
                for h in 0..2 {
                    // SAFETY: the loads are inside prod (asserted: rows of
                    // BLOCK floats); each store covers its piece's floats in
                    // an output row inside the plane (`place`), written by
                    // this task alone (the caller's contract).
                    unsafe {
                        let at = |xi: usize| {
                            let p = prod
                                .as_ptr()
                                .add(((m - ms.start) * POS + xi) * BLOCK + 16 * vi + 8 * h);
                            _mm256_loadu_ps(p)
                        };
                        let t: [[__m256; 4]; 6] =
                            std::array::from_fn(|i| a_t(std::array::from_fn(|k| at(i * 6 + k))));
                        let cols: [[__m256; 4]; 4] = std::array::from_fn(|s| {
                            a_t(std::array::from_fn(|i| t[i][s])).map(|y| _mm256_add_ps(y, bias))
                        });
                        let by_row: [[__m256; 4]; 4] =
                            std::array::from_fn(|r| std::array::from_fn(|s| cols[s][r]));
                        for (r, row) in by_row.iter().enumerate() {
                            for (half, piece) in pieces[2 * h..2 * h + 2].iter().enumerate() {
                                let (w, at) = place(piece, r);
                                if w == 0 {
                                    continue;
                                }
                                let y: [__m128; 4] = row.map(|v| {
                                    if half == 0 {
                                        _mm256_castps256_ps128(v)
                                    } else {
                                        _mm256_extractf128_ps::<1>(v)
                                    }
                                });
                                // Quad t: tile t's four floats of the row.
                                let quads = transpose(y);
                                let dst = base.add(m * plane + at);
                                if w == 16 {
                                    for (t, q) in quads.iter().enumerate() {
                                        _mm_storeu_ps(dst.add(4 * t), *q);
                                    }
                                } else {
                                    let mut buf = [0f32; 16];
                                    for (t, q) in quads.iter().enumerate() {
                                        _mm_storeu_ps(buf.as_mut_ptr().add(4 * t), *q);
                                    }
                                    std::ptr::copy_nonoverlapping(buf.as_ptr(), dst, w);
                                }
                            }
                        }
                    }
                }
            }
            // SAFETY: the caller's contract.
            unsafe { self.residual_and_activation(b, m) };
        }
    }
}

/// Bᵀ d for one 6-vector d, lanes apart (as `winograd::bt`).
#[inline]
#[target_feature(enable = "avx2,fma")]
fn bt(d: [__m256; 6]) -> [__m256; 6] {
    let (two, four, five) = (
        _mm256_set1_ps(2.0),
        _mm256_set1_ps(4.0),
        _mm256_set1_ps(5.0),
    );
    let a = _mm256_fnmadd_ps(four, d[2], d[4]);
    let b = _mm256_fnmadd_ps(four, d[1], d[3]);
    let c = _mm256_sub_ps(d[4], d[2]);
    let e = _mm256_mul_ps(two, _mm256_sub_ps(d[3], d[1]));
    [
        _mm256_fmadd_ps(four, d[0], _mm256_fnmadd_ps(five, d[2], d[4])),
        _mm256_add_ps(a, b),
        _mm256_sub_ps(a, b),
        _mm256_add_ps(c, e),
        _mm256_sub_ps(c, e),
        _mm256_fmadd_ps(four, d[1], _mm256_fnmadd_ps(five, d[3], d[5])),
    ]
}

/// Aᵀ m for one 6-vector m of products, lanes apart (as `winograd::a_t`).
#[inline]
#[target_feature(enable = "avx2,fma")]
fn a_t(m: [__m256; 6]) -> [__m256; 4] {
    let (two, four, eight) = (
        _mm256_set1_ps(2.0),
        _mm256_set1_ps(4.0),
        _mm256_set1_ps(8.0),
    );
    let (s12, d12) = (_mm256_add_ps(m[1], m[2]), _mm256_sub_ps(m[1], m[2]));
    let (s34, d34) = (_mm256_add_ps(m[3], m[4]), _mm256_sub_ps(m[3], m[4]));
    [
        _mm256_add_ps(_mm256_add_ps(m[0], s12), s34),
        _mm256_fmadd_ps(two, d34, d12),
        _mm256_fmadd_ps(four, s34, s12),
        _mm256_add_ps(_mm256_fmadd_ps(eight, d34, d12), m[5]),
    ]
}
