//! The last few columns of a packed-A product, one vector per column.
//!
//! `sgemm`'s AVX-512 kernel puts columns in the lanes: a tile's row of C is one or two
//! vectors, and a product whose width leaves a few columns past a whole vector
//! pays a whole vector's multiply-adds for them (a 7×7 convolution's 49
//! columns cost as much as 64). Here those columns turn around: A's packed
//! panel holds the tile's rows side by side at each step, so one load of it
//! times a broadcast of B gives a column of C in the lanes. A 7×7 layer runs
//! 37 multiply-adds per step instead of 48 (MobileNetV3's 7×7 pointwise
//! layers alone: 20% faster).
//!
//! (Products of one column, a squeeze-and-excite block's 1×1 convolutions,
//! measured slower here than in the `gemm` crate: there the weights' pass
//! from L2 sets the pace and the tile's fixed costs dominate.)

#[cfg(target_arch = "x86_64")]
use std::arch::x86_64::*;

use super::sgemm::{BPanel, Out, Tile, MR, NR};

/// Partial sums per column when a tile has no lane vector.
const CHAINS: usize = 4;

/// The most columns handled as A-vectors after the lane vectors.
pub(super) const MAX_EXTRA: usize = 4;

/// Whether a tile of `cols` columns runs here: up to `MAX_EXTRA` past zero
/// or one whole vector.
pub(super) fn takes(cols: usize) -> bool {
    (1..=MAX_EXTRA).contains(&cols) || (17..=16 + MAX_EXTRA).contains(&cols)
}

/// Runs the tile (`takes(t.cols)` holds) over its packed A panel `ap`.
///
/// # Safety
/// As for `sgemm::kernel` with a packed A: the CPU has AVX-512F, the
/// panel holds kc·MR values, B's rows hold the tile's columns past their
/// offsets, and the tile lies inside C.
#[cfg(target_arch = "x86_64")]
pub(super) unsafe fn tile(
    kc: usize,
    ap: &[f32],
    b: BPanel<'_>,
    c: Out,
    ldc: usize,
    t: Tile,
    load_c: bool,
) {
    // Rows broadcast only for the lane vector: without one, R does not matter.
    macro_rules! go {
        ($($e:literal)*) => {
            match (t.cols, t.rows) {
                $(($e, _) => kernel::<MR, 0, $e>(kc, ap, b, c, ldc, t, load_c),
                (c16, 1..=4) if c16 == 16 + $e => kernel::<4, 1, $e>(kc, ap, b, c, ldc, t, load_c),
                (c16, 5..=8) if c16 == 16 + $e => kernel::<8, 1, $e>(kc, ap, b, c, ldc, t, load_c),
                (c16, _) if c16 == 16 + $e => kernel::<MR, 1, $e>(kc, ap, b, c, ldc, t, load_c),)*
                _ => unreachable!("takes() holds"),
            }
        };
    }
    // SAFETY: the caller's contract.
    unsafe { go!(1 2 3 4) }
}

#[cfg(not(target_arch = "x86_64"))]
pub(super) unsafe fn tile(_: usize, _: &[f32], _: BPanel<'_>, _: Out, _: usize, _: Tile, _: bool) {
    unreachable!("available() is false off x86_64")
}

/// R rows (broadcasts) × W lane vectors as `sgemm::kernel` computes
/// them, then E columns as A-vectors.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f")]
unsafe fn kernel<const R: usize, const W: usize, const E: usize>(
    kc: usize,
    ap: &[f32],
    b: BPanel<'_>,
    c: Out,
    ldc: usize,
    t: Tile,
    load_c: bool,
) {
    assert!(ap.len() >= kc * MR && t.rows >= 1 && t.rows <= R && t.cols == 16 * W + E);
    let mut acc = [[_mm512_setzero_ps(); W]; R];
    // Without lane vectors, each column's multiply-adds would form one chain
    // waiting on the last (a one-column product ran at a third of the
    // crate's speed): steps rotate over CHAINS partial sums instead.
    let chains = if W == 0 { CHAINS } else { 1 };
    let mut ext = [[_mm512_setzero_ps(); CHAINS]; E];
    let a = ap.as_ptr();
    // The panel's MR rows of one step: the loads stop at the step's end.
    let arow = ((1u32 << MR) - 1) as __mmask16;
    // Step p's B values at columns `col..`: a packed panel's row, or a row read
    // in place.
    let (bp, rows, col) = match b {
        BPanel::Packed(bp) => {
            assert!(bp.len() >= kc * NR);
            (bp.as_ptr(), &[][..], 0)
        }
        BPanel::Rows(data, rows, col, _) => {
            assert!(rows.len() >= kc);
            (data.as_ptr(), rows, col)
        }
    };
    let packed = rows.is_empty();
    // (A macro, not a closure: closures do not inherit the target feature.)
    macro_rules! step {
        ($p:expr, $chain:expr) => {{
            let (p, chain) = ($p, $chain);
            // SAFETY: p < kc; the panel holds kc·MR values (asserted); B's
            // step p holds the tile's columns (a packed panel NR ≥ t.cols,
            // rows by the caller's contract).
            unsafe {
                let brow = if packed {
                    bp.add(p * NR)
                } else {
                    bp.add(*rows.get_unchecked(p) + col)
                };
                let at = a.add(p * MR);
                if W == 1 {
                    let bv = _mm512_loadu_ps(brow);
                    for (i, row) in acc.iter_mut().enumerate() {
                        row[0] = _mm512_fmadd_ps(_mm512_set1_ps(*at.add(i)), bv, row[0]);
                    }
                }
                let av = _mm512_maskz_loadu_ps(arow, at);
                for (q, e) in ext.iter_mut().enumerate() {
                    let bq = _mm512_set1_ps(*brow.add(16 * W + q));
                    e[chain] = _mm512_fmadd_ps(av, bq, e[chain]);
                }
            }
        }};
    }
    let whole = kc - kc % chains;
    for p0 in (0..whole).step_by(chains) {
        for s in 0..chains {
            step!(p0 + s, s);
        }
    }
    for p in whole..kc {
        step!(p, 0);
    }
    let ext: [__m512; E] = std::array::from_fn(|q| {
        let e = &ext[q];
        _mm512_add_ps(_mm512_add_ps(e[0], e[1]), _mm512_add_ps(e[2], e[3]))
    });
    let mut cols = [[0f32; 16]; E];
    for (q, e) in ext.iter().enumerate() {
        // SAFETY: 16 floats fit in `cols[q]`.
        unsafe { _mm512_storeu_ps(cols[q].as_mut_ptr(), *e) };
    }
    for i in 0..t.rows {
        let at = t.offset + i * ldc;
        assert!(at + t.cols <= c.1);
        // SAFETY: the row's t.cols values at `at` lie inside c (asserted).
        unsafe {
            let cp = c.0.add(at);
            if W == 1 {
                let mut v = acc[i][0];
                if load_c {
                    v = _mm512_add_ps(v, _mm512_loadu_ps(cp));
                }
                _mm512_storeu_ps(cp, v);
            }
            for (q, col) in cols.iter().enumerate() {
                let d = cp.add(16 * W + q);
                *d = if load_c { *d + col[i] } else { col[i] };
            }
        }
    }
}
