//! Quantization: (de)quantizers and the integer and quantized-linear matrix products.
//!
//! Integer products are computed exactly in f64 with the `gemm` crate: operands are at
//! most 16 bits wide after their zero points are removed, so every partial sum is an
//! integer far below 2^53, and the int32 results wrap exactly as 32-bit accumulation
//! would.

use std::borrow::Cow;

use half::{bf16, f16};
use ort_core::{ElemType, Error, PodElement, Tensor};

use crate::kernel::NodeInfo;

/// Dispatches over the storage types of quantized tensors (see [`storage`]).
macro_rules! dispatch_q {
    ($elem:expr, $T:ident => $body:expr) => {{
        use ort_core::ElemType as __E;
        match $elem {
            __E::I8 => {
                type $T = i8;
                $body
            }
            __E::U8 => {
                type $T = u8;
                $body
            }
            __E::I16 => {
                type $T = i16;
                $body
            }
            __E::U16 => {
                type $T = u16;
                $body
            }
            __E::I32 => {
                type $T = i32;
                $body
            }
            e => Err(ort_core::Error::not_implemented(format!(
                "quantized type {e} is not supported here"
            ))),
        }
    }};
}

mod conv_geom;
mod conv_integer;
pub(crate) mod dequantize_linear;
pub(crate) mod dynamic_quantize_linear;
pub(crate) mod loops;
pub(crate) mod matmul_integer;
mod matmul_plan;
pub(crate) mod pack_levels;
pub(crate) mod qgemm;
pub(crate) mod qlinear_conv;
mod qlinear_matmul;
pub(crate) mod quantize_linear;

pub(crate) use conv_geom::ConvAttrs;
pub(crate) use matmul_plan::MatmulPlan;

/// An integer element a quantized tensor is stored as.
pub(crate) trait QInt: PodElement {
    const SIGNED: bool;
    fn to_i32(self) -> i32;
    /// `v` must already be in the type's range.
    fn from_i32(v: i32) -> Self;
}

macro_rules! qint {
    ($($t:ty),*) => {$(
        impl QInt for $t {
            const SIGNED: bool = <$t>::MIN != 0;
            #[inline(always)]
            fn to_i32(self) -> i32 { self as i32 }
            #[inline(always)]
            fn from_i32(v: i32) -> Self { v as $t }
        }
    )*};
}
qint!(i8, u8, i16, u16, i32);

/// The type a quantized element type is held in: 4- and 2-bit types are stored one
/// element per byte, so they are read and written through their byte-sized kin.
pub(crate) fn storage(elem: ElemType) -> Option<ElemType> {
    use ElemType::*;
    match elem {
        I4 | I2 => Some(I8),
        U4 | U2 => Some(U8),
        I8 | U8 | I16 | U16 | I32 => Some(elem),
        _ => None,
    }
}

/// The saturation range of a quantized output type.
pub(crate) fn qrange(elem: ElemType) -> Result<(i32, i32), Error> {
    use ElemType::*;
    Ok(match elem {
        I8 => (-128, 127),
        U8 => (0, 255),
        I16 => (-32768, 32767),
        U16 => (0, 65535),
        I4 => (-8, 7),
        U4 => (0, 15),
        I2 => (-2, 1),
        U2 => (0, 3),
        e => {
            return Err(Error::not_implemented(format!(
                "quantizing to {e} is not supported"
            )))
        }
    })
}

/// The same bytes under another (same-sized) element type, without a copy.
pub(crate) fn retag(t: &Tensor, elem: ElemType) -> Result<Tensor, Error> {
    if t.elem() == elem {
        return Ok(t.clone());
    }
    Tensor::from_buffer(elem, t.shape(), t.buffer().clone(), t.offset())
}

/// A quantized tensor viewed as its storage type.
pub(crate) fn stored(t: &Tensor) -> Result<Tensor, Error> {
    match storage(t.elem()) {
        Some(s) => retag(t, s),
        None => Err(Error::not_implemented(format!(
            "quantized type {} is not supported here",
            t.elem()
        ))),
    }
}

/// The elements of an integer (or sub-byte) tensor widened to i32.
pub(crate) fn ints(t: &Tensor) -> Result<Vec<i32>, Error> {
    let s = stored(t)?;
    dispatch_q!(s.elem(), T => Ok(s.as_slice::<T>()?.iter().map(|&v| v.to_i32()).collect()))
}

/// A float (or int32) tensor's elements as f32, borrowed when already f32.
pub(crate) fn floats(t: &Tensor) -> Result<Cow<'_, [f32]>, Error> {
    Ok(match t.elem() {
        ElemType::F32 => Cow::Borrowed(t.as_slice::<f32>()?),
        ElemType::F16 => Cow::Owned(t.as_slice::<f16>()?.iter().map(|v| v.to_f32()).collect()),
        ElemType::BF16 => Cow::Owned(t.as_slice::<bf16>()?.iter().map(|v| v.to_f32()).collect()),
        ElemType::I32 => Cow::Owned(t.as_slice::<i32>()?.iter().map(|&v| v as f32).collect()),
        e if crate::ops::math::convert::is_small_float(e) => {
            Cow::Owned(crate::ops::math::convert::small_floats(t)?)
        }
        e => {
            return Err(Error::not_implemented(format!(
                "element type {e} is not supported here"
            )))
        }
    })
}

/// A float output element, converted from f32.
pub(crate) trait FromF32: PodElement {
    fn from_f32(v: f32) -> Self;
}
impl FromF32 for f32 {
    fn from_f32(v: f32) -> f32 {
        v
    }
}
impl FromF32 for f16 {
    fn from_f32(v: f32) -> f16 {
        f16::from_f32(v)
    }
}
impl FromF32 for bf16 {
    fn from_f32(v: f32) -> bf16 {
        bf16::from_f32(v)
    }
}

/// An optional element-type attribute (`output_dtype`, `precision`); 0 means unset.
pub(crate) fn dtype_attr(info: &NodeInfo<'_, '_>, name: &str) -> Result<Option<ElemType>, Error> {
    match info.int(name, 0)? {
        0 => Ok(None),
        code => ElemType::from_onnx(code as i32)
            .map(Some)
            .ok_or_else(|| Error::invalid(format!("{name} {code} is not a known data type"))),
    }
}

/// Checks that a zero point has the scale's shape (a single value may be a scalar or
/// a one-element vector on either side).
pub(crate) fn check_zero_point(z: &Tensor, scale: &Tensor) -> Result<(), Error> {
    if z.shape() == scale.shape()
        || (z.len() == 1 && scale.len() == 1 && z.shape().len() <= 1 && scale.shape().len() <= 1)
    {
        return Ok(());
    }
    Err(Error::invalid(format!(
        "zero point shape {:?} differs from scale shape {:?}",
        z.shape(),
        scale.shape()
    )))
}

/// A single-valued parameter (scale or zero point of a per-tensor quantization).
pub(crate) fn scalar<T: Copy>(v: &[T], name: &str) -> Result<T, Error> {
    match v {
        [x] => Ok(*x),
        _ => Err(Error::invalid(format!(
            "{name} must hold one value, got {}",
            v.len()
        ))),
    }
}

/// `q = saturate(round_half_even(v) + zp)`; NaN saturates to `lo`, as in MLAS.
#[inline]
pub(crate) fn requant(v: f32, zp: i32, (lo, hi): (i32, i32)) -> i32 {
    (v.round_ties_even() + zp as f32)
        .max(lo as f32)
        .min(hi as f32) as i32
}

/// How a scale (and zero point) of the (De)QuantizeLinear ops maps onto x's elements:
/// per tensor, per slice along `axis`, or per block of `block` slices along it.
pub(crate) struct ParamLayout {
    per_tensor: bool,
    outer: usize,
    dim: usize,
    inner: usize,
    /// 0 for per-axis.
    block: usize,
    /// The scale's extent along the axis (blocked only).
    sdim: usize,
}

impl ParamLayout {
    pub fn new(x: &[i64], scale: &[i64], axis: i64, block: i64) -> Result<ParamLayout, Error> {
        let slen: i64 = scale.iter().product();
        if slen == 1 && scale.len() <= 1 {
            return Ok(ParamLayout {
                per_tensor: true,
                outer: 1,
                dim: 1,
                inner: 1,
                block: 0,
                sdim: 1,
            });
        }
        let ax = crate::util::axis(axis, x.len())?;
        let n = |s: &[i64]| s.iter().product::<i64>() as usize;
        let (outer, dim, inner) = (n(&x[..ax]), x[ax] as usize, n(&x[ax + 1..]));
        let err = |why: &str| {
            Error::invalid(format!(
                "scale of shape {scale:?} does not fit x of shape {x:?} on axis {ax}: {why}"
            ))
        };
        if block <= 0 {
            if scale.len() != 1 || scale[0] as usize != dim {
                return Err(err(
                    "per-axis scales need one value per slice (blocked ones need block_size)",
                ));
            }
            return Ok(ParamLayout {
                per_tensor: false,
                outer,
                dim,
                inner,
                block: 0,
                sdim: dim,
            });
        }
        let b = block as usize;
        let same = scale.len() == x.len() && (0..x.len()).all(|i| i == ax || scale[i] == x[i]);
        if !same || scale[ax] as usize != dim.div_ceil(b) {
            return Err(err(&format!(
                "block_size {b} needs shape x with dimension {ax} = ceil({dim} / {b})"
            )));
        }
        Ok(ParamLayout {
            per_tensor: false,
            outer,
            dim,
            inner,
            block: b,
            sdim: scale[ax] as usize,
        })
    }

    /// Calls `f(elements, s0, step)` for runs of x's elements: element `i` of the run
    /// uses parameter `s0 + i * step`.
    pub fn for_each(&self, len: usize, mut f: impl FnMut(std::ops::Range<usize>, usize, usize)) {
        if self.per_tensor {
            return f(0..len, 0, 0);
        }
        for o in 0..self.outer {
            for a in 0..self.dim {
                let start = (o * self.dim + a) * self.inner;
                let (s0, step) = match self.block {
                    0 => (a, 0),
                    b => ((o * self.sdim + a / b) * self.inner, 1),
                };
                f(start..start + self.inner, s0, step);
            }
        }
    }
}

/// A quantized operand as f64 with its zero point removed; `zp(i)` is element `i`'s.
pub(crate) fn centered(t: &Tensor, zp: impl Fn(usize) -> i32) -> Result<Vec<f64>, Error> {
    Ok(ints(t)?
        .into_iter()
        .enumerate()
        .map(|(i, v)| (v - zp(i)) as f64)
        .collect())
}

/// An exact f64 sum as the int32 a 32-bit accumulator would hold (wrapping).
#[inline]
pub(crate) fn wrap_i32(v: f64) -> i32 {
    v as i64 as i32
}

#[cfg(test)]
mod tests;
