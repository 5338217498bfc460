//! Gelu: `x·Φ(x)` by erf (rational approximation in f32, series or continued fraction in
//! f64) or by the tanh approximation, over parallel vectorized chunks.

use ort_core::ElemType::F32;
use ort_core::{Error, Value};

use super::{data, output, Flt, PAR_WORK};
use crate::kernel::{input, one, Ctx, Kernel, NodeInfo, Outputs};
use crate::ops::{FLOATS, LATEST};

struct Gelu {
    tanh: bool,
}

pub(crate) fn build(info: &NodeInfo<'_, '_>) -> Result<Box<dyn Kernel>, Error> {
    let tanh = match info.string("approximate", "none")?.as_str() {
        "none" => false,
        "tanh" => true,
        s => return Err(Error::invalid(format!("unknown approximate {s}"))),
    };
    Ok(Box::new(Gelu { tanh }))
}

impl Kernel for Gelu {
    fn compute(&self, inputs: &[Option<&Value>], ctx: &Ctx<'_>) -> Outputs {
        let x = input(inputs, 0)?;
        let tanh = self.tanh;
        one(with_float!(x.elem(), F => {
            let xd = data::<F>(x)?;
            output::<F>(ctx, x.elem(), x.shape(), |o| {
                let (c, threads) = (PAR_WORK / 4, if o.len() >= PAR_WORK { ctx.threads } else { 1 });
                crate::parallel::for_each_chunk(threads, o, c, |i, o| {
                    let x = &xd[i * c..][..o.len()];
                    if let (Some(x), Some(o)) = (super::as_f32(x), super::as_f32_mut(o)) {
                        if gelu_f32(Some(x), o, tanh) {
                            return;
                        }
                    }
                    gelu_chunk(x, o, tanh)
                });
            })
        })?)
    }
}

/// GELU over f32 by this CPU's vector forms (AVX-512 or AVX2 + FMA):
/// `o[i] = gelu(x[i])`, or in place when `x` is None. False, with nothing
/// written, where there are none.
pub(crate) fn gelu_f32(x: Option<&[f32]>, o: &mut [f32], tanh: bool) -> bool {
    #[cfg(target_arch = "x86_64")]
    {
        assert!(x.is_none_or(|x| x.len() == o.len()));
        let (dst, n) = (o.as_mut_ptr(), o.len());
        let src = x.map_or(dst as *const f32, |x| x.as_ptr());
        if super::exp_avx512::available() {
            // SAFETY: AVX-512F is present; `src` and `dst` hold n floats
            // (asserted), each vector read before it is written.
            unsafe {
                match tanh {
                    true => super::gelu_avx512::each::<true>(src, dst, n),
                    false => super::gelu_avx512::each::<false>(src, dst, n),
                }
            }
            return true;
        }
        if super::exp_avx2::available() {
            // SAFETY: AVX2 and FMA are present; as above.
            unsafe {
                match tanh {
                    true => super::gelu_avx2::each::<true>(src, dst, n),
                    false => super::gelu_avx2::each::<false>(src, dst, n),
                }
            }
            return true;
        }
    }
    let _ = (x, o, tanh);
    false
}

simd_fn! {
    fn gelu_chunk[F: Flt](x: &[F], o: &mut [F], tanh: bool) {
        let half = F::of(0.5);
        if tanh {
            let k = F::of((2.0 / std::f64::consts::PI).sqrt());
            for (o, &x) in o.iter_mut().zip(x) {
                *o = half * x * (F::one() + tanh_of(k * (x + F::of(0.044715) * x * x * x)));
            }
        } else {
            for (o, &x) in o.iter_mut().zip(x) {
                *o = half * x * (F::one() + erf(x * F::of(std::f64::consts::FRAC_1_SQRT_2)));
            }
        }
    }
}

/// tanh; for f32 through the vectorizable exp (its cancellation near 0 costs
/// nothing here, where 1 is added to the result).
#[inline(always)]
pub(crate) fn tanh_of<F: Flt>(z: F) -> F {
    if F::TYPE == F32 {
        F::one() - F::of(2.0) / ((z + z).fast_exp() + F::one())
    } else {
        z.tanh()
    }
}

/// The error function: a rational approximation for f32 (branch-free, as in
/// Eigen and ONNX Runtime), series and continued fraction for f64.
#[inline(always)]
pub(crate) fn erf<F: Flt>(x: F) -> F {
    if F::TYPE == F32 {
        return F::of(erf32(x.f64() as f32) as f64);
    }
    let x = x.f64();
    let a = x.abs();
    let r = if a < 2.5 {
        // erf(a) = 2/√π · e^(-a²) · Σ 2ⁿ a^(2n+1) / (1·3·…·(2n+1)): all terms positive.
        let (x2, mut term, mut sum) = (a * a, a, a);
        for n in 1..200 {
            term *= 2.0 * x2 / (2 * n + 1) as f64;
            sum += term;
            if term < sum * 1e-17 {
                break;
            }
        }
        std::f64::consts::FRAC_2_SQRT_PI * (-x2).exp() * sum
    } else if a < 6.0 {
        // erfc(a) = e^(-a²)/√π / (a + (1/2)/(a + 1/(a + (3/2)/(a + ...)))).
        let mut t = a;
        for k in (1..=80).rev() {
            t = a + (k as f64 / 2.0) / t;
        }
        1.0 - (-a * a).exp() * std::f64::consts::FRAC_2_SQRT_PI / 2.0 / t
    } else {
        1.0
    };
    F::of(r.copysign(x))
}

/// The numerator's coefficients of [`erf32`]'s rational approximation, in
/// x², highest power first.
pub(crate) const ERF_P: [f32; 7] = [
    -2.726_142_3e-10,
    2.770_681_4e-8,
    -2.101_024e-6,
    -5.692_506_4e-5,
    -7.349_906_3e-4,
    -2.954_600_2e-3,
    -1.609_603_3e-2,
];
/// The denominator's, as [`ERF_P`].
pub(crate) const ERF_Q: [f32; 5] = [
    -1.456_607_2e-5,
    -2.133_740_6e-4,
    -1.682_827e-3,
    -7.373_329_2e-3,
    -1.426_474e-2,
];

#[inline(always)]
fn erf32(x: f32) -> f32 {
    let x = x.clamp(-4.0, 4.0);
    let x2 = x * x;
    let p = ERF_P.iter().fold(0.0, |p, &c| p * x2 + c);
    let q = ERF_Q.iter().fold(0.0, |q, &c| q * x2 + c);
    x * p / q
}

crate::register!("Gelu", [20, LATEST], FLOATS, build);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn vector_forms_match_the_definitions() {
        let x: Vec<f32> = (-700..700)
            .map(|i| i as f32 * 0.0137)
            .chain([-30.0, -12.0, 0.0, 12.0, 30.0])
            .collect();
        let (mut by_erf, mut by_tanh) = (vec![0.0; x.len()], vec![0.0; x.len()]);
        if !gelu_f32(Some(&x), &mut by_erf, false) {
            return;
        }
        assert!(gelu_f32(Some(&x), &mut by_tanh, true));
        for (i, &v) in x.iter().enumerate() {
            let v64 = v as f64;
            let want_erf = 0.5 * v64 * (1.0 + erf(v64 / 2f64.sqrt()));
            let u = (2.0 / std::f64::consts::PI).sqrt() * (v64 + 0.044715 * v64.powi(3));
            let want_tanh = 0.5 * v64 * (1.0 + u.tanh());
            for (got, want) in [(by_erf[i], want_erf), (by_tanh[i], want_tanh)] {
                let tol = 2e-6 * want.abs().max(1.0);
                assert!(
                    (got as f64 - want).abs() <= tol,
                    "gelu({v}) = {got}, want {want}"
                );
            }
        }
        let mut nan = [f32::NAN; 3];
        assert!(gelu_f32(None, &mut nan, false));
        assert!(nan.iter().all(|v| v.is_nan()));
        // In place (and on a tail shorter than a vector) equals out of place.
        let mut same = x[..13].to_vec();
        assert!(gelu_f32(None, &mut same, true));
        assert_eq!(same, by_tanh[..13]);
    }
}
