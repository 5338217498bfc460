//! `depthwise_rows` for CPUs with AVX2 but not AVX-512: depthwise 3×3 and
//! 5×5 convolution (stride 1 or 2) and 3×3 max pooling, one plane at a time,
//! eight output columns of a row per vector. Loads that straddle a row's ends are masked
//! (`vmaskmovps`, which never touches a masked-out lane), the others are
//! not: on AMD a masked load costs several plain ones. Stride-2 taps are
//! the even or odd floats of two adjacent vectors, picked out with an
//! in-lane shuffle; the columns' order is mended once per output vector.

use std::arch::x86_64::*;

use super::conv::Epilogue;
use super::window::Geom;
use super::PAR_WORK;
use crate::ops::fused::activation::{add_then_apply, Act};

/// Output columns per vector.
const L: usize = 8;
/// The most loads of one row of taps: 5 taps at stride 2 take 3 pairs.
const LOADS: usize = 6;

/// Whether `g` (2-D) is a window this computes on this CPU: as
/// `depthwise_rows::fits`, on an AVX2 CPU without AVX-512.
pub(super) fn fits(g: &Geom) -> bool {
    const MIN_OW: usize = 14;
    g.rank() == 2
        // 5×5 at stride 1 (14×14 planes in MobileNetV3) measured slower
        // here than the per-plane loops, and so did 7×7 planes copied with
        // their padding (to load whole vectors).
        && (g.kernel == [3, 3] || (g.kernel == [5, 5] && g.strides[0] == 2))
        && g.strides[0] == g.strides[1]
        && g.strides[0] <= 2
        && g.dilations.iter().all(|&d| d == 1)
        && g.output[1] >= MIN_OW
        && super::sgemm::isa() == Some(super::sgemm::Isa::Avx2)
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
    let k = g.kernel[0];
    assert!(x.len() == c * in_sz && out.len() == c * out_sz && w.len() == c * k * k);
    assert!(b.is_none_or(|b| b.len() == c) && ep.z.is_none_or(|z| z.len() == out.len()));
    // The residual, ReLU and HardSwish are applied as each vector is
    // stored; other activations per plane afterwards.
    let inline = match ep.act {
        None => Some(NONE),
        Some(Act::Relu) => Some(RELU),
        Some(Act::HardSwish) => Some(HARD_SWISH),
        Some(_) => None,
    };
    let plane = |ch: usize, o: &mut [f32]| {
        let z = ep.z.map(|z| &z[ch * out_sz..(ch + 1) * out_sz]);
        let kernel = &w[ch * k * k..(ch + 1) * k * k];
        let bias = b.map_or(0.0, |b| b[ch]);
        let xc = &x[ch * in_sz..(ch + 1) * in_sz];
        // SAFETY: AVX2 and FMA are present (`fits`).
        unsafe {
            match (k, g.strides[0], inline.unwrap_or(NONE)) {
                (3, 1, RELU) => rows::<3, 1, RELU>(g, xc, kernel, bias, z, o),
                (3, 1, HARD_SWISH) => rows::<3, 1, HARD_SWISH>(g, xc, kernel, bias, z, o),
                (3, 1, _) => rows::<3, 1, NONE>(g, xc, kernel, bias, z, o),
                (3, _, RELU) => rows::<3, 2, RELU>(g, xc, kernel, bias, z, o),
                (3, _, HARD_SWISH) => rows::<3, 2, HARD_SWISH>(g, xc, kernel, bias, z, o),
                (3, _, _) => rows::<3, 2, NONE>(g, xc, kernel, bias, z, o),
                (_, _, RELU) => rows::<5, 2, RELU>(g, xc, kernel, bias, z, o),
                (_, _, HARD_SWISH) => rows::<5, 2, HARD_SWISH>(g, xc, kernel, bias, z, o),
                (_, _, _) => rows::<5, 2, NONE>(g, xc, kernel, bias, z, o),
            }
        }
        if inline.is_none() {
            add_then_apply(o, None, ep.act);
        }
    };
    let threads = if out.len() * k * k >= PAR_WORK {
        threads
    } else {
        1
    };
    crate::parallel::for_each_chunk(threads, out, out_sz, plane);
}

/// Whether `g` is a max pool this computes: a 3×3 window `fits` takes.
pub(super) fn pool_fits(g: &Geom) -> bool {
    fits(g) && g.kernel == [3, 3]
}

/// 3×3 max pooling of one image's `c` planes (`pool_fits(g)` holds), plane by
/// plane: the padding is -inf, so it never wins, and NaNs are skipped as
/// `f32::max` skips them.
pub(super) fn max_pool(g: &Geom, c: usize, x: &[f32], out: &mut [f32], threads: usize) {
    assert!(pool_fits(g));
    let (in_sz, out_sz) = (g.input[0] * g.input[1], g.output[0] * g.output[1]);
    assert!(x.len() == c * in_sz && out.len() == c * out_sz);
    let plane = |ch: usize, o: &mut [f32]| max_pool_plane(g, &x[ch * in_sz..(ch + 1) * in_sz], o);
    let threads = if out.len() * 9 >= PAR_WORK {
        threads
    } else {
        1
    };
    crate::parallel::for_each_chunk(threads, out, out_sz, plane);
}

/// One plane `xc` max-pooled into `o` (`pool_fits(g)` holds).
pub(super) fn max_pool_plane(g: &Geom, xc: &[f32], o: &mut [f32]) {
    assert!(pool_fits(g));
    // SAFETY: AVX2 and FMA are present (`fits`).
    unsafe {
        match g.strides[0] {
            1 => max_rows::<1>(g, xc, o),
            _ => max_rows::<2>(g, xc, o),
        }
    }
}

/// Every output row of max-pooled plane `xc`, a vector of columns at a time,
/// each input row's maximum over the window's columns taken once and kept
/// for the output rows that share it (as `depthwise_rows::max_rows`).
///
/// # Safety
/// The CPU has AVX2 and FMA.
#[target_feature(enable = "avx2,fma")]
unsafe fn max_rows<const S: usize>(g: &Geom, xc: &[f32], o: &mut [f32]) {
    let (ih, iw, oh, ow) = (g.input[0], g.input[1], g.output[0], g.output[1]);
    let (top, left) = (g.pad_begin[0] as isize, g.pad_begin[1] as isize);
    assert!(o.len() == oh * ow && xc.len() == ih * iw);
    let pad = _mm256_set1_ps(f32::NEG_INFINITY);
    for j0 in (0..ow).step_by(L) {
        let masks = row_masks::<3, S>(j0, left, iw);
        // Whether every load lies inside the row: then none is masked.
        let start = (S * j0) as isize - left;
        let inner =
            start >= 0 && start + if S == 1 { 2 + L } else { 2 + 2 * L } as isize <= iw as isize;
        // Row y's maximum over the window's columns (y inside the plane).
        let across = |y: usize| {
            let row = xc
                .as_ptr()
                .wrapping_offset((y * iw + S * j0) as isize - left);
            // Load q at `at` columns on; its masked-out lanes (read as 0) -inf.
            let load = |q: usize, at: usize| {
                if inner {
                    // SAFETY: the vector lies inside row y (`inner`).
                    return unsafe { _mm256_loadu_ps(row.wrapping_add(at)) };
                }
                // SAFETY: the lanes in masks[q] lie inside row y.
                let v = unsafe { _mm256_maskload_ps(row.wrapping_add(at), masks[q]) };
                _mm256_blendv_ps(pad, v, _mm256_castsi256_ps(masks[q]))
            };
            // vmaxps keeps its second operand when either is NaN.
            if S == 1 {
                (0..3).fold(pad, |acc, kx| _mm256_max_ps(load(kx, kx), acc))
            } else {
                let (e0, o0) = evens_odds(load(0, 0), load(1, L));
                let (e2, _) = evens_odds(load(2, 2), load(3, 2 + L));
                let acc = _mm256_max_ps(e0, pad);
                _mm256_max_ps(e2, _mm256_max_ps(o0, acc))
            }
        };
        // Rows in the padding are -inf.
        let row_max = |y: isize| {
            if y >= 0 && y < ih as isize {
                across(y as usize)
            } else {
                pad
            }
        };
        let m = (ow - j0).min(L);
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
            let acc = _mm256_max_ps(_mm256_max_ps(h0, h1), h2);
            (s0, s1) = if S == 1 { (h1, h2) } else { (h2, pad) };
            let acc = if S == 1 { acc } else { in_order(acc) };
            store(&mut o[r * ow + j0..][..m], acc);
        }
    }
}

/// The first `o.len()` (at most L) lanes of `v` into `o`.
#[inline]
#[target_feature(enable = "avx2,fma")]
fn store(o: &mut [f32], v: __m256) {
    if o.len() == L {
        // SAFETY: L floats in `o`.
        unsafe { _mm256_storeu_ps(o.as_mut_ptr(), v) };
    } else {
        let mut out = [0f32; L];
        // SAFETY: L floats in `out`.
        unsafe { _mm256_storeu_ps(out.as_mut_ptr(), v) };
        o.copy_from_slice(&out[..o.len()]);
    }
}

/// What `rows` applies as it stores (its `A`).
const NONE: u8 = 0;
const RELU: u8 = 1;
const HARD_SWISH: u8 = 2;

/// The lanes of an 8-float load starting at column `start` (possibly
/// negative) that fall inside a row of `width` floats, as a maskload mask.
#[target_feature(enable = "avx2,fma")]
fn inside(start: isize, width: usize) -> __m256i {
    let lo = (-start).clamp(0, L as isize) as i32;
    let hi = (width as isize - start).clamp(0, L as isize) as i32;
    let lane = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
    // lo <= lane < hi
    let above = _mm256_cmpgt_epi32(lane, _mm256_set1_epi32(lo - 1));
    let below = _mm256_cmpgt_epi32(_mm256_set1_epi32(hi), lane);
    _mm256_and_si256(above, below)
}

/// The masks of the loads of one row of taps for output columns `j0..`, as
/// offsets from S·j0 − left: K vectors at stride 1; at stride 2, pairs of
/// vectors for taps (0, 1), (2, 3) and (4).
#[target_feature(enable = "avx2,fma")]
fn row_masks<const K: usize, const S: usize>(
    j0: usize,
    left: isize,
    iw: usize,
) -> [__m256i; LOADS] {
    let loads = if S == 1 { K } else { K.div_ceil(2) * 2 };
    let mut masks = [_mm256_setzero_si256(); LOADS];
    for (q, m) in masks.iter_mut().enumerate().take(loads) {
        let offset = if S == 1 { q } else { (q / 2) * 2 + (q % 2) * L };
        *m = inside((S * j0 + offset) as isize - left, iw);
    }
    masks
}

/// The even and the odd floats of `lo` then `hi`, each out of order:
/// within each 128-bit half, two of lo's then two of hi's. Sums of
/// such vectors stay in that order, and one permute per output vector
/// (`in_order`) undoes it, instead of one per tap.
#[inline]
#[target_feature(enable = "avx2,fma")]
fn evens_odds(lo: __m256, hi: __m256) -> (__m256, __m256) {
    (
        _mm256_shuffle_ps::<0b10_00_10_00>(lo, hi),
        _mm256_shuffle_ps::<0b11_01_11_01>(lo, hi),
    )
}

/// Output columns 0, 1, 4, 5, 2, 3, 6, 7 (`evens_odds`' order) into order.
#[inline]
#[target_feature(enable = "avx2,fma")]
fn in_order(v: __m256) -> __m256 {
    _mm256_castpd_ps(_mm256_permute4x64_pd::<0b11_01_10_00>(_mm256_castps_pd(v)))
}

/// Output rows computed together at stride 1: their sums are independent
/// chains of multiply-adds (one chain waited on the FMA latency at every
/// tap), and a loaded input row serves each of them that it reaches.
const ROWS: usize = 4;

/// What every block of one plane's output reads.
struct Plane<'a> {
    g: &'a Geom,
    xc: &'a [f32],
    /// The kernel's taps, each broadcast.
    w: [__m256; 25],
    bias: f32,
    z: Option<&'a [f32]>,
}

/// Every output row of input plane `xc`: bias plus the taps, one vector of
/// columns at a time, then the residual `z` and the activation `A` (ReLU or
/// HardSwish, as `activation::apply` computes them, or none).
///
/// # Safety
/// The CPU has AVX2 and FMA.
#[target_feature(enable = "avx2,fma")]
unsafe fn rows<const K: usize, const S: usize, const A: u8>(
    g: &Geom,
    xc: &[f32],
    kernel: &[f32],
    bias: f32,
    z: Option<&[f32]>,
    o: &mut [f32],
) {
    let (ih, iw, oh, ow) = (g.input[0], g.input[1], g.output[0], g.output[1]);
    assert!(o.len() == oh * ow && xc.len() == ih * iw);
    assert!(z.is_none_or(|z| z.len() == o.len()));
    assert!(kernel.len() == K * K && K <= 5);
    let w = std::array::from_fn(|i| _mm256_set1_ps(kernel.get(i).copied().unwrap_or(0.0)));
    let p = Plane { g, xc, w, bias, z };
    let left = g.pad_begin[1] as isize;
    // How far past its first column a vector's loads of one row reach.
    let reach = if S == 1 {
        K - 1 + L
    } else {
        (K - 1) / 2 * 2 + 2 * L
    } as isize;
    for j0 in (0..ow).step_by(L) {
        let start = (S * j0) as isize - left;
        // SAFETY: AVX2 and FMA are present (the caller's contract).
        unsafe {
            if start >= 0 && start + reach <= iw as isize {
                column::<K, S, A, false>(&p, &[_mm256_setzero_si256(); LOADS], j0, o)
            } else {
                column::<K, S, A, true>(&p, &row_masks::<K, S>(j0, left, iw), j0, o)
            }
        }
    }
}

/// Zeros, read in place of a row in the padding by loads that are not masked.
static ZERO_ROW: [f32; 4 * L] = [0.0; 4 * L];

/// Every output row of the vector of columns at `j0`. `EDGE`: some of its
/// loads straddle a row's ends and are masked (`masks`); inner vectors load
/// whole vectors (AMD's masked loads cost several times a plain one).
///
/// # Safety
/// The CPU has AVX2 and FMA.
#[inline]
#[target_feature(enable = "avx2,fma")]
unsafe fn column<const K: usize, const S: usize, const A: u8, const EDGE: bool>(
    p: &Plane<'_>,
    masks: &[__m256i; LOADS],
    j0: usize,
    o: &mut [f32],
) {
    let oh = p.g.output[0];
    let mut r = 0;
    // At stride 2 two rows at a time: their windows share an input row,
    // and each tap's shuffles leave registers for two sums, not four.
    while S == 1 && r + ROWS <= oh {
        // SAFETY: AVX2 and FMA are present (the caller's contract).
        unsafe { block::<K, S, A, ROWS, EDGE>(p, masks, j0, r, o) };
        r += ROWS;
    }
    while S == 2 && r + 2 <= oh {
        // SAFETY: as above.
        unsafe { block::<K, S, A, 2, EDGE>(p, masks, j0, r, o) };
        r += 2;
    }
    for r in r..oh {
        // SAFETY: as above.
        unsafe { block::<K, S, A, 1, EDGE>(p, masks, j0, r, o) };
    }
}

/// Output rows `r0..r0 + R`, columns `j0..` (a vector's worth): each input
/// row of their windows is loaded once, K shifts of it (stride 1) or K taps'
/// even and odd floats (stride 2), and multiplied into every output row whose
/// window holds it. Each sum takes its taps in the order ky, kx, as one row
/// alone does.
///
/// # Safety
/// The CPU has AVX2 and FMA; `r0 + R <= oh`.
#[inline]
#[target_feature(enable = "avx2,fma")]
unsafe fn block<const K: usize, const S: usize, const A: u8, const R: usize, const EDGE: bool>(
    p: &Plane<'_>,
    masks: &[__m256i; LOADS],
    j0: usize,
    r0: usize,
    o: &mut [f32],
) {
    let g = p.g;
    let (ih, iw, ow) = (g.input[0], g.input[1], g.output[1]);
    let (top, left) = (g.pad_begin[0] as isize, g.pad_begin[1] as isize);
    let mut acc = [_mm256_set1_ps(p.bias); R];
    // Input row t of the block feeds output row i through kernel row t − S·i.
    let mut feed = |t: usize, kx: usize, v: __m256| {
        for (i, acc) in acc.iter_mut().enumerate() {
            if t >= S * i && t - S * i < K {
                *acc = _mm256_fmadd_ps(p.w[(t - S * i) * K + kx], v, *acc);
            }
        }
    };
    let none = _mm256_setzero_si256();
    for t in 0..(R - 1) * S + K {
        // Rows in the padding load nothing: their masks are cleared (a branch
        // here instead cost the accumulators their registers).
        let y = (S * r0 + t) as isize - top;
        let valid = y >= 0 && y < ih as isize;
        let mask = |q: usize| if valid { masks[q] } else { none };
        let at = y * iw as isize + (S * j0) as isize - left;
        // Masked-out lanes are never read, so a masked load's address may lie
        // before or past the row (`wrapping_offset`); whole loads of a row in
        // the padding read zeros instead.
        let row = if EDGE || valid {
            p.xc.as_ptr().wrapping_offset(at)
        } else {
            ZERO_ROW.as_ptr()
        };
        // SAFETY: the lanes in `mask(q)` lie inside row `y`; without EDGE, the
        // caller checked that the whole vectors lie inside it (or in ZERO_ROW).
        let load = |q: usize, off: usize| unsafe {
            if EDGE {
                _mm256_maskload_ps(row.wrapping_add(off), mask(q))
            } else {
                _mm256_loadu_ps(row.add(off))
            }
        };
        if S == 1 {
            for kx in 0..K {
                feed(t, kx, load(kx, kx));
            }
        } else {
            for kx in (0..K).step_by(2) {
                let (lo, hi) = (load(kx, kx), load(kx + 1, kx + L));
                // Taps kx and kx + 1: the even and odd floats of the pair
                // (out of order until `in_order`).
                let (e, od) = evens_odds(lo, hi);
                feed(t, kx, e);
                if kx + 1 < K {
                    feed(t, kx + 1, od);
                }
            }
        }
    }
    let m = (ow - j0).min(L);
    for (i, acc) in acc.into_iter().enumerate() {
        let acc = if S == 1 { acc } else { in_order(acc) };
        // SAFETY: AVX2 and FMA are present (the caller's contract).
        unsafe { finish::<A>(acc, p.z, o, (r0 + i) * ow + j0, m) };
    }
}

/// Output vector `acc` plus the residual `z`, then the activation `A`, into
/// the `m` floats of `o` at `at`.
///
/// # Safety
/// The CPU has AVX2 and FMA.
#[inline]
#[target_feature(enable = "avx2,fma")]
unsafe fn finish<const A: u8>(
    mut acc: __m256,
    z: Option<&[f32]>,
    o: &mut [f32],
    at: usize,
    m: usize,
) {
    assert!(at + m <= o.len() && m <= L);
    if let Some(z) = z {
        let mut zv = [0f32; L];
        zv[..m].copy_from_slice(&z[at..at + m]);
        // SAFETY: L floats in `zv`.
        acc = _mm256_add_ps(acc, unsafe { _mm256_loadu_ps(zv.as_ptr()) });
    }
    acc = match A {
        RELU => _mm256_max_ps(acc, _mm256_setzero_ps()),
        HARD_SWISH => {
            let gate = _mm256_add_ps(
                _mm256_mul_ps(_mm256_set1_ps(1.0 / 6.0), acc),
                _mm256_set1_ps(0.5),
            );
            let gate = _mm256_min_ps(
                _mm256_max_ps(gate, _mm256_setzero_ps()),
                _mm256_set1_ps(1.0),
            );
            _mm256_mul_ps(acc, gate)
        }
        _ => acc,
    };
    store(&mut o[at..at + m], acc);
}

#[cfg(test)]
mod tests {
    use super::super::channel_blocks::tests::{geom, naive, Case};
    use super::*;

    #[test]
    fn planes_match_their_definition() {
        let cases: [Case; 9] = [
            // Tails of 4, 1 and 7 columns; rows past the padding.
            (3, [28, 28], [3, 3], [1, 1], [1, 1], [1, 1, 1, 1]),
            (2, [33, 33], [3, 3], [1, 1], [1, 1], [1, 1, 1, 1]),
            (5, [31, 62], [3, 3], [2, 2], [1, 1], [1, 1, 1, 1]),
            // Stride 2 with no padding, and uneven padding.
            (2, [57, 57], [3, 3], [2, 2], [1, 1], [0, 0, 0, 0]),
            (3, [28, 29], [3, 3], [2, 2], [1, 1], [2, 1, 1, 2]),
            // 5×5 at both strides.
            (2, [30, 31], [5, 5], [2, 2], [1, 1], [2, 2, 2, 2]),
            (3, [35, 33], [5, 5], [2, 2], [1, 1], [2, 1, 2, 1]),
            // Rows of 14 and 16 columns: edge vectors only.
            (2, [28, 28], [5, 5], [2, 2], [1, 1], [2, 1, 1, 2]),
            (3, [15, 32], [3, 3], [2, 2], [1, 1], [0, 1, 1, 0]),
        ];
        for case in &cases {
            let (c, g) = (case.0, geom(case));
            if !fits(&g) {
                eprintln!("skipping: not an AVX2-only CPU");
                return;
            }
            let (in_sz, out_sz) = (g.input[0] * g.input[1], g.output[0] * g.output[1]);
            let val = |i: usize, k: usize| ((i * k % 89) as f32 - 44.0) / 16.0;
            let x: Vec<f32> = (0..c * in_sz).map(|i| val(i, 29)).collect();
            let taps = g.kernel[0] * g.kernel[1];
            let w: Vec<f32> = (0..c * taps).map(|i| val(i, 11)).collect();
            let b: Vec<f32> = (0..c).map(|i| val(i, 13)).collect();
            let z: Vec<f32> = (0..c * out_sz).map(|i| val(i, 7)).collect();
            if pool_fits(&g) {
                let mut got = vec![f32::NAN; c * out_sz];
                max_pool(&g, c, &x, &mut got, 2);
                assert_eq!(got, naive(&g, c, &x, None), "{case:?} max");
            }
            let want = naive(&g, c, &x, Some((&w, &b)));
            for (zr, act) in [
                (None, None),
                (Some(&z[..]), Some(Act::Relu)),
                (None, Some(Act::HardSwish)),
            ] {
                let mut got = vec![0f32; c * out_sz];
                let ep = Epilogue { z: zr, act };
                depthwise(&g, c, &x, &w, Some(&b), &mut got, ep, 2);
                for (i, (&g, &w)) in got.iter().zip(&want).enumerate() {
                    let w = w + zr.map_or(0.0, |z| z[i]);
                    let w = match act {
                        Some(Act::Relu) => w.max(0.0),
                        Some(Act::HardSwish) => w * (w / 6.0 + 0.5).clamp(0.0, 1.0),
                        _ => w,
                    };
                    assert!(
                        (g - w).abs() <= 1e-4 * (1.0 + w.abs()),
                        "{case:?} {act:?} at {i}: {g} vs {w}"
                    );
                }
            }
        }
    }
}
