//! GELU on eight f32 lanes with AVX2 + FMA, the forms of
//! [`gelu_avx512`](super::gelu_avx512) for CPUs without AVX-512: by erf (the
//! rational approximation of `gelu::erf`) and by the tanh approximation as
//! `x · sigmoid(2u)`, one exponential and one division.

use std::arch::x86_64::*;

use super::exp_avx2::{exp, lanes};
use super::gelu::{ERF_P, ERF_Q};

/// `dst[i] = gelu(src[i])` over `n` floats, a vector at a time, by the tanh
/// approximation when `TANH`.
///
/// # Safety
/// The CPU has AVX2 and FMA; `src` and `dst` hold `n` floats (they may be the
/// same).
#[target_feature(enable = "avx2,fma")]
pub(super) unsafe fn each<const TANH: bool>(src: *const f32, dst: *mut f32, n: usize) {
    for i in (0..n).step_by(8) {
        // SAFETY: lanes k (or all 8, away from the tail) of both lie among
        // their n floats.
        unsafe {
            if n - i >= 8 {
                let x = _mm256_loadu_ps(src.add(i));
                _mm256_storeu_ps(dst.add(i), form::<TANH>(x));
            } else {
                let k = lanes(n - i);
                let x = _mm256_maskload_ps(src.add(i), k);
                _mm256_maskstore_ps(dst.add(i), k, form::<TANH>(x));
            }
        }
    }
}

#[inline]
#[target_feature(enable = "avx2,fma")]
fn form<const TANH: bool>(x: __m256) -> __m256 {
    if TANH {
        tanh_form(x)
    } else {
        erf_form(x)
    }
}

/// `x/2 · (1 + erf(x/√2))`.
#[inline]
#[target_feature(enable = "avx2,fma")]
fn erf_form(x: __m256) -> __m256 {
    let z = _mm256_mul_ps(x, _mm256_set1_ps(std::f32::consts::FRAC_1_SQRT_2));
    // NaN goes second through min and max, so that it flows through.
    let z = _mm256_max_ps(_mm256_set1_ps(-4.0), _mm256_min_ps(_mm256_set1_ps(4.0), z));
    let z2 = _mm256_mul_ps(z, z);
    let mut p = _mm256_setzero_ps();
    for c in ERF_P {
        p = _mm256_fmadd_ps(p, z2, _mm256_set1_ps(c));
    }
    let mut q = _mm256_setzero_ps();
    for c in ERF_Q {
        q = _mm256_fmadd_ps(q, z2, _mm256_set1_ps(c));
    }
    let erf = _mm256_div_ps(_mm256_mul_ps(z, p), q);
    let half_x = _mm256_mul_ps(x, _mm256_set1_ps(0.5));
    _mm256_fmadd_ps(half_x, erf, half_x)
}

/// `x / (1 + e^(−2u))` with `u = √(2/π)·(x + 0.044715·x³)`.
#[inline]
#[target_feature(enable = "avx2,fma")]
fn tanh_form(x: __m256) -> __m256 {
    let k = (2.0 / std::f64::consts::PI).sqrt() as f32;
    let x2 = _mm256_mul_ps(x, x);
    // −2u = x · (−2k − 2k·0.044715·x²)
    let a = _mm256_fmadd_ps(
        x2,
        _mm256_set1_ps(-2.0 * k * 0.044715),
        _mm256_set1_ps(-2.0 * k),
    );
    let t = exp(_mm256_mul_ps(x, a));
    _mm256_div_ps(x, _mm256_add_ps(t, _mm256_set1_ps(1.0)))
}
