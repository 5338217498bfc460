//! GELU on sixteen f32 lanes with AVX-512 FMA: by erf (the rational
//! approximation of `gelu::erf`) and by the tanh approximation, written as
//! `x · sigmoid(2u)` (the same function as `x/2 · (1 + tanh u)`) so that it
//! costs one exponential and one division. The compiled forms of the scalar
//! loops do not fuse their multiply-adds, and these run inside FusedMatMul's
//! epilogue over every feed-forward product of a transformer.

use std::arch::x86_64::*;

use super::exp_avx512::{exp, lanes};
use super::gelu::{ERF_P, ERF_Q};

pub(crate) use super::exp_avx512::available;

/// `o[i] = gelu(x[i])` (erf form).
pub(crate) fn gelu(x: &[f32], o: &mut [f32]) {
    assert!(available() && x.len() == o.len());
    // SAFETY: AVX-512F is present and the slices are equally long (asserted).
    unsafe { each::<false>(x.as_ptr(), o.as_mut_ptr(), o.len()) }
}

/// `o[i] = gelu(x[i])` (tanh approximation).
pub(crate) fn gelu_tanh(x: &[f32], o: &mut [f32]) {
    assert!(available() && x.len() == o.len());
    // SAFETY: as in `gelu`.
    unsafe { each::<true>(x.as_ptr(), o.as_mut_ptr(), o.len()) }
}

/// [`gelu`] in place.
pub(crate) fn gelu_in_place(o: &mut [f32]) {
    assert!(available());
    let p = o.as_mut_ptr();
    // SAFETY: AVX-512F is present; source and destination are the same
    // `o.len()` floats, each vector read before it is written.
    unsafe { each::<false>(p, p, o.len()) }
}

/// [`gelu_tanh`] in place.
pub(crate) fn gelu_tanh_in_place(o: &mut [f32]) {
    assert!(available());
    let p = o.as_mut_ptr();
    // SAFETY: as in `gelu_in_place`.
    unsafe { each::<true>(p, p, o.len()) }
}

/// `dst[i] = gelu(src[i])` over `n` floats, a vector at a time, by the tanh
/// approximation when `TANH`.
///
/// # Safety
/// The CPU has AVX-512F; `src` and `dst` hold `n` floats (they may be the
/// same).
#[target_feature(enable = "avx512f")]
unsafe fn each<const TANH: bool>(src: *const f32, dst: *mut f32, n: usize) {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn match_the_scalar_forms() {
        if !available() {
            return;
        }
        let x: Vec<f32> = (-700..700)
            .map(|i| i as f32 * 0.0137)
            .chain([-30.0, -12.0, 0.0, 12.0, 30.0])
            .collect();
        let (mut erf, mut tanh) = (vec![0.0; x.len()], vec![0.0; x.len()]);
        gelu(&x, &mut erf);
        gelu_tanh(&x, &mut tanh);
        for (i, &v) in x.iter().enumerate() {
            let v64 = v as f64;
            let want_erf = 0.5 * v64 * (1.0 + super::super::gelu::erf(v64 / 2f64.sqrt()));
            let u = (2.0 / std::f64::consts::PI).sqrt() * (v64 + 0.044715 * v64.powi(3));
            let want_tanh = 0.5 * v64 * (1.0 + u.tanh());
            for (got, want) in [(erf[i], want_erf), (tanh[i], want_tanh)] {
                let tol = 2e-6 * want.abs().max(1.0);
                assert!(
                    (got as f64 - want).abs() <= tol,
                    "gelu({v}) = {got}, want {want}"
                );
            }
        }
        let mut nan = [f32::NAN; 3];
        gelu_in_place(&mut nan);
        assert!(nan.iter().all(|v| v.is_nan()));
        let mut same = x.clone();
        gelu_tanh_in_place(&mut same);
        assert_eq!(same, tanh);
    }
}
