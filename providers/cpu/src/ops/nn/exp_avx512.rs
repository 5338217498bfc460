//! `exp` on sixteen f32 lanes with AVX-512 FMA, and the shifted-exponential row
//! pass softmax-style kernels are built on. The compiler does vectorise
//! [`Flt::fast_exp`](super::Flt::fast_exp), but without fused multiply-adds and
//! with a row's tail as scalar code; a row of attention scores is only a few
//! vectors long, so both show.

use std::arch::x86_64::*;

/// Whether this CPU runs the functions here.
pub(crate) fn available() -> bool {
    super::sgemm::avx512()
}

/// The lanes of the first `n` (< 16 included) elements.
#[inline]
pub(crate) fn lanes(n: usize) -> __mmask16 {
    if n >= 16 {
        0xFFFF
    } else {
        (1u16 << n) - 1
    }
}

/// `exp(x)` per lane, the polynomial of `f32::fast_exp`: 0 below the smallest
/// normal result (−inf included), NaN kept.
#[inline]
#[target_feature(enable = "avx512f")]
pub(crate) fn exp(x: __m512) -> __m512 {
    let (lo, hi) = (_mm512_set1_ps(-87.336_55), _mm512_set1_ps(88.376_26));
    // vminps/vmaxps return their second operand when either is NaN: x goes
    // second so that NaN flows through.
    let xc = _mm512_max_ps(lo, _mm512_min_ps(hi, x));
    let n = _mm512_roundscale_ps::<{ _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC }>(
        _mm512_mul_ps(xc, _mm512_set1_ps(std::f32::consts::LOG2_E)),
    );
    let r = _mm512_fnmadd_ps(n, _mm512_set1_ps(0.693_359_4), xc);
    let r = _mm512_fnmadd_ps(n, _mm512_set1_ps(-2.121_944_4e-4), r);
    let mut p = _mm512_set1_ps(1.987_569_1e-4);
    for c in [
        1.398_199_9e-3,
        8.333_452e-3,
        4.166_579_6e-2,
        0.166_666_65,
        0.5,
    ] {
        p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(c));
    }
    let e = _mm512_fmadd_ps(
        p,
        _mm512_mul_ps(r, r),
        _mm512_add_ps(r, _mm512_set1_ps(1.0)),
    );
    let y = _mm512_scalef_ps(e, n);
    // Past the range the result is 0 or +inf, as `fast_exp` gives (NaN stays).
    let y = _mm512_maskz_mov_ps(_mm512_cmp_ps_mask::<_CMP_NLT_UQ>(x, lo), y);
    _mm512_mask_mov_ps(
        y,
        _mm512_cmp_ps_mask::<_CMP_GT_OQ>(x, hi),
        _mm512_set1_ps(f32::INFINITY),
    )
}

/// `row[i] = exp(row[i] + mask[i] + bias − max)` where max is the largest of
/// those sums, returning the sum of the results: softmax before its division.
/// A row with nothing to attend to (every sum −inf, or empty) becomes zeros and
/// returns 0; one whose sums are all NaN becomes NaN.
pub(crate) fn shifted_exp_row(row: &mut [f32], mask: Option<&[f32]>, bias: f32) -> f32 {
    assert!(available() && mask.is_none_or(|m| m.len() >= row.len()));
    // SAFETY: AVX-512F is present (asserted); the mask is at least as long as
    // the row (asserted).
    unsafe { shifted_exp_row_avx512(row, mask, bias) }
}

/// # Safety
/// The CPU has AVX-512F and `mask`, when given, is at least `row.len()` long.
#[target_feature(enable = "avx512f")]
unsafe fn shifted_exp_row_avx512(row: &mut [f32], mask: Option<&[f32]>, bias: f32) -> f32 {
    let (len, p) = (row.len(), row.as_mut_ptr());
    let vb = _mm512_set1_ps(bias);
    // SAFETY (both closures): lanes `k` cover only elements i..len of the row
    // and of the mask, which the caller guarantees is as long.
    let load = |i: usize, k: __mmask16| unsafe {
        let x = _mm512_add_ps(_mm512_maskz_loadu_ps(k, p.add(i)), vb);
        match mask {
            Some(m) => _mm512_add_ps(x, _mm512_maskz_loadu_ps(k, m.as_ptr().add(i))),
            None => x,
        }
    };
    let mut top = _mm512_set1_ps(f32::NEG_INFINITY);
    for i in (0..len).step_by(16) {
        let k = lanes(len - i);
        // NaN lanes are skipped: vmaxps keeps its second operand then.
        top = _mm512_mask_max_ps(top, k, load(i, k), top);
    }
    let m = _mm512_reduce_max_ps(top);
    if m == f32::NEG_INFINITY {
        let all_nan =
            len > 0 && (0..len).all(|i| (row[i] + mask.map_or(0.0, |m| m[i]) + bias).is_nan());
        row.fill(if all_nan { f32::NAN } else { 0.0 });
        return if all_nan { f32::NAN } else { 0.0 };
    }
    let (vm, mut sum) = (_mm512_set1_ps(m), _mm512_setzero_ps());
    for i in (0..len).step_by(16) {
        let k = lanes(len - i);
        let e = exp(_mm512_sub_ps(load(i, k), vm));
        // SAFETY: lanes k lie inside the row.
        unsafe { _mm512_mask_storeu_ps(p.add(i), k, e) };
        sum = _mm512_mask_add_ps(sum, k, sum, e);
    }
    _mm512_reduce_add_ps(sum)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ops::nn::Flt;

    /// `exp` of each of `x` (at most 16) through the vector function.
    fn exp16(x: &[f32]) -> Vec<f32> {
        let mut v = [0f32; 16];
        v[..x.len()].copy_from_slice(x);
        let mut y = [0f32; 16];
        // SAFETY: callers check AVX-512F first; both arrays hold 16 floats.
        unsafe { _mm512_storeu_ps(y.as_mut_ptr(), exp(_mm512_loadu_ps(v.as_ptr()))) };
        y[..x.len()].to_vec()
    }

    #[test]
    fn matches_libm_and_fast_exp() {
        if !available() {
            return;
        }
        let xs: Vec<f32> = (-1930..1950).map(|i| i as f32 * 0.045).collect();
        for c in xs.chunks(16) {
            for (&x, y) in c.iter().zip(exp16(c)) {
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
            exp16(&special),
            [0.0, 0.0, 0.0, f32::INFINITY, f32::INFINITY]
        );
        assert!(exp16(&[f32::NAN])[0].is_nan());
    }
}
