//! `exp` on eight f32 lanes with AVX2 + FMA, and the shifted-exponential row
//! pass, for CPUs without AVX-512: what [`exp_avx512`](super::exp_avx512)
//! does there. The compiled form of [`Flt::fast_exp`](super::Flt::fast_exp)
//! has neither fused multiply-adds nor a vector tail, and the row pass it
//! sits in took max, exp and sum as three loops.

use std::arch::x86_64::*;

/// Whether this CPU runs the functions here.
pub(crate) fn available() -> bool {
    super::sgemm::available()
}

/// The mask of the first `n` lanes (all of them from 8 on), for maskload.
#[inline]
#[target_feature(enable = "avx2,fma")]
pub(crate) fn lanes(n: usize) -> __m256i {
    let n = _mm256_set1_epi32(n.min(8) as i32);
    _mm256_cmpgt_epi32(n, _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7))
}

/// `exp(x)` per lane, the polynomial of `f32::fast_exp`: 0 below the smallest
/// normal result (−inf included), +inf above the largest, NaN kept.
#[inline]
#[target_feature(enable = "avx2,fma")]
pub(crate) fn exp(x: __m256) -> __m256 {
    let (lo, hi) = (_mm256_set1_ps(-87.336_55), _mm256_set1_ps(88.376_26));
    // vminps/vmaxps return their second operand when either is NaN: x goes
    // second so that NaN flows through.
    let xc = _mm256_max_ps(lo, _mm256_min_ps(hi, x));
    let n = _mm256_round_ps::<{ _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC }>(_mm256_mul_ps(
        xc,
        _mm256_set1_ps(std::f32::consts::LOG2_E),
    ));
    let r = _mm256_fnmadd_ps(n, _mm256_set1_ps(0.693_359_4), xc);
    let r = _mm256_fnmadd_ps(n, _mm256_set1_ps(-2.121_944_4e-4), r);
    let mut p = _mm256_set1_ps(1.987_569_1e-4);
    for c in [
        1.398_199_9e-3,
        8.333_452e-3,
        4.166_579_6e-2,
        0.166_666_65,
        0.5,
    ] {
        p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(c));
    }
    let e = _mm256_fmadd_ps(
        p,
        _mm256_mul_ps(r, r),
        _mm256_add_ps(r, _mm256_set1_ps(1.0)),
    );
    // 2^n as the bits of a float: n is within −126..=127 after the clamp (a
    // NaN lane's garbage is multiplied into NaN).
    let bits = _mm256_slli_epi32::<23>(_mm256_add_epi32(
        _mm256_cvtps_epi32(n),
        _mm256_set1_epi32(127),
    ));
    let y = _mm256_mul_ps(e, _mm256_castsi256_ps(bits));
    // Past the range the result is 0 or +inf, as `fast_exp` gives (NaN stays).
    let y = _mm256_and_ps(y, _mm256_cmp_ps::<_CMP_NLT_UQ>(x, lo));
    _mm256_blendv_ps(
        y,
        _mm256_set1_ps(f32::INFINITY),
        _mm256_cmp_ps::<_CMP_GT_OQ>(x, hi),
    )
}

/// `row[i] = exp(row[i] + mask[i] + bias − max)` where max is the largest of
/// those sums, returning the sum of the results: softmax before its division.
/// A row with nothing to attend to (every sum −inf, or empty) becomes zeros and
/// returns 0; one whose sums are all NaN becomes NaN.
pub(crate) fn shifted_exp_row(row: &mut [f32], mask: Option<&[f32]>, bias: f32) -> f32 {
    assert!(available() && mask.is_none_or(|m| m.len() >= row.len()));
    // SAFETY: AVX2 and FMA are present (asserted); the mask is at least as
    // long as the row (asserted).
    unsafe { shifted_exp_row_avx2(row, mask, bias) }
}

/// # Safety
/// The CPU has AVX2 and FMA and `mask`, when given, is at least `row.len()`
/// long.
#[target_feature(enable = "avx2,fma")]
unsafe fn shifted_exp_row_avx2(row: &mut [f32], mask: Option<&[f32]>, bias: f32) -> f32 {
    let (len, p) = (row.len(), row.as_mut_ptr());
    let vb = _mm256_set1_ps(bias);
    // Whole vectors are loaded and stored plainly: AMD's masked store runs
    // at a fraction of the speed of a plain one, so only the tail takes it.
    let full = _mm256_set1_epi32(-1);
    // SAFETY (both closures): lanes `k` cover only elements i..len of the row
    // and of the mask, which the caller guarantees is as long.
    let load = |i: usize, k: __m256i| unsafe {
        let tail = len - i < 8;
        let get = |q: *const f32| match tail {
            true => _mm256_maskload_ps(q, k),
            false => _mm256_loadu_ps(q),
        };
        let x = _mm256_add_ps(get(p.add(i)), vb);
        match mask {
            Some(m) => _mm256_add_ps(x, get(m.as_ptr().add(i))),
            None => x,
        }
    };
    let ninf = _mm256_set1_ps(f32::NEG_INFINITY);
    let mut top = ninf;
    for i in (0..len).step_by(8) {
        let k = if len - i >= 8 { full } else { lanes(len - i) };
        // Lanes past the row count as −inf; NaN lanes are skipped (vmaxps
        // keeps its second operand then).
        let x = _mm256_blendv_ps(ninf, load(i, k), _mm256_castsi256_ps(k));
        top = _mm256_max_ps(x, top);
    }
    let m = hmax(top);
    if m == f32::NEG_INFINITY {
        let all_nan =
            len > 0 && (0..len).all(|i| (row[i] + mask.map_or(0.0, |m| m[i]) + bias).is_nan());
        row.fill(if all_nan { f32::NAN } else { 0.0 });
        return if all_nan { f32::NAN } else { 0.0 };
    }
    let (vm, mut sum) = (_mm256_set1_ps(m), _mm256_setzero_ps());
    for i in (0..len).step_by(8) {
        let k = if len - i >= 8 { full } else { lanes(len - i) };
        let e = exp(_mm256_sub_ps(load(i, k), vm));
        // SAFETY: lanes k (all of them away from the tail) lie inside the row.
        unsafe {
            if len - i >= 8 {
                _mm256_storeu_ps(p.add(i), e);
            } else {
                _mm256_maskstore_ps(p.add(i), k, e);
            }
        }
        sum = _mm256_add_ps(sum, _mm256_and_ps(e, _mm256_castsi256_ps(k)));
    }
    hsum(sum)
}

/// The largest lane.
#[inline]
#[target_feature(enable = "avx2,fma")]
fn hmax(v: __m256) -> f32 {
    let m = _mm_max_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps::<1>(v));
    let m = _mm_max_ps(m, _mm_movehl_ps(m, m));
    _mm_cvtss_f32(_mm_max_ss(m, _mm_movehdup_ps(m)))
}

/// The sum of the lanes.
#[inline]
#[target_feature(enable = "avx2,fma")]
pub(crate) fn hsum(v: __m256) -> f32 {
    let s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps::<1>(v));
    let s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    _mm_cvtss_f32(_mm_add_ss(s, _mm_movehdup_ps(s)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ops::nn::Flt;

    /// `exp` of each of `x` (at most 8) through the vector function.
    fn exp8(x: &[f32]) -> Vec<f32> {
        let mut v = [0f32; 8];
        v[..x.len()].copy_from_slice(x);
        let mut y = [0f32; 8];
        // SAFETY: callers check AVX2 + FMA first; both arrays hold 8 floats.
        unsafe { _mm256_storeu_ps(y.as_mut_ptr(), exp(_mm256_loadu_ps(v.as_ptr()))) };
        y[..x.len()].to_vec()
    }

    #[test]
    fn matches_libm_and_fast_exp() {
        if !available() {
            return;
        }
        let xs: Vec<f32> = (-1930..1950).map(|i| i as f32 * 0.045).collect();
        for c in xs.chunks(8) {
            for (&x, y) in c.iter().zip(exp8(c)) {
                let want = x.exp();
                assert!(
                    (y - want).abs() <= 4.0 * f32::EPSILON * want,
                    "exp({x}) = {y}, libm {want}"
                );
                assert!((y - x.fast_exp()).abs() <= 4.0 * f32::EPSILON * want);
            }
        }
        let special = [f32::NEG_INFINITY, -1e30, -88.0, 89.0, f32::INFINITY];
        assert_eq!(
            exp8(&special),
            [0.0, 0.0, 0.0, f32::INFINITY, f32::INFINITY]
        );
        assert!(exp8(&[f32::NAN])[0].is_nan());
    }
}
