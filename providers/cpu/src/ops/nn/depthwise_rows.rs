//! Depthwise 3×3 convolution (stride 1 or 2, no dilation) one plane at a
//! time, sixteen output columns of a row per vector (f32, AVX-512).
//!
//! Where a plane's rows are at least about a vector wide, this beats putting
//! channels in the lanes (`channel_blocks`): that transposes every input and
//! output element across sixteen planes at once, which costs more than the
//! nine or twenty-five taps themselves when the stride is 2, while here each
//! plane is read and written in place as one sequential stream. (On 5×5
//! kernels, whose planes are small in the models at hand, the two measured
//! the same, and channel lanes keep them.) Padding is
//! never copied: loads that straddle a row's ends are masked. Stride-2 taps
//! are the even or odd floats of two adjacent vectors, picked out with one
//! permute.

use std::arch::x86_64::*;

use super::channel_blocks::Lanewise;
use super::conv::Epilogue;
use super::window::Geom;
use super::PAR_WORK;
use crate::ops::fused::activation::add_then_apply;

/// Output columns per vector.
const L: usize = 16;
/// Kernel rows and columns.
const K: usize = 3;

/// Whether `g` (2-D) is a window these kernels compute, and worth it: rows of
/// at least `MIN_OW` outputs (narrower ones leave most lanes idle).
pub(super) fn fits(g: &Geom) -> bool {
    const MIN_OW: usize = 14;
    g.rank() == 2
        && g.kernel == [K, K]
        && g.strides[0] == g.strides[1]
        && g.strides[0] <= 2
        && g.dilations.iter().all(|&d| d == 1)
        && g.output[1] >= MIN_OW
        && super::sgemm::avx512()
}

/// Depthwise convolution of one image (`fits(g)` holds): `x` its `c` planes,
/// `w` one kernel per channel, `out` the `c` output planes, then `ep` (this
/// image's residual and activation).
#[allow(clippy::too_many_arguments)]
pub(super) fn depthwise(
    g: &Geom,
    c: usize,
    x: &[f32],
    w: &[f32],
    b: Option<&[f32]>,
    out: &mut [f32],
    ep: Epilogue<'_, f32>,
    threads: usize,
) {
    assert!(fits(g));
    let (in_sz, out_sz) = (g.input[0] * g.input[1], g.output[0] * g.output[1]);
    assert!(x.len() == c * in_sz && out.len() == c * out_sz && w.len() == c * K * K);
    assert!(b.is_none_or(|b| b.len() == c) && ep.z.is_none_or(|z| z.len() == out.len()));
    // Common activations (and the residual) are applied as each vector is
    // stored; the others per plane afterwards.
    let inline = Lanewise::of(ep.act);
    let plane = |ch: usize, o: &mut [f32]| {
        let z = ep.z.map(|z| &z[ch * out_sz..(ch + 1) * out_sz]);
        let t = Taps {
            w: &w[ch * K * K..(ch + 1) * K * K],
            bias: b.map_or(0.0, |b| b[ch]),
            z: if inline.is_some() { z } else { None },
            act: inline.unwrap_or(Lanewise::None),
        };
        let xc = &x[ch * in_sz..(ch + 1) * in_sz];
        // The common activations are compiled into the loop: a match per
        // vector cost as much as a fifth of the window's multiply-adds.
        macro_rules! go {
            ($($s:literal $a:ident),*) => {
                match (g.strides[0], t.act) {
                    $(($s, Lanewise::$a) => rows::<$s, { Inline::$a as u8 }>(g, xc, &t, o),)*
                    (1, _) => rows::<1, { Inline::Other as u8 }>(g, xc, &t, o),
                    _ => rows::<2, { Inline::Other as u8 }>(g, xc, &t, o),
                }
            };
        }
        // SAFETY: AVX-512F is present (`fits`).
        unsafe { go!(1 None, 2 None, 1 Relu, 2 Relu, 1 HardSwish, 2 HardSwish) }
        if inline.is_none() {
            add_then_apply(o, z, ep.act);
        }
    };
    let threads = if out.len() * K * K >= PAR_WORK {
        threads
    } else {
        1
    };
    crate::parallel::for_each_chunk(threads, out, out_sz, plane);
}

/// 3×3 max pooling of one image's `c` planes (`fits(g)` holds), plane by
/// plane as above: the padding is -inf, so it never wins, and NaNs are
/// skipped as `f32::max` skips them.
pub(super) fn max_pool(g: &Geom, c: usize, x: &[f32], out: &mut [f32], threads: usize) {
    assert!(fits(g));
    let (in_sz, out_sz) = (g.input[0] * g.input[1], g.output[0] * g.output[1]);
    assert!(x.len() == c * in_sz && out.len() == c * out_sz);
    let plane = |ch: usize, o: &mut [f32]| max_pool_plane(g, &x[ch * in_sz..(ch + 1) * in_sz], o);
    let threads = if out.len() * K * K >= PAR_WORK {
        threads
    } else {
        1
    };
    crate::parallel::for_each_chunk(threads, out, out_sz, plane);
}

/// One plane `xc` max-pooled into `o` (`fits(g)` holds).
pub(super) fn max_pool_plane(g: &Geom, xc: &[f32], o: &mut [f32]) {
    assert!(fits(g));
    // SAFETY: AVX-512F is present (`fits`).
    unsafe {
        match g.strides[0] {
            1 => max_rows::<1>(g, xc, o),
            _ => max_rows::<2>(g, xc, o),
        }
    }
}

/// Every output row of max-pooled plane `xc`, a vector of columns at a time:
/// each input row's maximum over the three columns of the window is taken
/// once and kept for the output rows that share it (one in three rows at
/// stride 2, two at stride 1), rather than recomputed for each.
///
/// # Safety
/// The CPU has AVX-512F.
#[target_feature(enable = "avx512f")]
unsafe fn max_rows<const S: usize>(g: &Geom, xc: &[f32], o: &mut [f32]) {
    let (ih, iw, oh, ow) = (g.input[0], g.input[1], g.output[0], g.output[1]);
    let (top, left) = (g.pad_begin[0] as isize, g.pad_begin[1] as isize);
    assert!(o.len() == oh * ow && xc.len() == ih * iw);
    let pad = _mm512_set1_ps(f32::NEG_INFINITY);
    let (evens, odds) = halves();
    for j0 in (0..ow).step_by(L) {
        let masks = row_masks::<S>(j0, left, iw);
        // Row y's maximum over the window's columns (y inside the plane).
        let across = |y: usize| {
            let row = xc
                .as_ptr()
                .wrapping_offset((y * iw + S * j0) as isize - left);
            let mut acc = pad;
            // SAFETY (the loads): the lanes in masks[q] lie inside row y.
            // (Closures inherit the enclosing function's target feature.)
            unsafe {
                if S == 1 {
                    for (kx, &m) in masks.iter().enumerate().take(K) {
                        let v = _mm512_mask_loadu_ps(pad, m, row.wrapping_add(kx));
                        acc = _mm512_max_ps(v, acc);
                    }
                } else {
                    for kx in (0..K).step_by(2) {
                        let lo = _mm512_mask_loadu_ps(pad, masks[kx], row.wrapping_add(kx));
                        let hi = _mm512_mask_loadu_ps(pad, masks[kx + 1], row.wrapping_add(kx + L));
                        acc = _mm512_max_ps(_mm512_permutex2var_ps(lo, evens, hi), acc);
                        if kx + 1 < K {
                            acc = _mm512_max_ps(_mm512_permutex2var_ps(lo, odds, hi), acc);
                        }
                    }
                }
            }
            acc
        };
        // Rows in the padding are -inf (branches on this predict well: only
        // the first and last output rows see them).
        let row_max = |y: isize| {
            if y >= 0 && y < ih as isize {
                across(y as usize)
            } else {
                pad
            }
        };
        let m = (ow - j0).min(L);
        let store = ((1u32 << m) - 1) as __mmask16;
        // The maxima of the window's rows that the next output row shares:
        // its first (stride 2), or its first two (stride 1).
        let (mut s0, mut s1) = (pad, pad);
        for r in 0..oh {
            let y0 = (S * r) as isize - top;
            let (h0, h1) = match (r, S) {
                (0, _) => (row_max(y0), row_max(y0 + 1)),
                (_, 1) => (s0, s1),
                _ => (s0, row_max(y0 + 1)),
            };
            let h2 = row_max(y0 + 2);
            let acc = _mm512_max_ps(_mm512_max_ps(h0, h1), h2);
            (s0, s1) = if S == 1 { (h1, h2) } else { (h2, pad) };
            let at = r * ow + j0;
            assert!(at + m <= o.len());
            // SAFETY: `m` floats at `at` lie in `o` (asserted).
            unsafe { _mm512_mask_storeu_ps(o.as_mut_ptr().add(at), store, acc) };
        }
    }
}

/// The activations `rows` compiles in (`A`), and the rest (`t.act`).
#[derive(Clone, Copy)]
enum Inline {
    None,
    Relu,
    HardSwish,
    Other,
}

/// One plane's kernel (none: max pooling), bias (or -inf), and what is
/// applied as outputs are stored.
struct Taps<'a> {
    w: &'a [f32],
    bias: f32,
    z: Option<&'a [f32]>,
    act: Lanewise,
}

/// The permutes that pick the even and the odd floats of two vectors.
#[inline]
#[target_feature(enable = "avx512f")]
fn halves() -> (__m512i, __m512i) {
    (
        _mm512_set_epi32(30, 28, 26, 24, 22, 20, 18, 16, 14, 12, 10, 8, 6, 4, 2, 0),
        _mm512_set_epi32(31, 29, 27, 25, 23, 21, 19, 17, 15, 13, 11, 9, 7, 5, 3, 1),
    )
}

/// The lanes inside the row of the loads of one row of taps for output
/// columns `j0..`, as offsets from S·j0 − left: K vectors at stride 1; at
/// stride 2, pairs of vectors for taps (0, 1) and (2).
fn row_masks<const S: usize>(j0: usize, left: isize, iw: usize) -> [__mmask16; K + 1] {
    let loads = if S == 1 { K } else { K.div_ceil(2) * 2 };
    let mut masks = [0 as __mmask16; K + 1];
    for (q, m) in masks.iter_mut().enumerate().take(loads) {
        let offset = if S == 1 { q } else { (q / 2) * 2 + (q % 2) * L };
        *m = inside((S * j0 + offset) as isize - left, iw);
    }
    masks
}

/// The lanes of a 16-float load starting at column `start` (possibly
/// negative) that fall inside a row of `width` floats.
fn inside(start: isize, width: usize) -> __mmask16 {
    let lo = (-start).clamp(0, L as isize) as u32;
    let hi = (width as isize - start).clamp(0, L as isize) as u32;
    if hi <= lo {
        return 0;
    }
    (((1u32 << hi) - 1) & !((1u32 << lo) - 1)) as __mmask16
}

/// Every output row of input plane `xc`: bias plus the taps, one vector of
/// columns at a time, then the residual and activation. (One chain of
/// multiply-adds per vector measured faster than several rows at once: the
/// out-of-order core overlaps the chains of neighbouring vectors itself.)
///
/// # Safety
/// The CPU has AVX-512F.
#[target_feature(enable = "avx512f")]
unsafe fn rows<const S: usize, const A: u8>(g: &Geom, xc: &[f32], t: &Taps<'_>, o: &mut [f32]) {
    let (ih, iw, oh, ow) = (g.input[0], g.input[1], g.output[0], g.output[1]);
    let (top, left) = (g.pad_begin[0] as isize, g.pad_begin[1] as isize);
    assert!(t.w.len() == K * K);
    assert!(o.len() == oh * ow && xc.len() == ih * iw);
    assert!(t.z.is_none_or(|z| z.len() == o.len()));
    let w: [__m512; K * K] =
        std::array::from_fn(|i| _mm512_set1_ps(t.w.get(i).copied().unwrap_or(0.0)));
    // What masked-out lanes read as.
    let pad = _mm512_setzero_ps();
    let (evens, odds) = halves();
    for j0 in (0..ow).step_by(L) {
        let masks = row_masks::<S>(j0, left, iw);
        let m = (ow - j0).min(L);
        let store = ((1u32 << m) - 1) as __mmask16;
        for r in 0..oh {
            let mut acc = _mm512_set1_ps(t.bias);
            for ky in 0..K {
                // Rows in the padding load nothing: their masks are cleared
                // (no branch, so that the loops over the taps unroll).
                let y = (S * r + ky) as isize - top;
                let valid = if y >= 0 && y < ih as isize { !0 } else { 0 };
                // Masked-out lanes are never read, so the load address may lie
                // before or past the row (`wrapping_offset`).
                let row = xc
                    .as_ptr()
                    .wrapping_offset(y * iw as isize + (S * j0) as isize - left);
                // SAFETY (the loads): the lanes in `masks[q] & valid` lie inside row `y`.
                if S == 1 {
                    for kx in 0..K {
                        let v = unsafe {
                            _mm512_mask_loadu_ps(pad, masks[kx] & valid, row.wrapping_add(kx))
                        };
                        acc = _mm512_fmadd_ps(w[ky * K + kx], v, acc);
                    }
                } else {
                    for kx in (0..K).step_by(2) {
                        let (m0, m1) = (masks[kx] & valid, masks[kx + 1] & valid);
                        let lo = unsafe { _mm512_mask_loadu_ps(pad, m0, row.wrapping_add(kx)) };
                        let hi = unsafe { _mm512_mask_loadu_ps(pad, m1, row.wrapping_add(kx + L)) };
                        // Taps kx and kx + 1: the even and odd floats of the pair.
                        let e = _mm512_permutex2var_ps(lo, evens, hi);
                        acc = _mm512_fmadd_ps(w[ky * K + kx], e, acc);
                        if kx + 1 < K {
                            let od = _mm512_permutex2var_ps(lo, odds, hi);
                            acc = _mm512_fmadd_ps(w[ky * K + kx + 1], od, acc);
                        }
                    }
                }
            }
            let at = r * ow + j0;
            assert!(at + m <= o.len());
            if let Some(z) = t.z {
                // SAFETY: `m` floats at `at` lie in `z` (as long as `o`).
                acc = _mm512_add_ps(acc, unsafe {
                    _mm512_maskz_loadu_ps(store, z.as_ptr().add(at))
                });
            }
            acc = match A {
                a if a == Inline::None as u8 => acc,
                a if a == Inline::Relu as u8 => _mm512_max_ps(acc, _mm512_setzero_ps()),
                a if a == Inline::HardSwish as u8 => Lanewise::HardSwish.apply(acc),
                _ => t.act.apply(acc),
            };
            // SAFETY: `m` floats at `at` lie in `o` (asserted).
            unsafe { _mm512_mask_storeu_ps(o.as_mut_ptr().add(at), store, acc) };
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::channel_blocks::tests::{geom, naive, Case};
    use super::*;
    use crate::ops::fused::activation::Act;

    /// A residual, an activation, and the activation as a scalar function.
    type Ep<'a> = (Option<&'a [f32]>, Option<Act>, fn(f32) -> f32);

    #[test]
    fn planes_match_their_definition() {
        let cases: [Case; 5] = [
            // Tails of 12, 1 and 15 columns; 3 and 5 rows past whole groups of 4.
            (3, [28, 28], [3, 3], [1, 1], [1, 1], [1, 1, 1, 1]),
            (2, [33, 33], [3, 3], [1, 1], [1, 1], [1, 1, 1, 1]),
            (5, [31, 62], [3, 3], [2, 2], [1, 1], [1, 1, 1, 1]),
            // Stride 2 with no padding, and uneven padding.
            (2, [57, 57], [3, 3], [2, 2], [1, 1], [0, 0, 0, 0]),
            (3, [28, 29], [3, 3], [2, 2], [1, 1], [2, 1, 1, 2]),
        ];
        for case in &cases {
            let (c, g) = (case.0, geom(case));
            if !fits(&g) {
                assert!(!crate::ops::nn::sgemm::avx512(), "{case:?} should fit");
                return;
            }
            let (in_sz, out_sz) = (g.input[0] * g.input[1], g.output[0] * g.output[1]);
            let taps = g.kernel[0] * g.kernel[1];
            let val = |i: usize, k: usize| ((i * k % 89) as f32 - 44.0) / 16.0;
            let x: Vec<f32> = (0..c * in_sz).map(|i| val(i, 29)).collect();
            let w: Vec<f32> = (0..c * taps).map(|i| val(i, 11)).collect();
            let b: Vec<f32> = (0..c).map(|i| val(i, 13)).collect();
            let z: Vec<f32> = (0..c * out_sz).map(|i| val(i, 7)).collect();
            let mut got = vec![f32::NAN; c * out_sz];
            max_pool(&g, c, &x, &mut got, 2);
            assert_eq!(got, naive(&g, c, &x, None), "{case:?} max");
            let want = naive(&g, c, &x, Some((&w, &b)));
            // None; a residual and an activation applied as stored; one
            // applied afterwards.
            let eps: [Ep<'_>; 3] = [
                (None, None, |v| v),
                (Some(&z), Some(Act::HardSwish), |v| {
                    v * (v / 6.0 + 0.5).clamp(0.0, 1.0)
                }),
                (Some(&z), Some(Act::Tanh), f32::tanh),
            ];
            for (zi, act, f) in eps {
                for threads in [1, 2] {
                    let mut got = vec![f32::NAN; c * out_sz];
                    let ep = Epilogue { z: zi, act };
                    depthwise(&g, c, &x, &w, Some(&b), &mut got, ep, threads);
                    for (i, (g, w)) in got.iter().zip(&want).enumerate() {
                        let w = f(w + zi.map_or(0.0, |z| z[i]));
                        assert!(
                            (g - w).abs() <= 1e-4 * w.abs().max(1.0),
                            "{case:?} {act:?} at {i}: {g} vs {w}"
                        );
                    }
                }
            }
        }
    }
}
