//! The AVX2 + FMA micro-kernel of `sgemm`, for CPUs without AVX-512 (AMD
//! before Zen 4, most desktop Intel): the same packed panels (12 rows of A,
//! 32 columns of B) as the AVX-512 kernel, so that weights packed at session
//! creation and the driver's blocking and threading serve both. With 16 ymm
//! registers a 12×32 tile does not fit; it runs as 6×16 parts (12
//! accumulators, two loads of B and six broadcasts of A per step, the shape
//! BLIS and MLAS use for Haswell), each part's half of the B panel one cache
//! line per step.

use std::arch::x86_64::*;

use super::sgemm::{APanel, BPanel, Bias, Out, Tile, TileAct, A_AHEAD, B_AHEAD, MR, NR};

/// `c_tile (+)= a_panel · b_panel` over kc steps, as the AVX-512 kernel
/// computes it (each value of C the same chain of multiply-adds over p, so
/// both give the same bits): R is 4, 8 or 12 (the tile's rows rounded up), W
/// the 16-column halves of the panel the tile reaches.
///
/// # Safety
/// The CPU has AVX2 and FMA; a packed A panel holds kc·MR values, a packed B
/// panel kc·NR; a `BPanel::Rows` operand holds `col + t.cols` values from
/// each of its kc row offsets; the tile lies inside c.
#[target_feature(enable = "avx2,fma")]
pub(super) unsafe fn kernel<const R: usize, const W: usize>(
    kc: usize,
    a: APanel<'_>,
    b: BPanel<'_>,
    c: Out,
    ldc: usize,
    t: Tile,
    load_c: bool,
) {
    assert!(t.rows >= 1 && t.rows <= R && R <= MR && t.cols >= 1 && t.cols <= 16 * W);
    for w in 0..W {
        // SAFETY: the caller's contract, for a part of the tile.
        unsafe {
            match R {
                4 => part::<4>(kc, a, b, c, ldc, t, load_c, 0, w),
                8 => {
                    part::<4>(kc, a, b, c, ldc, t, load_c, 0, w);
                    part::<4>(kc, a, b, c, ldc, t, load_c, 4, w);
                }
                _ => {
                    part::<6>(kc, a, b, c, ldc, t, load_c, 0, w);
                    part::<6>(kc, a, b, c, ldc, t, load_c, 6, w);
                }
            }
        }
    }
}

/// The k loop of `part`: `$b` yields step p's two B vectors, `$a` row i's
/// value of A at step p; the block's value is the P×2 accumulators. (Each
/// loop has accumulators of its own: one array shared by the loops and the
/// stores after them stayed in memory, a store per multiply-add.)
macro_rules! k_loop {
    ($kc:expr, |$p:ident| $b:expr, |$i:ident| $a:expr) => {{
        let mut acc = [[_mm256_setzero_ps(); 2]; P];
        for $p in 0..$kc {
            let bv: [__m256; 2] = $b;
            for ($i, row) in acc.iter_mut().enumerate() {
                let av = _mm256_set1_ps($a);
                row[0] = _mm256_fmadd_ps(av, bv[0], row[0]);
                row[1] = _mm256_fmadd_ps(av, bv[1], row[1]);
            }
        }
        acc
    }};
}

/// Rows `r0..r0 + P` (those of them in the tile) times columns `16w..16w + 16`
/// of the tile.
///
/// # Safety
/// As for `kernel`; `r0 < t.rows` and `16w < t.cols`.
#[allow(clippy::too_many_arguments)]
#[target_feature(enable = "avx2,fma")]
unsafe fn part<const P: usize>(
    kc: usize,
    a: APanel<'_>,
    b: BPanel<'_>,
    c: Out,
    ldc: usize,
    t: Tile,
    load_c: bool,
    r0: usize,
    w: usize,
) {
    if r0 >= t.rows {
        return;
    }
    let cols = (t.cols - 16 * w).min(16);
    // Row i of A at step p: a packed panel's p·MR + r0 + i, or row i's
    // pointer + p (rows past the tile's last repeat it, and are not stored).
    let (apack, rp, alpha) = match a {
        APanel::Packed(ap) => {
            assert!(ap.len() >= kc * MR);
            (ap.as_ptr().wrapping_add(r0), [std::ptr::null(); P], 1.0)
        }
        APanel::Rows(ar, lda, alpha) => {
            assert!(ar.len() >= (t.rows - 1) * lda + kc);
            let rp: [*const f32; P] =
                std::array::from_fn(|i| ar[(r0 + i).min(t.rows - 1) * lda..].as_ptr());
            (std::ptr::null(), rp, alpha)
        }
    };
    // SAFETY (all loads below): p < kc; a packed A panel holds kc·MR values
    // and every A row pointer kc values (asserted above); a packed B panel
    // kc·NR values (asserted below), and rows of B hold the tile's columns
    // past their offsets (the caller's contract), read under the column
    // masks where the part has fewer than 16.
    macro_rules! with_a {
        (|$p:ident| $b:expr) => {
            match a {
                APanel::Packed(_) => k_loop!(
                    kc,
                    |$p| {
                        // A hint only: no access, so an address past the panel is fine.
                        _mm_prefetch::<_MM_HINT_T0>(
                            apack.wrapping_add($p * MR + A_AHEAD) as *const i8
                        );
                        $b
                    },
                    |i| unsafe { *apack.add($p * MR + i) }
                ),
                APanel::Rows(..) => k_loop!(kc, |$p| $b, |i| unsafe { *rp[i].add($p) }),
            }
        };
    }
    let acc = match b {
        BPanel::Packed(bpanel) => {
            assert!(bpanel.len() >= kc * NR);
            let bp = bpanel.as_ptr().wrapping_add(16 * w);
            with_a!(|p| unsafe {
                let at = bp.add(p * NR);
                [_mm256_loadu_ps(at), _mm256_loadu_ps(at.add(8))]
            })
        }
        BPanel::Rows(data, rows, col, first) => {
            assert!(rows.len() >= kc);
            let base = data.as_ptr().wrapping_add(col + 16 * w);
            // The first part of a panel's first tile fetches the panel after
            // next, as the AVX-512 kernel does.
            let fetch = first && r0 == 0 && w == 0;
            let (m0, m1) = (lane_mask(cols), lane_mask(cols.saturating_sub(8)));
            if cols == 16 {
                with_a!(|p| unsafe {
                    let r = base.add(*rows.get_unchecked(p));
                    if fetch {
                        _mm_prefetch::<_MM_HINT_T0>(r.wrapping_add(B_AHEAD) as *const i8);
                        _mm_prefetch::<_MM_HINT_T0>(r.wrapping_add(B_AHEAD + 16) as *const i8);
                    }
                    [_mm256_loadu_ps(r), _mm256_loadu_ps(r.add(8))]
                })
            } else {
                with_a!(|p| unsafe {
                    let r = base.add(*rows.get_unchecked(p));
                    if fetch {
                        _mm_prefetch::<_MM_HINT_T0>(r.wrapping_add(B_AHEAD) as *const i8);
                    }
                    [_mm256_maskload_ps(r, m0), _mm256_maskload_ps(r.add(8), m1)]
                })
            }
        }
    };
    let scale = _mm256_set1_ps(alpha);
    for (i, row) in acc.iter().enumerate().take(t.rows - r0) {
        let at = t.offset + (r0 + i) * ldc + 16 * w;
        assert!(at + cols <= c.1);
        for (j, &v) in row.iter().enumerate() {
            let lanes = cols.saturating_sub(8 * j).min(8);
            if lanes == 0 {
                continue;
            }
            let mut v = v;
            if alpha != 1.0 {
                v = _mm256_mul_ps(v, scale);
            }
            // SAFETY: columns 16w + 8j + l for l < lanes are the tile's,
            // inside c (asserted).
            unsafe {
                let cp = c.0.add(at + 8 * j);
                if lanes == 8 {
                    if load_c {
                        v = _mm256_add_ps(v, _mm256_loadu_ps(cp));
                    }
                    _mm256_storeu_ps(cp, v);
                } else {
                    let mut buf = [0f32; 8];
                    _mm256_storeu_ps(buf.as_mut_ptr(), v);
                    for (l, &x) in buf.iter().enumerate().take(lanes) {
                        let d = cp.add(l);
                        *d = if load_c { x + *d } else { x };
                    }
                }
            }
        }
    }
}

/// The mask of the first `lanes` (at most 8) of a vector, for maskload.
#[target_feature(enable = "avx2,fma")]
fn lane_mask(lanes: usize) -> __m256i {
    let n = _mm256_set1_epi32(lanes.min(8) as i32);
    _mm256_cmpgt_epi32(n, _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7))
}

/// `Then::Clamp` or `Then::HardSwish` on a tile just stored (in L1), as the
/// AVX-512 kernel's `clamp_tile` computes it: the bias added, then the
/// values clamped (max then min, so NaN becomes the lower bound) or
/// HardSwish multiplied then added as `activation::apply` computes it.
///
/// # Safety
/// The CPU has AVX2 and FMA; the tile lies inside c; `bias` holds its rows
/// or columns.
#[target_feature(enable = "avx2,fma")]
pub(super) unsafe fn clamp_tile(c: Out, ldc: usize, t: Tile, bias: Bias<'_>, act: TileAct) {
    let (lo, hi, swish) = match act {
        TileAct::Clamp(lo, hi) => (lo, hi, false),
        TileAct::HardSwish => (0.0, 1.0, true),
    };
    // Infinite bounds clamp nothing, but max and min would turn NaN into one.
    let clamps = !swish && (lo > f32::NEG_INFINITY || hi < f32::INFINITY);
    let (lo, hi) = (_mm256_set1_ps(lo), _mm256_set1_ps(hi));
    let (sixth, half) = (_mm256_set1_ps(1.0 / 6.0), _mm256_set1_ps(0.5));
    let act = |v: __m256| {
        if clamps {
            _mm256_min_ps(_mm256_max_ps(v, lo), hi)
        } else if swish {
            let gate = _mm256_add_ps(_mm256_mul_ps(sixth, v), half);
            _mm256_mul_ps(v, _mm256_min_ps(_mm256_max_ps(gate, lo), hi))
        } else {
            v
        }
    };
    if let Bias::Cols(b) = bias {
        assert!(b.len() >= t.cols);
    }
    let mut bias_row = [0f32; NR];
    for i in 0..t.rows {
        let at = t.offset + i * ldc;
        assert!(at + t.cols <= c.1);
        match bias {
            Bias::Rows(b) => bias_row[..t.cols].fill(b[i]),
            Bias::Cols(b) if i == 0 => bias_row[..t.cols].copy_from_slice(&b[..t.cols]),
            _ => {}
        }
        // SAFETY: the tile's row i lies inside c (asserted) and no other
        // task writes it.
        let row = unsafe { std::slice::from_raw_parts_mut(c.0.add(at), t.cols) };
        for (v, b) in row.chunks_mut(8).zip(bias_row.chunks(8)) {
            // SAFETY: a whole chunk holds 8 values; a short one goes
            // through a buffer.
            unsafe {
                if v.len() == 8 {
                    let x = _mm256_add_ps(_mm256_loadu_ps(v.as_ptr()), _mm256_loadu_ps(b.as_ptr()));
                    _mm256_storeu_ps(v.as_mut_ptr(), act(x));
                } else {
                    let mut buf = [0f32; 8];
                    buf[..v.len()].copy_from_slice(v);
                    let x =
                        _mm256_add_ps(_mm256_loadu_ps(buf.as_ptr()), _mm256_loadu_ps(b.as_ptr()));
                    _mm256_storeu_ps(buf.as_mut_ptr(), act(x));
                    v.copy_from_slice(&buf[..v.len()]);
                }
            }
        }
    }
}
