//! Softmax, LogSoftmax and Hardmax per vector: max-shifted exp (vectorized in f32), then
//! 1/sum scaling or log-sum-exp subtraction; f16/bf16 Softmax rounds as ONNX's reference.

use ort_core::{ElemType, Error, Tensor, Value};

use super::{data, output, sum_by, Flt, PAR_WORK};
use crate::kernel::{input, one, Ctx, Kernel, NodeInfo, Outputs};
use crate::ops::{FLOATS, LATEST};
use crate::parallel::for_each_chunk;
use crate::util::axis;

/// Softmax, LogSoftmax and Hardmax differ only in what they do to one vector.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) enum Kind {
    Softmax,
    LogSoftmax,
    Hardmax,
}

struct SoftmaxLike {
    kind: Kind,
    axis: i64,
    /// Before opset 13 the input is coerced to 2-D at `axis` and the op runs
    /// over the whole trailing block, not one axis.
    flatten: bool,
}

pub(super) fn build(info: &NodeInfo<'_, '_>, kind: Kind) -> Result<Box<dyn Kernel>, Error> {
    let flatten = info.opset() < 13;
    Ok(Box::new(SoftmaxLike {
        kind,
        axis: info.int("axis", if flatten { 1 } else { -1 })?,
        flatten,
    }))
}

impl Kernel for SoftmaxLike {
    fn compute(&self, inputs: &[Option<&Value>], ctx: &Ctx<'_>) -> Outputs {
        let x = input(inputs, 0)?;
        let s = x.shape();
        let ax = if self.flatten && self.axis == s.len() as i64 {
            s.len()
        } else {
            axis(self.axis, s.len())?
        };
        let prod = |d: &[i64]| d.iter().product::<i64>() as usize;
        // The op acts on vectors of n elements spaced `inner` apart.
        let (n, inner) = if self.flatten || s.is_empty() {
            (prod(&s[ax..]), 1)
        } else {
            (s[ax] as usize, prod(&s[ax + 1..]))
        };
        let kind = self.kind;
        if kind == Kind::Softmax && matches!(x.elem(), ElemType::F16 | ElemType::BF16) {
            return one(half_softmax(ctx, x, n, inner)?);
        }
        one(with_float!(x.elem(), F => {
            let xd = data::<F>(x)?;
            output::<F>(ctx, x.elem(), s, |o| {
                let block = n * inner;
                if block == 0 {
                    return;
                }
                let threads = if o.len() >= PAR_WORK { ctx.threads } else { 1 };
                for_each_chunk(threads, o, block, |i, o| {
                    vectors(kind, &xd[i * block..][..o.len()], o, inner)
                });
            })
        })?)
    }
}

simd_fn! {
    /// One block of `n` vectors spaced `inner` apart.
    fn vectors[F: Flt](kind: Kind, x: &[F], o: &mut [F], inner: usize) {
        if inner == 1 {
            row(kind, x, o)
        } else {
            strided(kind, x, o, inner)
        }
    }
}

#[inline(always)]
fn row<F: Flt>(kind: Kind, x: &[F], o: &mut [F]) {
    let max = super::max(x);
    if kind == Kind::Hardmax {
        o.fill(F::zero());
        o[x.iter().position(|&v| v == max).unwrap_or(0)] = F::one();
        return;
    }
    if kind == Kind::Softmax {
        if let (Some(x), Some(o)) = (super::as_f32(x), super::as_f32_mut(o)) {
            o.copy_from_slice(x);
            // A row of −inf or NaN takes the loops below, as before.
            match shifted_exp_row(o, None, 0.0) {
                Some(sum) if sum > 0.0 && sum.is_finite() => {
                    let inv = 1.0 / sum;
                    o.iter_mut().for_each(|o| *o *= inv);
                    return;
                }
                _ => {}
            }
        }
    }
    // Separate passes so that each loop vectorizes.
    o.iter_mut()
        .zip(x)
        .for_each(|(o, &v)| *o = (v - max).fast_exp());
    let sum = sum_by(o, |v| v);
    if kind == Kind::Softmax {
        let inv = F::one() / sum;
        o.iter_mut().for_each(|o| *o *= inv);
    } else {
        let shift = max + sum.ln();
        o.iter_mut().zip(x).for_each(|(o, &v)| *o = v - shift);
    }
}

/// `row[i] = exp(row[i] + mask[i] + bias − max)`, where max is the largest
/// of those sums, by this CPU's vector exp (AVX-512 or AVX2 + FMA), returning
/// the sum of the results; None, with the row untouched, where there is none.
/// A row with nothing to attend to (every sum −inf, or empty) becomes zeros
/// and returns 0; one whose sums are all NaN becomes NaN.
pub(crate) fn shifted_exp_row(row: &mut [f32], mask: Option<&[f32]>, bias: f32) -> Option<f32> {
    #[cfg(target_arch = "x86_64")]
    {
        if super::exp_avx512::available() {
            return Some(super::exp_avx512::shifted_exp_row(row, mask, bias));
        }
        if super::exp_avx2::available() {
            return Some(super::exp_avx2::shifted_exp_row(row, mask, bias));
        }
    }
    let _ = (row, mask, bias);
    None
}

/// One vector per column of an n × inner block, processed row by row so the
/// inner loops run over contiguous memory.
#[inline(always)]
fn strided<F: Flt>(kind: Kind, x: &[F], o: &mut [F], inner: usize) {
    let mut max = x[..inner].to_vec();
    let mut arg = vec![0usize; inner];
    for (r, xr) in x.chunks(inner).enumerate().skip(1) {
        for ((m, a), &v) in max.iter_mut().zip(&mut arg).zip(xr) {
            if v > *m {
                (*m, *a) = (v, r);
            }
        }
    }
    if kind == Kind::Hardmax {
        o.fill(F::zero());
        arg.iter()
            .enumerate()
            .for_each(|(j, &r)| o[r * inner + j] = F::one());
        return;
    }
    let mut sum = vec![F::zero(); inner];
    for (or, xr) in o.chunks_mut(inner).zip(x.chunks(inner)) {
        for (((o, s), &v), &m) in or.iter_mut().zip(&mut sum).zip(xr).zip(&max) {
            *o = (v - m).fast_exp();
            *s += *o;
        }
    }
    if kind == Kind::Softmax {
        sum.iter_mut().for_each(|s| *s = F::one() / *s);
        for or in o.chunks_mut(inner) {
            or.iter_mut().zip(&sum).for_each(|(o, &s)| *o *= s);
        }
    } else {
        max.iter_mut().zip(&sum).for_each(|(m, &s)| *m += s.ln());
        for (or, xr) in o.chunks_mut(inner).zip(x.chunks(inner)) {
            or.iter_mut()
                .zip(xr)
                .zip(&max)
                .for_each(|((o, &v), &m)| *o = v - m);
        }
    }
}

/// Softmax of float16/bfloat16 tensors, rounding the exponentials and their sum
/// to the tensor's type as ONNX's reference (and any half-precision arithmetic)
/// does; keeping them in f32 differs from the reference by more than its
/// tolerance on rows with several comparable scores.
fn half_softmax(ctx: &Ctx<'_>, x: &Tensor, n: usize, inner: usize) -> Result<Tensor, Error> {
    let round: fn(f32) -> f32 = if x.elem() == ElemType::F16 {
        |v| half::f16::from_f32(v).to_f32()
    } else {
        |v| half::bf16::from_f32(v).to_f32()
    };
    let xd = data::<f32>(x)?;
    output::<f32>(ctx, x.elem(), x.shape(), |o| {
        let block = n * inner;
        if block == 0 {
            return;
        }
        let mut e = vec![0f32; n];
        for (ob, xb) in o.chunks_mut(block).zip(xd.chunks(block)) {
            for j in 0..inner {
                let max = (0..n)
                    .map(|i| xb[i * inner + j])
                    .fold(f32::NEG_INFINITY, f32::max);
                for (i, e) in e.iter_mut().enumerate() {
                    *e = round(round(xb[i * inner + j] - max).exp());
                }
                let sum = round(e.iter().sum());
                for (i, &e) in e.iter().enumerate() {
                    ob[i * inner + j] = e / sum;
                }
            }
        }
    })
}

crate::register!("Softmax", [1, LATEST], FLOATS, |i| build(i, Kind::Softmax));

crate::register!("Hardmax", [1, LATEST], FLOATS, |i| build(i, Kind::Hardmax));
crate::register!("LogSoftmax", [1, LATEST], FLOATS, |i| build(
    i,
    Kind::LogSoftmax
));
