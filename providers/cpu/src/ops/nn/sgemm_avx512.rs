//! The AVX-512 micro-kernel of `sgemm`: a 12×32 tile in 24 zmm registers.

#[cfg(target_arch = "x86_64")]
use std::arch::x86_64::*;

use super::sgemm::{APanel, BPanel, Bias, Out, Tile, TileAct, A_AHEAD, B_AHEAD, MR, NR};

#[cfg(target_arch = "x86_64")]
impl Tile {
    /// The lane masks of the tile's columns in its two 16-float vectors.
    pub(super) fn masks(&self) -> (__mmask16, __mmask16) {
        let mask =
            |from: usize| ((1u32 << self.cols.saturating_sub(from).min(16)) - 1) as __mmask16;
        (mask(0), mask(16))
    }
}

/// The k loop of `kernel`: `$b` yields step p's two B vectors; A is read from
/// the packed panel `$apack` or the row pointers `$rp`, as `$a` says.
#[cfg(target_arch = "x86_64")]
macro_rules! k_loop {
    ($acc:ident, $kc:expr, $a:expr, $apack:ident, $rp:ident, |$p:ident| $b:expr) => {
        match $a {
            APanel::Packed(_) => k_loop!(@steps $acc, $kc, |$p| {
                // A hint only: no access, so an address past the panel is fine.
                _mm_prefetch::<_MM_HINT_T0>($apack.wrapping_add($p * MR + A_AHEAD) as *const i8);
                $b
            }, |i| unsafe {
                *$apack.add($p * MR + i)
            }),
            APanel::Rows(..) => k_loop!(@steps $acc, $kc, |$p| $b, |i| unsafe { *$rp[i].add($p) }),
        }
    };
    (@steps $acc:ident, $kc:expr, |$p:ident| $b:expr, |$i:ident| $a:expr) => {
        for $p in 0..$kc {
            let bv = $b;
            for ($i, row) in $acc.iter_mut().enumerate() {
                let av = _mm512_set1_ps($a);
                for (r, b) in row.iter_mut().zip(bv) {
                    *r = _mm512_fmadd_ps(av, b, *r);
                }
            }
        }
    };
}

/// `c_tile (+)= a_panel · b_panel` over kc steps: R×16W accumulators in W·R
/// zmm registers, one broadcast of a per row and W loads of b per step. R is
/// 12, or 8 or 4 for a last row tile, so that no product rounds its rows up to
/// 12 (M = 64 would compute 72 rows); W is 2, or 1 for a tile of at most 16
/// columns (a last panel, or a Winograd block of 16 tiles), which would
/// otherwise spend half its multiply-adds on zeros.
///
/// # Safety
/// The CPU has AVX-512F; a `BPanel::Rows` operand holds `col + t.cols` values
/// from each of its kc row offsets (`sgemm` asserts it for the whole operand).
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f")]
pub(super) unsafe fn kernel<const R: usize, const W: usize>(
    kc: usize,
    a: APanel<'_>,
    b: BPanel<'_>,
    c: Out,
    ldc: usize,
    t: Tile,
    load_c: bool,
) {
    let mut acc = [[_mm512_setzero_ps(); W]; R];
    assert!(t.rows >= 1 && t.rows <= R && R <= MR && t.cols >= 1 && t.cols <= 16 * W);
    assert!(W == 1 || W == 2);
    let (m0, m1) = t.masks();
    // Row i of A at step p: a packed panel's p·MR + i, or row i's pointer + p.
    let (apack, rp, alpha) = match a {
        APanel::Packed(ap) => {
            assert!(ap.len() >= kc * MR);
            (ap.as_ptr(), [std::ptr::null(); R], 1.0)
        }
        APanel::Rows(ar, lda, alpha) => {
            assert!(ar.len() >= (t.rows - 1) * lda + kc);
            let rp: [*const f32; R] =
                std::array::from_fn(|i| ar[i.min(t.rows - 1) * lda..].as_ptr());
            (std::ptr::null(), rp, alpha)
        }
    };
    // SAFETY (all loads below): p < kc; a packed A panel holds kc·MR values and
    // every A row pointer kc values (asserted above); a packed B panel kc·NR
    // values (asserted below), and rows of B hold the tile's columns past
    // their offsets (the caller's contract), read under the column masks.
    match b {
        BPanel::Packed(bpanel) => {
            assert!(bpanel.len() >= kc * NR);
            let bp = bpanel.as_ptr();
            macro_rules! bload {
                ($p:ident) => {
                    unsafe {
                        let at = bp.add($p * NR);
                        let b: [__m512; W] =
                            std::array::from_fn(|w| _mm512_loadu_ps(at.add(16 * w)));
                        b
                    }
                };
            }
            k_loop!(acc, kc, a, apack, rp, |p| bload!(p));
        }
        BPanel::Rows(data, rows, col, first) => {
            assert!(rows.len() >= kc);
            let base = data.as_ptr().wrapping_add(col);
            macro_rules! bload {
                ($p:ident) => {
                    unsafe {
                        let r = base.add(*rows.get_unchecked($p));
                        if first {
                            // This row's two lines of the panel after next: rows far
                            // apart (a 1×1 convolution's channel planes) are
                            // more streams than the hardware prefetcher
                            // follows, and a cold input stalled every load.
                            // A hint only: past the row's end is fine.
                            _mm_prefetch::<_MM_HINT_T0>(r.wrapping_add(B_AHEAD) as *const i8);
                            _mm_prefetch::<_MM_HINT_T0>(r.wrapping_add(B_AHEAD + 16) as *const i8);
                        }
                        let b: [__m512; W] = std::array::from_fn(|w| {
                            _mm512_maskz_loadu_ps([m0, m1][w], r.add(16 * w))
                        });
                        b
                    }
                };
            }
            k_loop!(acc, kc, a, apack, rp, |p| bload!(p));
        }
    }
    let scale = _mm512_set1_ps(alpha);
    for (i, row) in acc.iter().enumerate().take(t.rows) {
        let at = t.offset + i * ldc;
        assert!(at + t.cols <= c.1);
        // SAFETY: the masked lanes are the tile's columns, inside c (asserted).
        unsafe {
            let cp = c.0.add(at);
            for (w, (&v, mask)) in row.iter().zip([m0, m1]).enumerate() {
                let mut v = v;
                if alpha != 1.0 {
                    v = _mm512_mul_ps(v, scale);
                }
                if load_c {
                    v = _mm512_add_ps(v, _mm512_maskz_loadu_ps(mask, cp.add(16 * w)));
                }
                _mm512_mask_storeu_ps(cp.add(16 * w), mask, v);
            }
        }
    }
}

/// `Then::Clamp` on a tile the kernel has just stored (in L1): the bias
/// (`bias` starts at the tile's first row or column) added, then the values
/// clamped. (Done in the kernel's own epilogue, it slowed the kernel's k loop
/// by half: the compiler then kept the accumulators in memory as well.)
///
/// # Safety
/// The CPU has AVX-512F; the tile lies inside c; `bias` holds its rows or
/// columns.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f")]
pub(super) unsafe fn clamp_tile(c: Out, ldc: usize, t: Tile, bias: Bias<'_>, act: TileAct) {
    let (m0, m1) = t.masks();
    let (lo, hi, swish) = match act {
        TileAct::Clamp(lo, hi) => (lo, hi, false),
        TileAct::HardSwish => (0.0, 1.0, true),
    };
    // Infinite bounds clamp nothing, but max and min would turn NaN into one.
    let clamps = !swish && (lo > f32::NEG_INFINITY || hi < f32::INFINITY);
    let (lo, hi) = (_mm512_set1_ps(lo), _mm512_set1_ps(hi));
    // x · min(max(x/6 + 1/2, 0), 1), multiplied then added as
    // `activation::apply` computes it, so both give the same bits.
    let (sixth, half) = (_mm512_set1_ps(1.0 / 6.0), _mm512_set1_ps(0.5));
    let hard_swish = |v: __m512| {
        let gate = _mm512_add_ps(_mm512_mul_ps(sixth, v), half);
        _mm512_mul_ps(v, _mm512_min_ps(_mm512_max_ps(gate, lo), hi))
    };
    let (mut b0, mut b1) = (_mm512_setzero_ps(), _mm512_setzero_ps());
    if let Bias::Cols(b) = bias {
        assert!(b.len() >= t.cols);
        // SAFETY: the masked lanes are the tile's columns, inside b (asserted).
        unsafe {
            b0 = _mm512_maskz_loadu_ps(m0, b.as_ptr());
            b1 = _mm512_maskz_loadu_ps(m1, b.as_ptr().add(16));
        }
    }
    for i in 0..t.rows {
        let at = t.offset + i * ldc;
        assert!(at + t.cols <= c.1);
        if let Bias::Rows(b) = bias {
            (b0, b1) = (_mm512_set1_ps(b[i]), _mm512_set1_ps(b[i]));
        }
        // SAFETY: the masked lanes are the tile's columns, inside c (asserted).
        unsafe {
            let cp = c.0.add(at);
            let mut v0 = _mm512_add_ps(_mm512_maskz_loadu_ps(m0, cp), b0);
            let mut v1 = _mm512_add_ps(_mm512_maskz_loadu_ps(m1, cp.add(16)), b1);
            if clamps {
                v0 = _mm512_min_ps(_mm512_max_ps(v0, lo), hi);
                v1 = _mm512_min_ps(_mm512_max_ps(v1, lo), hi);
            } else if swish {
                (v0, v1) = (hard_swish(v0), hard_swish(v1));
            }
            _mm512_mask_storeu_ps(cp, m0, v0);
            _mm512_mask_storeu_ps(cp.add(16), m1, v1);
        }
    }
}

#[cfg(not(target_arch = "x86_64"))]
pub(super) unsafe fn clamp_tile(_: Out, _: usize, _: Tile, _: Bias<'_>, _: TileAct) {
    unreachable!("available() is false off x86_64")
}

#[cfg(not(target_arch = "x86_64"))]
pub(super) unsafe fn kernel<const R: usize, const W: usize>(
    _: usize,
    _: APanel<'_>,
    _: BPanel<'_>,
    _: Out,
    _: usize,
    _: Tile,
    _: bool,
) {
    unreachable!("available() is false off x86_64")
}
