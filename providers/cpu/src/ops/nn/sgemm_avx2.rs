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
/// the 16-column halves of the panel the tile reaches; then `ep` (a bias and
/// `Then::Clamp` or `Then::HardSwish`) on the registers as they are stored.
///
/// # Safety
/// The CPU has AVX2 and FMA; a packed A panel holds kc·MR values, a packed B
/// panel kc·NR; a `BPanel::Rows` operand holds `col + t.cols` values from
/// each of its kc row offsets; the tile lies inside c; `ep`'s bias holds the
/// tile's rows or columns.
#[allow(clippy::too_many_arguments)]
#[target_feature(enable = "avx2,fma")]
pub(super) unsafe fn kernel<const R: usize, const W: usize>(
    kc: usize,
    a: APanel<'_>,
    b: BPanel<'_>,
    c: Out,
    ldc: usize,
    t: Tile,
    load_c: bool,
    ep: Option<(Bias<'_>, TileAct)>,
) {
    let f = ep.map(|(bias, act)| Finish::new(bias, act, t));
    assert!(t.rows >= 1 && t.rows <= R && R <= MR && t.cols >= 1 && t.cols <= 16 * W);
    for w in 0..W {
        // SAFETY: the caller's contract, for a part of the tile.
        unsafe {
            // A last part of at most 8 columns (a 7×7 or 14×14 output's
            // 49 or 196 columns) runs one vector per row, not two.
            if t.cols - 16 * w <= 8 {
                parts::<R, 1>(kc, a, b, c, ldc, t, load_c, f, w)
            } else {
                parts::<R, 2>(kc, a, b, c, ldc, t, load_c, f, w)
            }
        }
    }
}

/// The parts of rows `0..R` (of them, those in the tile) for columns
/// `16w..`, V vectors per row.
///
/// # Safety
/// As for `kernel`; `16w < t.cols <= 16w + 8V`.
#[allow(clippy::too_many_arguments)]
#[inline]
#[target_feature(enable = "avx2,fma")]
unsafe fn parts<const R: usize, const V: usize>(
    kc: usize,
    a: APanel<'_>,
    b: BPanel<'_>,
    c: Out,
    ldc: usize,
    t: Tile,
    load_c: bool,
    f: Option<Finish<'_>>,
    w: usize,
) {
    // SAFETY: the caller's contract.
    unsafe {
        match R {
            4 => part::<4, V>(kc, a, b, c, ldc, t, load_c, f, 0, w),
            8 => {
                part::<4, V>(kc, a, b, c, ldc, t, load_c, f, 0, w);
                part::<4, V>(kc, a, b, c, ldc, t, load_c, f, 4, w);
            }
            _ => {
                part::<6, V>(kc, a, b, c, ldc, t, load_c, f, 0, w);
                part::<6, V>(kc, a, b, c, ldc, t, load_c, f, 6, w);
            }
        }
    }
}

/// The k loop of `part`: `$b` yields step p's V B vectors, `$a` row i's
/// value of A at step p; the block's value is the P×V accumulators. (Each
/// loop has accumulators of its own: one array shared by the loops and the
/// stores after them stayed in memory, a store per multiply-add.)
macro_rules! k_loop {
    ($kc:expr, |$p:ident| $b:expr, |$i:ident| $a:expr) => {{
        let mut acc = [[_mm256_setzero_ps(); V]; P];
        for $p in 0..$kc {
            let bv: [__m256; V] = $b;
            for ($i, row) in acc.iter_mut().enumerate() {
                let av = _mm256_set1_ps($a);
                for (r, b) in row.iter_mut().zip(bv) {
                    *r = _mm256_fmadd_ps(av, b, *r);
                }
            }
        }
        acc
    }};
}

/// Rows `r0..r0 + P` (those of them in the tile) times columns `16w..16w + 8V`
/// of the tile.
///
/// # Safety
/// As for `kernel`; `r0 < t.rows` and `16w < t.cols <= 16w + 8V` (or V is 2).
#[allow(clippy::too_many_arguments)]
#[target_feature(enable = "avx2,fma")]
unsafe fn part<const P: usize, const V: usize>(
    kc: usize,
    a: APanel<'_>,
    b: BPanel<'_>,
    c: Out,
    ldc: usize,
    t: Tile,
    load_c: bool,
    f: Option<Finish<'_>>,
    r0: usize,
    w: usize,
) {
    if r0 >= t.rows {
        return;
    }
    let cols = (t.cols - 16 * w).min(8 * V);
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
                std::array::from_fn(|j| _mm256_loadu_ps(at.add(8 * j)))
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
                    std::array::from_fn(|j| _mm256_loadu_ps(r.add(8 * j)))
                })
            } else {
                with_a!(|p| unsafe {
                    let r = base.add(*rows.get_unchecked(p));
                    if fetch {
                        _mm_prefetch::<_MM_HINT_T0>(r.wrapping_add(B_AHEAD) as *const i8);
                    }
                    std::array::from_fn(|j| _mm256_maskload_ps(r.add(8 * j), [m0, m1][j]))
                })
            }
        }
    };
    if V == 2 && t.rows - r0 >= P && cols == 16 && alpha == 1.0 {
        let at = t.offset + r0 * ldc + 16 * w;
        assert!(at + (P - 1) * ldc + 16 <= c.1);
        // SAFETY: the part's P rows of 16 columns lie inside c (asserted).
        return unsafe { store_whole(&acc, c.0.add(at), ldc, load_c, f, r0, 16 * w) };
    }
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
            let col = 16 * w + 8 * j;
            // SAFETY: columns 16w + 8j + l for l < lanes are the tile's,
            // inside c (asserted).
            unsafe {
                let cp = c.0.add(at + 8 * j);
                if lanes == 8 {
                    if load_c {
                        v = _mm256_add_ps(v, _mm256_loadu_ps(cp));
                    }
                    if let Some(f) = &f {
                        v = f.apply(v, r0 + i, col, 8);
                    }
                    _mm256_storeu_ps(cp, v);
                } else {
                    let mut buf = [0f32; 8];
                    _mm256_storeu_ps(buf.as_mut_ptr(), v);
                    if load_c {
                        for (l, x) in buf.iter_mut().enumerate().take(lanes) {
                            *x += *cp.add(l);
                        }
                    }
                    if let Some(f) = &f {
                        let y = f.apply(_mm256_loadu_ps(buf.as_ptr()), r0 + i, col, lanes);
                        _mm256_storeu_ps(buf.as_mut_ptr(), y);
                    }
                    std::ptr::copy_nonoverlapping(buf.as_ptr(), cp, lanes);
                }
            }
        }
    }
}

/// Stores a whole part, P rows of 16 columns from `cp`, `ldc` apart (added to
/// what is there with `load_c`), then `f` on it, with loops of constant
/// length per kind of bias and activation, so that the accumulators stay in
/// registers (a loop over the tile's rows, with the bias and activation
/// matched per vector, went through the stack); `row` and `col` are the
/// part's place in the tile, for the bias.
///
/// # Safety
/// The CPU has AVX2 and FMA; the P rows lie inside C.
#[inline]
#[target_feature(enable = "avx2,fma")]
unsafe fn store_whole<const P: usize, const V: usize>(
    acc: &[[__m256; V]; P],
    cp: *mut f32,
    ldc: usize,
    load_c: bool,
    f: Option<Finish<'_>>,
    row: usize,
    col: usize,
) {
    macro_rules! rows {
        (|$i:ident, $j:ident, $v:ident| $finish:expr) => {
            for $i in 0..P {
                for $j in 0..V {
                    // SAFETY: row i's 16 columns lie inside C (the caller's contract).
                    unsafe {
                        let at = cp.add($i * ldc + 8 * $j);
                        let mut $v = acc[$i][$j];
                        if load_c {
                            $v = _mm256_add_ps($v, _mm256_loadu_ps(at));
                        }
                        _mm256_storeu_ps(at, $finish);
                    }
                }
            }
        };
    }
    macro_rules! act {
        ($f:expr, |$i:ident, $j:ident| $bias:expr) => {{
            let (lo, hi) = ($f.lo, $f.hi);
            if $f.clamps {
                rows!(|$i, $j, v| clamp(_mm256_add_ps(v, $bias), lo, hi))
            } else if $f.swish {
                rows!(|$i, $j, v| hard_swish(_mm256_add_ps(v, $bias), lo, hi))
            } else {
                rows!(|$i, $j, v| _mm256_add_ps(v, $bias))
            }
        }};
    }
    match f {
        None => rows!(|_i, _j, v| v),
        Some(f) => match f.bias {
            Bias::None => act!(f, |_i, _j| _mm256_setzero_ps()),
            Bias::Rows(b) => {
                let b = &b[row..row + P];
                act!(f, |i, _j| _mm256_set1_ps(b[i]))
            }
            Bias::Cols(b) => {
                let b = &b[col..col + 16];
                // SAFETY: b holds 16 floats.
                let bv = unsafe {
                    [
                        _mm256_loadu_ps(b.as_ptr()),
                        _mm256_loadu_ps(b.as_ptr().add(8)),
                    ]
                };
                act!(f, |_i, j| bv[j])
            }
        },
    }
}

/// The mask of the first `lanes` (at most 8) of a vector, for maskload.
#[target_feature(enable = "avx2,fma")]
fn lane_mask(lanes: usize) -> __m256i {
    let n = _mm256_set1_epi32(lanes.min(8) as i32);
    _mm256_cmpgt_epi32(n, _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7))
}

/// `Then::Clamp` or `Then::HardSwish` on a tile's registers as they are
/// stored, as the AVX-512 kernel's `clamp_tile` computes it on the stored
/// tile: the bias added (zero when there is none, as there), then the values
/// clamped (max then min, so NaN becomes the lower bound) or HardSwish
/// multiplied then added as `activation::apply` computes it.
#[derive(Clone, Copy)]
struct Finish<'a> {
    bias: Bias<'a>,
    lo: __m256,
    hi: __m256,
    /// Infinite bounds clamp nothing, but max and min would turn NaN into one.
    clamps: bool,
    swish: bool,
}

impl<'a> Finish<'a> {
    #[target_feature(enable = "avx2,fma")]
    fn new(bias: Bias<'a>, act: TileAct, t: Tile) -> Finish<'a> {
        match bias {
            Bias::Rows(b) => assert!(b.len() >= t.rows),
            Bias::Cols(b) => assert!(b.len() >= t.cols),
            Bias::None => {}
        }
        let (lo, hi, swish) = match act {
            TileAct::Clamp(lo, hi) => (lo, hi, false),
            TileAct::HardSwish => (0.0, 1.0, true),
        };
        Finish {
            bias,
            lo: _mm256_set1_ps(lo),
            hi: _mm256_set1_ps(hi),
            clamps: !swish && (lo > f32::NEG_INFINITY || hi < f32::INFINITY),
            swish,
        }
    }

    /// `v`, the tile's row `row` at columns `col..col + lanes`.
    #[target_feature(enable = "avx2,fma")]
    fn apply(&self, v: __m256, row: usize, col: usize, lanes: usize) -> __m256 {
        let bias = match self.bias {
            Bias::None => _mm256_setzero_ps(),
            Bias::Rows(b) => _mm256_set1_ps(b[row]),
            // SAFETY: the slice holds 8 floats.
            Bias::Cols(b) if lanes == 8 => unsafe { _mm256_loadu_ps(b[col..col + 8].as_ptr()) },
            Bias::Cols(b) => {
                let mut buf = [0f32; 8];
                buf[..lanes].copy_from_slice(&b[col..col + lanes]);
                // SAFETY: buf holds 8 floats.
                unsafe { _mm256_loadu_ps(buf.as_ptr()) }
            }
        };
        let x = _mm256_add_ps(v, bias);
        if self.clamps {
            clamp(x, self.lo, self.hi)
        } else if self.swish {
            hard_swish(x, self.lo, self.hi)
        } else {
            x
        }
    }
}

/// `x` clamped to `lo..=hi`: max then min, so NaN becomes `lo`.
#[inline]
#[target_feature(enable = "avx2,fma")]
fn clamp(x: __m256, lo: __m256, hi: __m256) -> __m256 {
    _mm256_min_ps(_mm256_max_ps(x, lo), hi)
}

/// HardSwish as `activation::apply` computes it, `lo` and `hi` the gate's
/// bounds (0 and 1): `x · clamp(x/6 + 1/2)`, multiplied then added.
#[inline]
#[target_feature(enable = "avx2,fma")]
fn hard_swish(x: __m256, lo: __m256, hi: __m256) -> __m256 {
    let gate = _mm256_add_ps(
        _mm256_mul_ps(_mm256_set1_ps(1.0 / 6.0), x),
        _mm256_set1_ps(0.5),
    );
    _mm256_mul_ps(x, clamp(gate, lo, hi))
}
