//! The (de)quantizing loops of QuantizeLinear, DequantizeLinear and
//! DynamicQuantizeLinear for the common case: f32 on one side, an integer type on
//! the other and one scale per run of elements. They are written to vectorize
//! (AVX2 where present, through `simd_fn!`) and split large runs over the pool.

#[cfg(target_arch = "x86_64")]
use std::arch::x86_64::*;

use super::QInt;
use crate::ops::nn::{simd_fn, Flt};
use crate::parallel::{for_each_chunk, pool_threads};
use crate::util::in_pool;

/// Runs longer than this are split over the pool.
const PAR_MIN: usize = 1 << 16;
/// The same for the round trips, several times the work per element.
const HEAVY_MIN: usize = 1 << 13;

simd_fn! {
    fn quantize_run[T: QInt](x: &[f32], o: &mut [T], q: Qdq<f32>) {
        // SAFETY (both loops): the levels are integers in [lo, hi] (NaN maps
        // to lo), and the range is a subset of i32's.
        if q.product {
            for (o, &v) in o.iter_mut().zip(x) {
                *o = T::from_i32(unsafe { q.level_by_product(v).to_int_unchecked::<i32>() });
            }
        } else {
            for (o, &v) in o.iter_mut().zip(x) {
                *o = T::from_i32(unsafe { q.level_by_division(v).to_int_unchecked::<i32>() });
            }
        }
    }
}

simd_fn! {
    fn dequantize_run[T: QInt](x: &[T], o: &mut [f32], scale: f32, zp: i32) {
        for (o, &v) in o.iter_mut().zip(x) {
            *o = (v.to_i32() - zp) as f32 * scale;
        }
    }
}

/// The least and greatest of `x` and 0, NaN skipped as `f32::min` skips it.
fn min_max(x: &[f32]) -> (f32, f32) {
    #[cfg(target_arch = "x86_64")]
    if crate::ops::nn::sgemm::available() {
        // SAFETY: the CPU has AVX2 (checked just above).
        return unsafe { min_max_avx2(x) };
    }
    min_max_any(x)
}

/// `min_max` with vminps/vmaxps, which return their second operand when
/// either is NaN, so the accumulators go second. (The compiler keeps the
/// NaN-skipping `f32::min` scalar.)
///
/// # Safety
/// The CPU has AVX2.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
unsafe fn min_max_avx2(x: &[f32]) -> (f32, f32) {
    let (mut lo, mut hi) = ([_mm256_setzero_ps(); 2], [_mm256_setzero_ps(); 2]);
    let mut chunks = x.chunks_exact(16);
    for c in &mut chunks {
        for h in 0..2 {
            // SAFETY: the chunk holds 16 floats.
            let v = unsafe { _mm256_loadu_ps(c.as_ptr().add(8 * h)) };
            lo[h] = _mm256_min_ps(v, lo[h]);
            hi[h] = _mm256_max_ps(v, hi[h]);
        }
    }
    let (mut l, mut h) = ([0f32; 8], [0f32; 8]);
    // SAFETY: each array holds 8 floats.
    unsafe {
        _mm256_storeu_ps(l.as_mut_ptr(), _mm256_min_ps(lo[0], lo[1]));
        _mm256_storeu_ps(h.as_mut_ptr(), _mm256_max_ps(hi[0], hi[1]));
    }
    let (l, h) = (
        l.into_iter().fold(0.0, f32::min),
        h.into_iter().fold(0.0, f32::max),
    );
    chunks
        .remainder()
        .iter()
        .fold((l, h), |(l, h), &v| (l.min(v), h.max(v)))
}

simd_fn! {
    fn min_max_any[](x: &[f32]) -> (f32, f32) {
        // Eight lanes each so the loop vectorizes; NaN is skipped as f32::min does.
        let (mut lo, mut hi) = ([0f32; 8], [0f32; 8]);
        let mut chunks = x.chunks_exact(8);
        for c in &mut chunks {
            for j in 0..8 {
                lo[j] = lo[j].min(c[j]);
                hi[j] = hi[j].max(c[j]);
            }
        }
        let fold = |acc: [f32; 8], f: fn(f32, f32) -> f32| acc.into_iter().fold(0.0, f);
        let (mut l, mut h) = (fold(lo, f32::min), fold(hi, f32::max));
        for &v in chunks.remainder() {
            l = l.min(v);
            h = h.max(v);
        }
        (l, h)
    }
}

/// QuantizeLinear then DequantizeLinear with one scale and zero point, as one
/// map `v ↦ (saturate(round_half_even(v / scale) + zp) - zp) · scale`.
///
/// `by_product` gives the same bits as `by_division` (the definition) without
/// a division, which dominates these loops otherwise: `v` is clamped first
/// to the values that saturate (NaN to the low end, as `max` does below),
/// the quotient is `v · (1/scale)` corrected by one FMA step, which is the
/// correctly rounded `v / scale` (Markstein's theorem: the reciprocal is
/// correctly rounded and nothing under- or overflows once `v` is clamped),
/// and adding `F::ROUND` rounds it half to even. It needs a positive
/// normal scale with a normal reciprocal and a range of under 2^22 steps
/// either side of the zero point (`product`).
#[derive(Clone, Copy, Debug)]
pub(crate) struct Qdq<F> {
    scale: F,
    inv: F,
    zp: F,
    /// The integer type's range.
    lo: F,
    hi: F,
    /// `(lo - zp) · scale` and `(hi - zp) · scale`: inputs past them saturate.
    v_lo: F,
    v_hi: F,
    pub product: bool,
}

impl<F: Flt> Qdq<F> {
    pub fn new(scale: F, zp: F, lo: F, hi: F) -> Qdq<F> {
        let inv = F::one() / scale;
        let product = scale > F::zero() && scale.is_normal() && inv.is_normal();
        let (v_lo, v_hi) = ((lo - zp) * scale, (hi - zp) * scale);
        // Adding ROUND rounds only below 2^(mantissa bits - 1) = ROUND / 3
        // (the integer types here span 2^16 at most; a fused activation's
        // parameters could say more).
        let span = F::ROUND / F::of(3.0);
        let product = product && hi - zp <= span && zp - lo <= span;
        Qdq {
            scale,
            inv,
            zp,
            lo,
            hi,
            v_lo,
            v_hi,
            product: product && v_lo.is_finite() && v_hi.is_finite(),
        }
    }

    /// The integer QuantizeLinear gives, as a float, as it defines it (the
    /// same steps as `requant`).
    #[inline(always)]
    pub fn level_by_division(self, v: F) -> F {
        ((v / self.scale).round_even() + self.zp)
            .max(self.lo)
            .min(self.hi)
    }

    /// The same bits as `level_by_division`, when `product` holds.
    #[inline(always)]
    pub fn level_by_product(self, v: F) -> F {
        self.steps(v) + self.zp
    }

    /// The map as QuantizeLinear and DequantizeLinear define it.
    #[inline(always)]
    pub fn by_division(self, v: F) -> F {
        // The level and zp are small integers, so level - zp is exact as in
        // the integer ops.
        (self.level_by_division(v) - self.zp) * self.scale
    }

    /// The same bits as `by_division`, when `product` holds.
    #[inline(always)]
    pub fn by_product(self, v: F) -> F {
        self.steps(v) * self.scale
    }

    /// `level - zp`: `round_half_even(v / scale)` within [lo - zp, hi - zp].
    #[inline(always)]
    fn steps(self, v: F) -> F {
        // Written as selects so they compile to one max/min each, NaN → v_lo.
        let v = if v > self.v_lo { v } else { self.v_lo };
        let v = if v < self.v_hi { v } else { self.v_hi };
        let y = v * self.inv;
        let r = (-y).mul_add(self.scale, v);
        let y = r.mul_add(self.inv, y);
        y + F::ROUND - F::ROUND
    }
}

#[cfg(target_arch = "x86_64")]
impl Qdq<f32> {
    /// `steps` on 16 lanes (integers held as floats); `product` must hold.
    #[inline]
    #[target_feature(enable = "avx512f")]
    fn steps_lanes(self, v: __m512) -> __m512 {
        debug_assert!(self.product);
        let s = _mm512_set1_ps(self.scale);
        // `max` and `min` return their second operand for a NaN.
        let v = _mm512_max_ps(v, _mm512_set1_ps(self.v_lo));
        let v = _mm512_min_ps(v, _mm512_set1_ps(self.v_hi));
        let inv = _mm512_set1_ps(self.inv);
        let y = _mm512_mul_ps(v, inv);
        let y = _mm512_fmadd_ps(_mm512_fnmadd_ps(y, s, v), inv, y);
        let round = _mm512_set1_ps(f32::ROUND);
        _mm512_sub_ps(_mm512_add_ps(y, round), round)
    }

    /// `level_by_product` on 16 lanes, as integers; `product` must hold.
    #[inline]
    #[target_feature(enable = "avx512f")]
    pub(crate) fn levels(self, v: __m512) -> __m512i {
        let steps = _mm512_cvttps_epi32(self.steps_lanes(v));
        _mm512_add_epi32(steps, _mm512_set1_epi32(self.zp as i32))
    }

    /// The map on 16 lanes, with the same bits as the scalar forms.
    #[inline]
    #[target_feature(enable = "avx512f")]
    pub(crate) fn lanes(self, v: __m512) -> __m512 {
        let s = _mm512_set1_ps(self.scale);
        if self.product {
            return _mm512_mul_ps(self.steps_lanes(v), s);
        }
        let z = _mm512_set1_ps(self.zp);
        // Round to nearest, ties to even (0), exceptions suppressed (8).
        let q = _mm512_roundscale_ps::<0x08>(_mm512_div_ps(v, s));
        let q = _mm512_max_ps(_mm512_add_ps(q, z), _mm512_set1_ps(self.lo));
        let q = _mm512_min_ps(q, _mm512_set1_ps(self.hi));
        _mm512_mul_ps(_mm512_sub_ps(q, z), s)
    }
}

simd_fn! {
    fn round_trip_run[](x: &[f32], o: &mut [f32], q: Qdq<f32>) {
        if q.product {
            o.iter_mut().zip(x).for_each(|(o, &v)| *o = q.by_product(v));
        } else {
            o.iter_mut().zip(x).for_each(|(o, &v)| *o = q.by_division(v));
        }
    }
}

/// `o = (saturate(round_half_even(x / scale) + zp) - zp) * scale`: QuantizeLinear
/// then DequantizeLinear with the same scale and zero point, in one pass.
pub(crate) fn round_trip(x: &[f32], o: &mut [f32], scale: f32, zp: i32, range: (i32, i32)) {
    let q = Qdq::new(scale, zp as f32, range.0 as f32, range.1 as f32);
    elementwise(x, o, HEAVY_MIN, |x, o| round_trip_run(x, o, q));
}

simd_fn! {
    fn hard_swish_run[](x: &[f32], o: &mut [f32], ab: [f32; 2], gate: Qdq<f32>, out: Qdq<f32>) {
        if gate.product && out.product {
            for (o, &v) in o.iter_mut().zip(x) {
                // HardSigmoid's expression (a NaN gate is lost in v · gate), then
                // the two round trips.
                let h = ab[0] * v + ab[1];
                let h = if h > 0.0 { h } else { 0.0 };
                let h = if h < 1.0 { h } else { 1.0 };
                *o = out.by_product(v * gate.by_product(h));
            }
        } else {
            for (o, &v) in o.iter_mut().zip(x) {
                let h = (ab[0] * v + ab[1]).clamp(0.0, 1.0);
                *o = out.by_division(v * gate.by_division(h));
            }
        }
    }
}

/// A round trip's parameters: scale, zero point, and the integer range.
pub(crate) type RoundTrip = (f32, i32, (i32, i32));

/// `o = qdq(x · qdq(clamp(alpha·x + beta, 0, 1), gate), out)` with `qdq` as
/// `round_trip`: the HardSwish that QDQ models split into four ops, in one pass.
pub(crate) fn quantized_hard_swish(
    x: &[f32],
    o: &mut [f32],
    (alpha, beta): (f32, f32),
    gate: RoundTrip,
    out: RoundTrip,
) {
    let qdq = |(s, z, (lo, hi)): RoundTrip| Qdq::new(s, z as f32, lo as f32, hi as f32);
    let (gate, out) = (qdq(gate), qdq(out));
    elementwise(x, o, HEAVY_MIN, |x, o| {
        hard_swish_run(x, o, [alpha, beta], gate, out)
    });
}

/// `o = saturate(round_half_even(x / scale) + zp)` with the saturation range
/// `(lo, hi)` of `T`.
pub(crate) fn quantize<T: QInt + Send>(
    x: &[f32],
    o: &mut [T],
    scale: f32,
    zp: i32,
    range: (i32, i32),
) {
    let q = Qdq::new(scale, zp as f32, range.0 as f32, range.1 as f32);
    elementwise(x, o, PAR_MIN, |x, o| quantize_run(x, o, q));
}

/// `o = (x - zp) * scale`.
pub(crate) fn dequantize<T: QInt + Sync>(x: &[T], o: &mut [f32], scale: f32, zp: i32) {
    elementwise(x, o, PAR_MIN, |x, o| dequantize_run(x, o, scale, zp));
}

/// `f(x, o)` over the whole run, or over chunks on the pool when it has at
/// least `min` elements: one chunk per thread and then some, in whole cache
/// lines.
fn elementwise<A: Sync, B: Send>(
    x: &[A],
    o: &mut [B],
    min: usize,
    f: impl Fn(&[A], &mut [B]) + Sync,
) {
    if o.len() >= min && in_pool() {
        let threads = pool_threads();
        let c = o
            .len()
            .div_ceil(2 * threads)
            .next_multiple_of(16)
            .min(PAR_MIN / 4);
        for_each_chunk(threads, o, c, |i, o| f(&x[i * c..][..o.len()], o));
    } else {
        f(x, o);
    }
}

/// The smallest and largest of `x` and 0.
pub(crate) fn range_with_zero(x: &[f32]) -> (f32, f32) {
    if x.len() >= PAR_MIN && in_pool() {
        let c = PAR_MIN / 4;
        let mut parts = vec![(0.0, 0.0); x.len().div_ceil(c)];
        for_each_chunk(pool_threads(), &mut parts, 1, |i, p| {
            p[0] = min_max(&x[i * c..x.len().min((i + 1) * c)])
        });
        parts
            .into_iter()
            .fold((0.0, 0.0), |a, b| (a.0.min(b.0), a.1.max(b.1)))
    } else {
        min_max(x)
    }
}

#[cfg(test)]
mod tests {
    // Values are compared with the scalar `requant` the slow paths use.
    use super::*;
    use crate::ops::quant::requant;

    #[test]
    fn range_skips_nan_and_includes_zero() {
        for len in [0, 1, 7, 16, 23, 100] {
            let mut x: Vec<f32> = (0..len).map(|i| (i as f32 * 1.7) % 9.0 + 2.0).collect();
            if len > 3 {
                x[3] = f32::NAN;
                x[len - 1] = -4.5;
            }
            let want = x
                .iter()
                .filter(|v| !v.is_nan())
                .fold((0f32, 0f32), |(l, h), &v| (l.min(v), h.max(v)));
            assert_eq!(min_max(&x), want, "len {len}");
            assert_eq!(min_max_any(&x), want, "len {len}");
        }
        assert_eq!(min_max(&[f32::NAN; 20]), (0.0, 0.0));
    }

    #[test]
    fn vector_loops_match_the_scalar_definitions() {
        let x: Vec<f32> = (0..1000)
            .map(|i| (i as f32 - 500.0) * 0.37 + if i % 7 == 0 { 0.5 } else { 0.0 })
            .chain([f32::NAN, 1e30, -1e30, 2.5, -2.5, 3.5])
            .collect();
        let mut q = vec![0u8; x.len()];
        quantize(&x, &mut q, 0.5, 17, (0, 255));
        for (&v, &g) in x.iter().zip(&q) {
            assert_eq!(g as i32, requant(v / 0.5, 17, (0, 255)), "quantizing {v}");
        }
        let mut s = vec![0i8; x.len()];
        quantize(&x, &mut s, 0.25, -3, (-128, 127));
        for (&v, &g) in x.iter().zip(&s) {
            assert_eq!(
                g as i32,
                requant(v / 0.25, -3, (-128, 127)),
                "quantizing {v}"
            );
        }
        let mut d = vec![0f32; q.len()];
        dequantize(&q, &mut d, 0.5, 17);
        for (&v, &g) in q.iter().zip(&d) {
            assert_eq!(g, (v as i32 - 17) as f32 * 0.5);
        }
        let want = x[..1000]
            .iter()
            .fold((0f32, 0f32), |(l, h), &v| (l.min(v), h.max(v)));
        assert_eq!(range_with_zero(&x[..1000]), want);
        assert_eq!(range_with_zero(&[3.0, 4.0]), (0.0, 4.0));
    }

    #[test]
    fn the_product_form_of_a_round_trip_has_the_division_bits() {
        // Random scales (mantissas all ones among them, the hard case for a
        // reciprocal) and inputs near every tie, plus arbitrary bit patterns.
        let mut seed = 0x9e37_79b9_7f4a_7c15u64;
        let mut next = move || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed
        };
        let mut checked = 0;
        for k in 0..300u32 {
            let scale = if k < 8 {
                f32::from_bits(0x3c7f_ffff - k)
            } else {
                f32::from_bits((next() as u32 & 0x007f_ffff) | ((100 + (next() % 40) as u32) << 23))
            };
            for (zp, lo, hi) in [
                (0.0, 0.0, 255.0),
                (-3.0, -128.0, 127.0),
                (200.0, 0.0, 255.0),
            ] {
                let q = Qdq::new(scale, zp, lo, hi);
                assert!(q.product, "scale {scale:e}");
                for _ in 0..1000 {
                    let tie = (next() % 700) as f32 - 350.0 + 0.5;
                    let v = match next() % 4 {
                        0 => f32::from_bits(next() as u32),
                        1 => tie * scale,
                        2 => f32::from_bits((tie * scale).to_bits().wrapping_add(1)),
                        _ => f32::from_bits((tie * scale).to_bits().wrapping_sub(1)),
                    };
                    let (want, got) = (q.by_division(v), q.by_product(v));
                    assert_eq!(got.to_bits(), want.to_bits(), "{v:e} at scale {scale:e}");
                    let (want, got) = (q.level_by_division(v), q.level_by_product(v));
                    assert_eq!(got.to_bits(), want.to_bits(), "{v:e} at scale {scale:e}");
                    checked += 1;
                }
            }
        }
        assert_eq!(checked, 900_000);
        for v in [
            f32::NAN,
            f32::INFINITY,
            -f32::INFINITY,
            1e38,
            -1e38,
            0.0,
            -0.0,
        ] {
            let q = Qdq::new(0.02f32, 3.0, -128.0, 127.0);
            assert_eq!(q.by_product(v).to_bits(), q.by_division(v).to_bits(), "{v}");
            let (want, got) = (q.level_by_division(v), q.level_by_product(v));
            assert_eq!(got.to_bits(), want.to_bits(), "{v}");
        }
        assert!(!Qdq::new(0.0f32, 0.0, 0.0, 255.0).product);
        assert!(!Qdq::new(-0.5f32, 0.0, 0.0, 255.0).product);
        assert!(!Qdq::new(1e-39f32, 0.0, 0.0, 255.0).product);
        assert!(!Qdq::new(0.5f32, 0.0, -1e9, 1e9).product);
        assert!(Qdq::new(0.5f32, 0.0, -32768.0, 32767.0).product);
    }
}
