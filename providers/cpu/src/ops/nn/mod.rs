//! Neural-network ops: matrix products, convolution, pooling, normalization,
//! softmax and friends.
//!
//! Float kernels are written once over [`Flt`] (f32 and f64); float16 and bfloat16
//! tensors are widened to f32 on the way in and narrowed on the way out, since
//! their arithmetic is emulated on most CPUs anyway.

use std::borrow::Cow;
use std::fmt::Debug;
use std::iter::Sum;
use std::ops::{AddAssign, MulAssign};

use half::{bf16, f16};
use ort_core::{ElemType, Error, PodElement, Tensor};

use crate::kernel::Ctx;

/// Runs `$body` with `$F` = f64 for double tensors and f32 for float, float16 and
/// bfloat16 ones (the working precision of the nn, image and attention kernels).
#[macro_export]
macro_rules! with_float {
    ($elem:expr, $F:ident => $body:expr) => {{
        use ort_core::ElemType as __E;
        #[allow(unused_imports)]
        use {
            num_traits::Float as _, num_traits::One as _, num_traits::Zero as _,
            $crate::ops::nn::Flt as _,
        };
        match $elem {
            __E::F64 => {
                type $F = f64;
                $body
            }
            __E::F32 | __E::F16 | __E::BF16 => {
                type $F = f32;
                $body
            }
            e => Err(ort_core::Error::not_implemented(format!(
                "element type {e} is not supported here"
            ))),
        }
    }};
}
pub(crate) use with_float;

/// Defines a function whose body is compiled three times, for baseline x86-64,
/// AVX2 and AVX-512, picking at run time: the build targets baseline x86-64,
/// where loops vectorize 4 floats wide only. Generics go in brackets:
/// `simd_fn! { fn name[F: Flt](a: &[F]) -> F { .. } }`. Whatever the body calls
/// must be `#[inline(always)]` to benefit.
macro_rules! simd_fn {
    ($(#[$m:meta])* $vis:vis fn $name:ident [$($gen:tt)*] ($($arg:ident : $ty:ty),* $(,)?) $(-> $ret:ty)? $body:block) => {
        $(#[$m])*
        $vis fn $name<$($gen)*>($($arg: $ty),*) $(-> $ret)? {
            #[inline(always)]
            fn body<$($gen)*>($($arg: $ty),*) $(-> $ret)? $body
            #[cfg(target_arch = "x86_64")]
            if std::arch::is_x86_feature_detected!("avx512f")
                && std::arch::is_x86_feature_detected!("avx512bw")
                && std::arch::is_x86_feature_detected!("avx512dq")
                && std::arch::is_x86_feature_detected!("avx512vl")
            {
                #[target_feature(enable = "avx2,avx512f,avx512bw,avx512dq,avx512vl")]
                unsafe fn avx512<$($gen)*>($($arg: $ty),*) $(-> $ret)? {
                    body($($arg),*)
                }
                // SAFETY: the CPU supports these AVX-512 subsets (checked just above).
                return unsafe { avx512($($arg),*) };
            }
            #[cfg(target_arch = "x86_64")]
            if std::arch::is_x86_feature_detected!("avx2")
                && std::arch::is_x86_feature_detected!("fma")
            {
                #[target_feature(enable = "avx2,fma")]
                unsafe fn avx2<$($gen)*>($($arg: $ty),*) $(-> $ret)? {
                    body($($arg),*)
                }
                // SAFETY: the CPU supports AVX2 and FMA (checked just above).
                return unsafe { avx2($($arg),*) };
            }
            body($($arg),*)
        }
    };
}
pub(crate) use simd_fn;

pub(crate) mod average_pool;
mod batch_normalization;
pub(crate) mod blas;
#[cfg(target_arch = "x86_64")]
mod channel_blocks;
mod col2im;
pub(crate) mod conv;
mod conv_loops;
mod conv_shift;
mod conv_transpose;
mod deform_conv;
mod depthwise_blocked;
#[cfg(target_arch = "x86_64")]
mod depthwise_blocked_avx2;
#[cfg(target_arch = "x86_64")]
mod depthwise_rows;
#[cfg(target_arch = "x86_64")]
mod depthwise_rows_avx2;
mod dropout;
#[cfg(target_arch = "x86_64")]
pub(crate) mod exp_avx2;
#[cfg(target_arch = "x86_64")]
pub(crate) mod exp_avx512;
pub(crate) mod gelu;
#[cfg(target_arch = "x86_64")]
mod gelu_avx2;
#[cfg(target_arch = "x86_64")]
mod gelu_avx512;
pub(crate) mod gemm;
pub(crate) mod global_average_pool;
pub(crate) mod global_max_pool;
mod group_normalization;
mod instance_normalization;
pub(crate) mod layer_normalization;
mod lp_normalization;
mod lp_pool;
mod lrn;
pub(crate) mod mat_mul;
pub(crate) mod max_pool;
mod max_roi_pool;
mod max_unpool;
mod mean_variance_normalization;
mod pool;
pub(crate) mod rms_normalization;
pub(crate) mod sgemm;
#[cfg(target_arch = "x86_64")]
mod sgemm_avx2;
mod sgemm_avx512;
mod sgemm_columns;
pub(crate) mod softmax;
pub(crate) mod window;
mod winograd;
#[cfg(target_arch = "x86_64")]
mod winograd_avx2;

#[cfg(test)]
mod tests;

/// The float types kernels compute in.
pub(crate) trait Flt:
    PodElement + num_traits::Float + AddAssign + MulAssign + Sum + Debug + Send + Sync + 'static
{
    /// 1.5 · 2^(mantissa bits): `x + ROUND - ROUND` rounds x half to even
    /// while |x| < 2^(mantissa bits - 1).
    const ROUND: Self;
    fn of(x: f64) -> Self;
    fn f64(self) -> f64;
    /// Rounds half-way cases to the even integer (as QuantizeLinear does).
    fn round_even(self) -> Self;
    /// `exp`, in a form loops can vectorize where that matters (f32).
    fn fast_exp(self) -> Self {
        self.exp()
    }
}

impl Flt for f32 {
    const ROUND: f32 = 12_582_912.0;
    fn of(x: f64) -> f32 {
        x as f32
    }
    fn f64(self) -> f64 {
        self as f64
    }
    #[inline(always)]
    fn round_even(self) -> f32 {
        self.round_ties_even()
    }
    /// Cephes-style: 2^n · p(r) with r = x - n·ln2, branch-free so that loops over
    /// it vectorize (libm's expf is a scalar call). Within a few ulp of expf.
    #[inline(always)]
    fn fast_exp(self) -> f32 {
        let x = self.clamp(-87.336_55, 88.376_26);
        let t = x * std::f32::consts::LOG2_E + Self::ROUND;
        let n = t - Self::ROUND;
        let r = x - n * 0.693_359_4 - n * -2.121_944_4e-4;
        let p = 1.987_569_1e-4;
        let p = p * r + 1.398_199_9e-3;
        let p = p * r + 8.333_452e-3;
        let p = p * r + 4.166_579_6e-2;
        let p = p * r + 0.166_666_65;
        let p = p * r + 0.5;
        let e = p * r * r + r + 1.0;
        // 2^n from the integer held in t's low mantissa bits.
        let n = (t.to_bits() as i32).wrapping_sub(0x4B40_0000);
        let scale = f32::from_bits((n.wrapping_add(127) as u32) << 23);
        match self {
            x if x > 88.376_26 => f32::INFINITY,
            x if x < -87.336_55 => 0.0,
            _ => e * scale,
        }
    }
}

impl Flt for f64 {
    const ROUND: f64 = 6_755_399_441_055_744.0;
    fn of(x: f64) -> f64 {
        x
    }
    fn f64(self) -> f64 {
        self
    }
    #[inline(always)]
    fn round_even(self) -> f64 {
        self.round_ties_even()
    }
}

/// A float tensor's elements as `F`: borrowed when they already are, converted
/// otherwise (so mixed-type inputs such as BatchNormalization's work too).
pub(crate) fn data<F: Flt>(t: &Tensor) -> Result<Cow<'_, [F]>, Error> {
    if t.elem() == F::TYPE {
        return Ok(Cow::Borrowed(t.as_slice::<F>()?));
    }
    Ok(Cow::Owned(match t.elem() {
        ElemType::F32 => t
            .as_slice::<f32>()?
            .iter()
            .map(|&v| F::of(v as f64))
            .collect(),
        ElemType::F64 => t.as_slice::<f64>()?.iter().map(|&v| F::of(v)).collect(),
        ElemType::F16 => t
            .as_slice::<f16>()?
            .iter()
            .map(|&v| F::of(v.to_f64()))
            .collect(),
        ElemType::BF16 => t
            .as_slice::<bf16>()?
            .iter()
            .map(|&v| F::of(v.to_f64()))
            .collect(),
        e => return Err(Error::invalid(format!("expected a float tensor, got {e}"))),
    }))
}

/// A fresh tensor of element type `elem` whose values `fill` writes as `F`; a
/// temporary buffer is used when `elem` is not `F` itself.
pub(crate) fn output<F: Flt>(
    ctx: &Ctx<'_>,
    elem: ElemType,
    shape: &[i64],
    fill: impl FnOnce(&mut [F]),
) -> Result<Tensor, Error> {
    if elem == F::TYPE {
        return ctx.tensor::<F>(shape, fill);
    }
    let n = shape.iter().product::<i64>().max(0) as usize;
    let mut tmp = vec![F::zero(); n];
    fill(&mut tmp);
    narrow(ctx, elem, shape, &tmp)
}

/// A tensor of element type `elem` holding `data` converted from `F`.
pub(crate) fn narrow<F: Flt>(
    ctx: &Ctx<'_>,
    elem: ElemType,
    shape: &[i64],
    data: &[F],
) -> Result<Tensor, Error> {
    fn conv<F: Flt, T: PodElement>(
        ctx: &Ctx<'_>,
        shape: &[i64],
        data: &[F],
        f: impl Fn(f64) -> T + Sync + Send,
    ) -> Result<Tensor, Error> {
        ctx.tensor::<T>(shape, |o| crate::util::par_map(o, data, |v| f(v.f64())))
    }
    match elem {
        ElemType::F32 => conv(ctx, shape, data, |v| v as f32),
        ElemType::F64 => conv(ctx, shape, data, |v| v),
        ElemType::F16 => conv(ctx, shape, data, f16::from_f64),
        ElemType::BF16 => conv(ctx, shape, data, bf16::from_f64),
        e => Err(Error::invalid(format!(
            "expected a float element type, got {e}"
        ))),
    }
}

/// `data` of shape `from` broadcast (numpy-style) to shape `to`.
pub(crate) fn expand<F: Copy>(data: &[F], from: &[i64], to: &[i64]) -> Result<Vec<F>, Error> {
    use crate::util::dims;
    use ndarray::{ArrayViewD, IxDyn};
    if from == to {
        return Ok(data.to_vec());
    }
    let v = ArrayViewD::from_shape(IxDyn(&dims(from)), data)
        .map_err(|e| Error::invalid(e.to_string()))?;
    let b = v
        .broadcast(IxDyn(&dims(to)))
        .ok_or_else(|| Error::invalid(format!("shape {from:?} does not broadcast to {to:?}")))?;
    Ok(b.iter().copied().collect())
}

/// `Σ f(x)` in eight independent lanes, so that the loop vectorizes (a single
/// running sum is a dependency chain the compiler may not reorder).
#[inline(always)]
pub(crate) fn sum_by<F: Flt>(x: &[F], f: impl Fn(F) -> F) -> F {
    let mut acc = [F::zero(); 8];
    let chunks = x.chunks_exact(8);
    let rest = chunks.remainder().iter().fold(F::zero(), |s, &v| s + f(v));
    for c in chunks {
        for i in 0..8 {
            acc[i] += f(c[i]);
        }
    }
    acc.iter().fold(rest, |s, &v| s + v)
}

/// The largest element (NaNs are skipped unless everything is NaN), in lanes.
#[inline(always)]
pub(crate) fn max<F: Flt>(x: &[F]) -> F {
    let mut acc = [F::neg_infinity(); 8];
    let chunks = x.chunks_exact(8);
    let pick = |m: F, v: F| if v > m { v } else { m };
    let rest = chunks
        .remainder()
        .iter()
        .fold(F::neg_infinity(), |m, &v| pick(m, v));
    for c in chunks {
        for i in 0..8 {
            acc[i] = pick(acc[i], c[i]);
        }
    }
    acc.iter().fold(rest, |m, &v| pick(m, v))
}

thread_local! {
    static SCRATCH: std::cell::RefCell<Vec<u64>> = const { std::cell::RefCell::new(Vec::new()) };
}

/// Runs `f` on `len` elements of per-thread scratch memory (contents left over
/// from earlier use), so that im2col buffers are neither allocated nor zeroed on
/// every call. Falls back to a fresh buffer when the thread's is in use (a rayon
/// worker may start another kernel while waiting) or the request is huge. The
/// slice starts on a 64-byte boundary: whole-vector loads then touch one cache
/// line each (a misaligned buffer made a depthwise layer 1.5× slower).
pub(crate) fn with_scratch<F: Flt, R>(len: usize, f: impl FnOnce(&mut [F]) -> R) -> R {
    const KEEP_WORDS: usize = 1 << 22; // 32 MiB
                                       // Eight words of slack to reach the boundary.
    let words = (len * std::mem::size_of::<F>()).div_ceil(8) + 8;
    let run = |v: &mut [u64]| {
        let skip = v.as_ptr().align_offset(64).min(8);
        // SAFETY: after `skip` words the buffer still holds len·size_of::<F>()
        // initialized bytes; the start is 64-byte aligned (or at least u64
        // aligned, which suffices for f32 and f64), and any bits are a valid float.
        let s = unsafe { std::slice::from_raw_parts_mut(v[skip..].as_mut_ptr() as *mut F, len) };
        f(s)
    };
    SCRATCH.with(|cell| match cell.try_borrow_mut() {
        Ok(mut v) if words <= KEEP_WORDS => {
            if v.len() < words {
                v.resize(words, 0);
            }
            run(&mut v)
        }
        _ => run(&mut vec![0u64; words]),
    })
}

/// f32 values `x` as `T` when `T` is f32.
pub(crate) fn as_floats<T: 'static>(x: &[f32]) -> Option<&[T]> {
    (std::any::TypeId::of::<T>() == std::any::TypeId::of::<f32>())
        // SAFETY: T is f32 (checked): same layout and length.
        .then(|| unsafe { std::slice::from_raw_parts(x.as_ptr().cast(), x.len()) })
}

/// `x` as f32 when `T` is f32.
pub(crate) fn as_f32<T: 'static>(x: &[T]) -> Option<&[f32]> {
    (std::any::TypeId::of::<T>() == std::any::TypeId::of::<f32>())
        // SAFETY: T is f32 (checked): same layout and length.
        .then(|| unsafe { std::slice::from_raw_parts(x.as_ptr().cast(), x.len()) })
}

/// `x` as f32 when `T` is f32.
pub(crate) fn as_f32_mut<T: 'static>(x: &mut [T]) -> Option<&mut [f32]> {
    (std::any::TypeId::of::<T>() == std::any::TypeId::of::<f32>())
        // SAFETY: T is f32 (checked): same layout and length; the borrow moves over.
        .then(|| unsafe { std::slice::from_raw_parts_mut(x.as_mut_ptr().cast(), x.len()) })
}

/// Product of dimensions as usize.
pub(crate) fn numel(d: &[usize]) -> usize {
    d.iter().product()
}

/// Below this many multiply-adds a job is not worth splitting across threads.
pub(crate) const PAR_WORK: usize = 1 << 15;
