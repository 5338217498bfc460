//! The (de)quantizing loops of QuantizeLinear, DequantizeLinear and
//! DynamicQuantizeLinear for the common case: f32 on one side, an integer type on
//! the other and one scale per run of elements. They are written to vectorize
//! (AVX2 where present, through `simd_fn!`) and split large runs over the pool.

use super::QInt;
use crate::ops::nn::{simd_fn, Flt};
use crate::parallel::{for_each_chunk, pool_threads};
use crate::util::in_pool;

/// Runs longer than this are split over the pool.
const PAR_MIN: usize = 1 << 16;

simd_fn! {
    fn quantize_run[T: QInt](x: &[f32], o: &mut [T], scale: f32, zp: f32, lo: f32, hi: f32) {
        for (o, &v) in o.iter_mut().zip(x) {
            // The same steps as `requant`.
            let q = ((v / scale).round_ties_even() + zp).max(lo).min(hi);
            // SAFETY: `max` maps NaN to `lo`, so `q` is an integer in [lo, hi], and
            // the range is a subset of i32's.
            *o = T::from_i32(unsafe { q.to_int_unchecked::<i32>() });
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

simd_fn! {
    fn min_max[](x: &[f32]) -> (f32, f32) {
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

simd_fn! {
    fn round_trip_run[](x: &[f32], o: &mut [f32], scale: f32, zp: f32, lo: f32, hi: f32) {
        o.iter_mut().zip(x).for_each(|(o, &v)| *o = round_trip_one(v, scale, zp, lo, hi));
    }
}

/// One value through `quantize_run`, then `dequantize_run` on its integer: q
/// and zp are small integers, so q - zp is exact as in the integer subtraction.
/// (Also the fused ops' QuantizeDequantize activation.)
#[inline(always)]
pub(crate) fn round_trip_one<F: Flt>(v: F, scale: F, zp: F, lo: F, hi: F) -> F {
    let q = ((v / scale).round_even() + zp).max(lo).min(hi);
    (q - zp) * scale
}

/// `o = (saturate(round_half_even(x / scale) + zp) - zp) * scale`: QuantizeLinear
/// then DequantizeLinear with the same scale and zero point, in one pass.
pub(crate) fn round_trip(x: &[f32], o: &mut [f32], scale: f32, zp: i32, range: (i32, i32)) {
    let (zp, lo, hi) = (zp as f32, range.0 as f32, range.1 as f32);
    elementwise(x, o, |x, o| round_trip_run(x, o, scale, zp, lo, hi));
}

simd_fn! {
    fn hard_swish_run[](x: &[f32], o: &mut [f32], ab: [f32; 2], gate: [f32; 4], out: [f32; 4]) {
        for (o, &v) in o.iter_mut().zip(x) {
            // HardSigmoid's expression, then the two round trips.
            let h = (ab[0] * v + ab[1]).clamp(0.0, 1.0);
            let hq = round_trip_one(h, gate[0], gate[1], gate[2], gate[3]);
            *o = round_trip_one(v * hq, out[0], out[1], out[2], out[3]);
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
    let flat = |(s, z, (lo, hi)): RoundTrip| [s, z as f32, lo as f32, hi as f32];
    let (gate, out) = (flat(gate), flat(out));
    elementwise(x, o, |x, o| hard_swish_run(x, o, [alpha, beta], gate, out));
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
    let (zp, lo, hi) = (zp as f32, range.0 as f32, range.1 as f32);
    elementwise(x, o, |x, o| quantize_run(x, o, scale, zp, lo, hi));
}

/// `o = (x - zp) * scale`.
pub(crate) fn dequantize<T: QInt + Sync>(x: &[T], o: &mut [f32], scale: f32, zp: i32) {
    elementwise(x, o, |x, o| dequantize_run(x, o, scale, zp));
}

/// `f(x, o)` over the whole run, or over chunks on the pool when it is long.
fn elementwise<A: Sync, B: Send>(x: &[A], o: &mut [B], f: impl Fn(&[A], &mut [B]) + Sync) {
    if o.len() >= PAR_MIN && in_pool() {
        let c = PAR_MIN / 4;
        for_each_chunk(pool_threads(), o, c, |i, o| f(&x[i * c..][..o.len()], o));
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
}
