//! Depthwise 2-D convolution with the channels as vector lanes: 16 channels at
//! a time are interleaved into one padded buffer, so that every output position
//! of the block is a sum of whole-vector multiply-adds over the taps, whatever
//! the plane size. The per-plane kernel (`conv_loops::depthwise_plane`) spends
//! most of its time setting up each plane when planes are small (a late
//! MobileNet layer has 576 planes of 7×7); here that cost is shared by 16.
//! For f32 on AVX2 + FMA the sums are explicit multiply-adds
//! (`block_sums_fma`), and the moves into lanes and back 8×8 transposes
//! (`depthwise_blocked_avx2`).

use super::window::Geom;
use super::{numel, with_scratch, Flt, PAR_WORK};

/// Channels per block: one AVX-512 vector of f32.
const L: usize = 16;

/// The padded extent one block reads, and where the input starts in it.
struct Extent {
    ph: usize,
    pw: usize,
    top: usize,
    left: usize,
}

fn extent(g: &Geom) -> Extent {
    let span = |i: usize| (g.output[i] - 1) * g.strides[i] + (g.kernel[i] - 1) * g.dilations[i] + 1;
    Extent {
        ph: span(0),
        pw: span(1),
        top: g.pad_begin[0],
        left: g.pad_begin[1],
    }
}

/// Depthwise convolution of one image: `x` holds its C planes, `w` C kernels,
/// `out` C output planes (one output channel per input channel). `g` is 2-D.
pub(super) fn depthwise<F: Flt>(
    g: &Geom,
    x: &[F],
    w: &[F],
    b: Option<&[F]>,
    out: &mut [F],
    threads: usize,
) {
    let (in_sz, out_sz, kv) = (numel(&g.input), numel(&g.output), numel(&g.kernel));
    let e = extent(g);
    let scratch = e.ph * e.pw * L + out_sz * L;
    let block = |(bi, o): (usize, &mut [F])| {
        let c0 = bi * L;
        let lanes = o.len() / out_sz;
        with_scratch(scratch, |s: &mut [F]| {
            let (padded, sums) = s.split_at_mut(e.ph * e.pw * L);
            let xs = &x[c0 * in_sz..(c0 + lanes) * in_sz];
            if !interleave_avx2(g, &e, xs, lanes, padded) {
                interleave(g, &e, xs, lanes, padded);
            }
            let mut wt = [[F::zero(); L]; 49];
            let mut many = Vec::new();
            let wt: &mut [[F; L]] = if kv <= wt.len() {
                &mut wt[..kv]
            } else {
                many.resize(kv, [F::zero(); L]);
                &mut many
            };
            for (l, k) in w[c0 * kv..(c0 + lanes) * kv].chunks(kv).enumerate() {
                for (t, &v) in k.iter().enumerate() {
                    wt[t][l] = v;
                }
            }
            let mut bias = [F::zero(); L];
            if let Some(b) = b {
                bias[..lanes].copy_from_slice(&b[c0..c0 + lanes]);
            }
            sums_of(g, &e, padded, wt, &bias, sums);
            // Back to planes: lane l of every position is output plane c0 + l.
            if planes_avx2(sums, out_sz, o) {
                return;
            }
            for (l, plane) in o.chunks_mut(out_sz).enumerate() {
                for (d, s) in plane.iter_mut().zip(sums.chunks_exact(L)) {
                    *d = s[l];
                }
            }
        })
    };
    let work = out.len() * kv;
    let threads = if work >= PAR_WORK { threads } else { 1 };
    crate::parallel::for_each_chunk(threads, out, L * out_sz, |i, o| block((i, o)));
}

/// `lanes` input planes interleaved into `padded` ([ph][pw][L], zero in the
/// padding and in unused lanes).
fn interleave<F: Flt>(g: &Geom, e: &Extent, xs: &[F], lanes: usize, padded: &mut [F]) {
    let (ih, iw) = (g.input[0], g.input[1]);
    padded.fill(F::zero());
    // Input rows and columns that land inside the extent read.
    let rows = ih.min(e.ph.saturating_sub(e.top));
    let cols = iw.min(e.pw.saturating_sub(e.left));
    for (l, plane) in xs.chunks(ih * iw).take(lanes).enumerate() {
        for y in 0..rows {
            let src = &plane[y * iw..y * iw + cols];
            let at = ((y + e.top) * e.pw + e.left) * L + l;
            for (xi, &v) in src.iter().enumerate() {
                padded[at + xi * L] = v;
            }
        }
    }
}

/// `interleave` by 8×8 transposes, where F is f32 and [`fma`] holds; false,
/// doing nothing, elsewhere.
fn interleave_avx2<F: Flt>(g: &Geom, e: &Extent, xs: &[F], lanes: usize, padded: &mut [F]) -> bool {
    #[cfg(target_arch = "x86_64")]
    if let (true, Some(xs), Some(padded)) =
        (fma::<F>(), super::as_f32(xs), super::as_f32_mut(padded))
    {
        let (ih, iw) = (g.input[0], g.input[1]);
        padded.fill(0.0);
        let rows = ih.min(e.ph.saturating_sub(e.top));
        let cols = iw.min(e.pw.saturating_sub(e.left));
        let mut row: [&[f32]; L] = [&[]; L];
        for y in 0..rows {
            for (r, plane) in row.iter_mut().zip(xs.chunks(ih * iw).take(lanes)) {
                *r = &plane[y * iw..y * iw + cols];
            }
            let at = ((y + e.top) * e.pw + e.left) * L;
            // SAFETY: the CPU has AVX2 and FMA (`fma`).
            unsafe {
                super::depthwise_blocked_avx2::to_lanes(&row[..lanes], cols, &mut padded[at..], L)
            };
        }
        return true;
    }
    let _ = (g, e, xs, lanes, padded);
    false
}

/// The sums' lanes back into output planes `o` (`out_sz` values each) by 8×8
/// transposes, where F is f32 and [`fma`] holds; false, doing nothing,
/// elsewhere.
fn planes_avx2<F: Flt>(sums: &[F], out_sz: usize, o: &mut [F]) -> bool {
    #[cfg(target_arch = "x86_64")]
    if let (true, Some(sums), Some(o)) = (fma::<F>(), super::as_f32(sums), super::as_f32_mut(o)) {
        let mut planes: [&mut [f32]; L] = Default::default();
        let mut n = 0;
        for (p, plane) in planes.iter_mut().zip(o.chunks_mut(out_sz)) {
            *p = plane;
            n += 1;
        }
        // SAFETY: the CPU has AVX2 and FMA (`fma`).
        unsafe { super::depthwise_blocked_avx2::from_lanes(sums, L, out_sz, &mut planes[..n]) };
        return true;
    }
    let _ = (sums, out_sz, o);
    false
}

/// Whether `block_sums` runs as explicit multiply-adds: F is f32 and the CPU
/// has AVX2 and FMA (the portable loop's separate multiply and add, even
/// vectorized, took twice the instructions).
pub(super) fn fma<F: 'static>() -> bool {
    cfg!(target_arch = "x86_64")
        && std::any::TypeId::of::<F>() == std::any::TypeId::of::<f32>()
        && super::sgemm::isa().is_some()
}

/// `block_sums`, as `block_sums_fma` where [`fma`] holds.
fn sums_of<F: Flt>(
    g: &Geom,
    e: &Extent,
    padded: &[F],
    wt: &[[F; L]],
    bias: &[F; L],
    sums: &mut [F],
) {
    #[cfg(target_arch = "x86_64")]
    if fma::<F>() {
        let flat = (
            super::as_f32(padded),
            super::as_f32(wt.as_flattened()),
            super::as_f32(bias),
        );
        if let ((Some(p), Some(w), Some(b)), Some(s)) = (flat, super::as_f32_mut(sums)) {
            // SAFETY: the CPU has AVX2 and FMA (`fma`).
            return unsafe { block_sums_fma(g, e, p, w, b, s) };
        }
    }
    block_sums(g, e, padded, wt, *bias, sums)
}

/// `block_sums` on f32 with AVX2 + FMA: each position's L lanes as two
/// vectors, four positions at a time; `wt` holds L weights per tap.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
fn block_sums_fma(
    g: &Geom,
    e: &Extent,
    padded: &[f32],
    wt: &[f32],
    bias: &[f32],
    sums: &mut [f32],
) {
    use std::arch::x86_64::*;
    let (ow, kw) = (g.output[1], g.kernel[1]);
    let (sh, sw, dh, dw) = (g.strides[0], g.strides[1], g.dilations[0], g.dilations[1]);
    let origin = |pos: usize| ((pos / ow) * sh * e.pw + (pos % ow) * sw) * L;
    let taps: Vec<usize> = (0..wt.len() / L)
        .map(|t| ((t / kw) * dh * e.pw + (t % kw) * dw) * L)
        .collect();
    let positions = sums.len() / L;
    assert!(sums.len().is_multiple_of(L) && bias.len() == L && wt.len() == taps.len() * L);
    // The last position reads the farthest row and column of every tap.
    let reach = taps.iter().max().copied().unwrap_or(0) + L;
    assert!(positions == 0 || origin(positions - 1) + reach <= padded.len());
    let two = |p: *const f32| {
        // SAFETY: callers pass a pointer to 16 readable floats (below).
        unsafe { [_mm256_loadu_ps(p), _mm256_loadu_ps(p.add(8))] }
    };
    // A position's reads lie within `reach` of its origin, inside `padded`
    // (asserted for the last position, the farthest).
    let load = |at: usize| two(padded[at..at + L].as_ptr());
    let weights = |t: usize| two(wt[t * L..(t + 1) * L].as_ptr());
    let bv = two(bias.as_ptr());
    let store = |sums: &mut [f32], pos: usize, a: [__m256; 2]| {
        let o = sums[pos * L..(pos + 1) * L].as_mut_ptr();
        // SAFETY: `o` holds L = 16 floats.
        unsafe {
            _mm256_storeu_ps(o, a[0]);
            _mm256_storeu_ps(o.add(8), a[1]);
        }
    };
    let mut pos = 0;
    while pos + 4 <= positions {
        let at: [usize; 4] = std::array::from_fn(|i| origin(pos + i));
        let mut acc = [bv; 4];
        for (t, &off) in taps.iter().enumerate() {
            let w = weights(t);
            for (a, &base) in acc.iter_mut().zip(&at) {
                let x = load(base + off);
                a[0] = _mm256_fmadd_ps(w[0], x[0], a[0]);
                a[1] = _mm256_fmadd_ps(w[1], x[1], a[1]);
            }
        }
        for (i, a) in acc.into_iter().enumerate() {
            store(sums, pos + i, a);
        }
        pos += 4;
    }
    while pos < positions {
        let base = origin(pos);
        let mut a = bv;
        for (t, &off) in taps.iter().enumerate() {
            let (w, x) = (weights(t), load(base + off));
            a[0] = _mm256_fmadd_ps(w[0], x[0], a[0]);
            a[1] = _mm256_fmadd_ps(w[1], x[1], a[1]);
        }
        store(sums, pos, a);
        pos += 1;
    }
}

super::simd_fn! {
    /// Every output position of one block: bias plus the taps' weights times the
    /// padded input under them, L lanes at a time.
    fn block_sums[F: Flt](
        g: &Geom,
        e: &Extent,
        padded: &[F],
        wt: &[[F; L]],
        bias: [F; L],
        sums: &mut [F],
    ) {
        let (ow, kw) = (g.output[1], g.kernel[1]);
        let (sh, sw, dh, dw) = (g.strides[0], g.strides[1], g.dilations[0], g.dilations[1]);
        // Where position `pos` reads tap 0; tap t adds `taps[t]`.
        let origin = |pos: usize| ((pos / ow) * sh * e.pw + (pos % ow) * sw) * L;
        let taps: Vec<usize> = (0..wt.len())
            .map(|t| ((t / kw) * dh * e.pw + (t % kw) * dw) * L)
            .collect();
        // Four positions at once: four independent chains of adds per tap.
        let mut quads = sums.chunks_exact_mut(4 * L);
        let mut pos = 0;
        for out in &mut quads {
            let at = [origin(pos), origin(pos + 1), origin(pos + 2), origin(pos + 3)];
            let mut acc = [bias; 4];
            for (wv, &off) in wt.iter().zip(&taps) {
                for (a, &base) in acc.iter_mut().zip(&at) {
                    let src: &[F; L] = padded[base + off..base + off + L].try_into().unwrap();
                    for j in 0..L {
                        a[j] += wv[j] * src[j];
                    }
                }
            }
            for (o, a) in out.chunks_exact_mut(L).zip(&acc) {
                o.copy_from_slice(a);
            }
            pos += 4;
        }
        for out in quads.into_remainder().chunks_exact_mut(L) {
            let base = origin(pos);
            let mut acc = bias;
            for (wv, &off) in wt.iter().zip(&taps) {
                let src = &padded[base + off..base + off + L];
                for j in 0..L {
                    acc[j] += wv[j] * src[j];
                }
            }
            out.copy_from_slice(&acc);
            pos += 1;
        }
    }
}
