//! GELU on sixteen f32 lanes with AVX-512 FMA: by erf (the rational
//! approximation of `gelu::erf`) and by the tanh approximation, written as
//! `x · sigmoid(2u)` (the same function as `x/2 · (1 + tanh u)`) so that it
//! costs one exponential and one division. The compiled forms of the scalar
//! loops do not fuse their multiply-adds, and these run inside FusedMatMul's
//! epilogue over every feed-forward product of a transformer.

use std::arch::x86_64::*;

use super::exp_avx512::{exp, lanes};
use super::gelu::{ERF_P, ERF_Q};

/// `dst[i] = gelu(src[i])` over `n` floats, a vector at a time, by the tanh
/// approximation when `TANH`.
///
/// # Safety
/// The CPU has AVX-512F; `src` and `dst` hold `n` floats (they may be the
/// same).
#[target_feature(enable = "avx512f")]
pub(super) unsafe fn each<const TANH: bool>(src: *const f32, dst: *mut f32, n: usize) {
    for i in (0..n).step_by(16) {
        let k = lanes(n - i);
        // SAFETY: lanes k of both lie among their n floats.
        unsafe {
            let x = _mm512_maskz_loadu_ps(k, src.add(i));
            let y = if TANH { tanh_form(x) } else { erf_form(x) };
            _mm512_mask_storeu_ps(dst.add(i), k, y);
        }
    }
}

/// `x/2 · (1 + erf(x/√2))`.
#[inline]
#[target_feature(enable = "avx512f")]
fn erf_form(x: __m512) -> __m512 {
    let z = _mm512_mul_ps(x, _mm512_set1_ps(std::f32::consts::FRAC_1_SQRT_2));
    // NaN goes second through min and max, so that it flows through.
    let z = _mm512_max_ps(_mm512_set1_ps(-4.0), _mm512_min_ps(_mm512_set1_ps(4.0), z));
    let z2 = _mm512_mul_ps(z, z);
    let mut p = _mm512_setzero_ps();
    for c in ERF_P {
        p = _mm512_fmadd_ps(p, z2, _mm512_set1_ps(c));
    }
    let mut q = _mm512_setzero_ps();
    for c in ERF_Q {
        q = _mm512_fmadd_ps(q, z2, _mm512_set1_ps(c));
    }
    let erf = _mm512_div_ps(_mm512_mul_ps(z, p), q);
    let half_x = _mm512_mul_ps(x, _mm512_set1_ps(0.5));
    _mm512_fmadd_ps(half_x, erf, half_x)
}

/// `x / (1 + e^(−2u))` with `u = √(2/π)·(x + 0.044715·x³)`.
#[inline]
#[target_feature(enable = "avx512f")]
fn tanh_form(x: __m512) -> __m512 {
    let k = (2.0 / std::f64::consts::PI).sqrt() as f32;
    let x2 = _mm512_mul_ps(x, x);
    // −2u = x · (−2k − 2k·0.044715·x²)
    let a = _mm512_fmadd_ps(
        x2,
        _mm512_set1_ps(-2.0 * k * 0.044715),
        _mm512_set1_ps(-2.0 * k),
    );
    let t = exp(_mm512_mul_ps(x, a));
    _mm512_div_ps(x, _mm512_add_ps(t, _mm512_set1_ps(1.0)))
}
