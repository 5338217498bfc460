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
use crate::util::{broadcast_shapes, gemm_strided, MatRef};

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

mod conv_integer;
mod dequantize_linear;
mod dynamic_quantize_linear;
pub(crate) mod loops;
pub(crate) mod matmul_integer;
mod qgemm;
mod qlinear_conv;
mod qlinear_matmul;
mod quantize_linear;

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

/// For each flat index of `dst`, the flat index of `src` that numpy broadcasting reads.
pub(crate) fn broadcast_map(src: &[i64], dst: &[i64]) -> Result<Vec<usize>, Error> {
    if src.len() > dst.len()
        || src
            .iter()
            .rev()
            .zip(dst.iter().rev())
            .any(|(&s, &d)| s != d && s != 1)
    {
        return Err(Error::invalid(format!(
            "shape {src:?} cannot be broadcast to {dst:?}"
        )));
    }
    let off = dst.len() - src.len();
    let mut map = vec![0usize];
    for (i, &d) in dst.iter().enumerate() {
        let s = if i < off { 1 } else { src[i - off] as usize };
        map = map
            .iter()
            .flat_map(|&base| (0..d as usize).map(move |j| base * s + if s == 1 { 0 } else { j }))
            .collect();
    }
    Ok(map)
}

/// How a batched (numpy `matmul`) product lines up its operands.
pub(crate) struct MatmulPlan {
    pub m: usize,
    pub k: usize,
    pub n: usize,
    /// A and B with 1-D operands promoted to matrices.
    pub a_shape: Vec<i64>,
    pub b_shape: Vec<i64>,
    /// For each output matrix: the A and B matrices it multiplies.
    pub pairs: Vec<(usize, usize)>,
    pub out_shape: Vec<i64>,
}

impl MatmulPlan {
    pub fn new(a: &[i64], b: &[i64]) -> Result<MatmulPlan, Error> {
        if a.is_empty() || b.is_empty() {
            return Err(Error::invalid("matmul operands must have rank 1 or more"));
        }
        let a_shape = if a.len() == 1 {
            vec![1, a[0]]
        } else {
            a.to_vec()
        };
        let b_shape = if b.len() == 1 {
            vec![b[0], 1]
        } else {
            b.to_vec()
        };
        let (ra, rb) = (a_shape.len(), b_shape.len());
        let (m, k, k2, n) = (
            a_shape[ra - 2],
            a_shape[ra - 1],
            b_shape[rb - 2],
            b_shape[rb - 1],
        );
        if k != k2 {
            return Err(Error::invalid(format!(
                "matmul shapes {a:?} and {b:?} do not agree"
            )));
        }
        let batch = broadcast_shapes(&[&a_shape[..ra - 2], &b_shape[..rb - 2]])?;
        let am = broadcast_map(&a_shape[..ra - 2], &batch)?;
        let bm = broadcast_map(&b_shape[..rb - 2], &batch)?;
        let mut out_shape = batch;
        if a.len() > 1 {
            out_shape.push(m);
        }
        if b.len() > 1 {
            out_shape.push(n);
        }
        let (m, k, n) = (m as usize, k as usize, n as usize);
        Ok(MatmulPlan {
            m,
            k,
            n,
            a_shape,
            b_shape,
            pairs: am.into_iter().zip(bm).collect(),
            out_shape,
        })
    }

    /// A per-row parameter of A (zero point or scale: one value, `[M]`, or broadcastable
    /// to A's shape with K as 1), one value per row of every A matrix.
    pub fn rows<T: Copy>(&self, v: &[T], shape: &[i64]) -> Result<Vec<T>, Error> {
        let mut target = self.a_shape.clone();
        let r = target.len();
        target[r - 1] = 1;
        let shape = if shape.len() == 1 && v.len() > 1 {
            vec![shape[0], 1]
        } else {
            shape.to_vec()
        };
        expand(v, &shape, &target)
    }

    /// A per-column parameter of B (one value, `[N]`, or broadcastable to B's shape
    /// with K as 1), one value per column of every B matrix.
    pub fn cols<T: Copy>(&self, v: &[T], shape: &[i64]) -> Result<Vec<T>, Error> {
        let mut target = self.b_shape.clone();
        let r = target.len();
        target[r - 2] = 1;
        expand(v, shape, &target)
    }

    /// All products, as exact f64 sums; `a` and `b` have their zero points removed.
    pub fn run(&self, a: &[f64], b: &[f64], threads: usize) -> Result<Vec<f64>, Error> {
        let (m, k, n) = (self.m, self.k, self.n);
        let mut out = vec![0.0; self.pairs.len() * m * n];
        for (o, &(ia, ib)) in self.pairs.iter().enumerate() {
            let (a, b) = (
                &a[ia * m * k..(ia + 1) * m * k],
                &b[ib * k * n..(ib + 1) * k * n],
            );
            gemm_strided(
                MatRef::rows(a, m, k),
                MatRef::rows(b, k, n),
                &mut out[o * m * n..],
                n,
                false,
                threads,
            )?;
        }
        Ok(out)
    }
}

fn expand<T: Copy>(v: &[T], shape: &[i64], target: &[i64]) -> Result<Vec<T>, Error> {
    let n = target.iter().product::<i64>() as usize;
    if let [x] = v {
        return Ok(vec![*x; n]);
    }
    Ok(broadcast_map(shape, target)?
        .into_iter()
        .map(|i| v[i])
        .collect())
}

/// A quantized operand as f64 with its zero point removed; `zp(i)` is element `i`'s.
pub(crate) fn centered(t: &Tensor, zp: impl Fn(usize) -> i32) -> Result<Vec<f64>, Error> {
    Ok(ints(t)?
        .into_iter()
        .enumerate()
        .map(|(i, v)| (v - zp(i)) as f64)
        .collect())
}

/// Convolution attributes, resolved against shapes at run time.
pub(crate) struct ConvAttrs {
    auto_pad: String,
    pads: Option<Vec<i64>>,
    strides: Option<Vec<i64>>,
    dilations: Option<Vec<i64>>,
    kernel_shape: Option<Vec<i64>>,
    group: i64,
}

/// A convolution's geometry, for an input `[N, C, spatial...]`.
pub(crate) struct ConvGeom {
    pub n: usize,
    pub c: usize,
    pub m: usize,
    pub group: usize,
    in_sp: Vec<usize>,
    k_sp: Vec<usize>,
    pub out_sp: Vec<usize>,
    strides: Vec<usize>,
    dilations: Vec<usize>,
    pads: Vec<usize>,
}

impl ConvAttrs {
    pub fn new(info: &NodeInfo<'_, '_>) -> Result<ConvAttrs, Error> {
        Ok(ConvAttrs {
            auto_pad: info.string("auto_pad", "NOTSET")?,
            pads: info.ints("pads")?,
            strides: info.ints("strides")?,
            dilations: info.ints("dilations")?,
            kernel_shape: info.ints("kernel_shape")?,
            group: info.int("group", 1)?,
        })
    }

    pub fn geom(&self, x: &[i64], w: &[i64]) -> Result<ConvGeom, Error> {
        if x.len() < 3 || w.len() != x.len() {
            return Err(Error::invalid(format!(
                "conv needs x [N, C, ...] and w of equal rank, got {x:?} and {w:?}"
            )));
        }
        let sp = x.len() - 2;
        let group = self.group;
        if group <= 0 || x[1] != w[1] * group || w[0] % group != 0 {
            return Err(Error::invalid(format!(
                "x {x:?} and w {w:?} do not fit group {group}"
            )));
        }
        let list =
            |v: &Option<Vec<i64>>, name: &str, len: usize, def: i64| -> Result<Vec<i64>, Error> {
                let v = v.clone().unwrap_or_else(|| vec![def; len]);
                if v.len() != len || v.iter().any(|&d| d < 0 || (d == 0 && def == 1)) {
                    return Err(Error::invalid(format!(
                        "{name} {v:?} is invalid for {sp} spatial dimensions"
                    )));
                }
                Ok(v)
            };
        let k_sp = &w[2..];
        if let Some(ks) = &self.kernel_shape {
            if ks.as_slice() != k_sp {
                return Err(Error::invalid(format!(
                    "kernel_shape {ks:?} disagrees with w {w:?}"
                )));
            }
        }
        let strides = list(&self.strides, "strides", sp, 1)?;
        let dilations = list(&self.dilations, "dilations", sp, 1)?;
        let mut pads = list(&self.pads, "pads", 2 * sp, 0)?;
        let mut out_sp = Vec::with_capacity(sp);
        for d in 0..sp {
            let (i, s) = (x[2 + d], strides[d]);
            let dk = (k_sp[d] - 1) * dilations[d] + 1;
            match self.auto_pad.as_str() {
                "NOTSET" => {}
                "VALID" => (pads[d], pads[sp + d]) = (0, 0),
                "SAME_UPPER" | "SAME_LOWER" => {
                    let total = (((i + s - 1) / s - 1) * s + dk - i).max(0);
                    let small = total / 2;
                    let lower = self.auto_pad == "SAME_LOWER";
                    (pads[d], pads[sp + d]) = if lower {
                        (total - small, small)
                    } else {
                        (small, total - small)
                    };
                }
                p => return Err(Error::invalid(format!("unknown auto_pad {p:?}"))),
            }
            let o = (i + pads[d] + pads[sp + d] - dk).div_euclid(s) + 1;
            if o <= 0 {
                return Err(Error::invalid(format!(
                    "conv output would be empty along spatial axis {d}"
                )));
            }
            out_sp.push(o as usize);
        }
        let u = |v: &[i64]| v.iter().map(|&d| d as usize).collect::<Vec<_>>();
        Ok(ConvGeom {
            n: x[0] as usize,
            c: x[1] as usize,
            m: w[0] as usize,
            group: group as usize,
            in_sp: u(&x[2..]),
            k_sp: u(k_sp),
            out_sp,
            strides: u(&strides),
            dilations: u(&dilations),
            pads: u(&pads[..sp]),
        })
    }
}

impl ConvGeom {
    pub fn out_shape(&self) -> Vec<i64> {
        [self.n, self.m]
            .iter()
            .chain(&self.out_sp)
            .map(|&d| d as i64)
            .collect()
    }

    /// `acc[n, m, out...] = Σ x·w` over each group's channels and the kernel window,
    /// with `x` and `w` already centered on their zero points (padding reads 0).
    pub fn run(&self, x: &[f64], w: &[f64], threads: usize) -> Result<Vec<f64>, Error> {
        let (isz, osz) = (
            self.in_sp.iter().product::<usize>(),
            self.out_sp.iter().product::<usize>(),
        );
        let kk = self.k_sp.iter().product::<usize>();
        let (cg, mg) = (self.c / self.group, self.m / self.group);
        // For each (kernel offset, output position): the input position, if inside.
        let src: Vec<Option<usize>> = (0..kk * osz)
            .map(|j| {
                let (mut ki, mut oi, mut flat) = (j / osz, j % osz, 0);
                for d in (0..self.in_sp.len()).rev() {
                    let (kd, od) = (ki % self.k_sp[d], oi % self.out_sp[d]);
                    (ki, oi) = (ki / self.k_sp[d], oi / self.out_sp[d]);
                    let pos = (od * self.strides[d] + kd * self.dilations[d])
                        .checked_sub(self.pads[d])?;
                    if pos >= self.in_sp[d] {
                        return None;
                    }
                    flat += pos * self.in_sp[d + 1..].iter().product::<usize>();
                }
                Some(flat)
            })
            .collect();
        let mut cols = vec![0.0; cg * kk * osz];
        let mut acc = vec![0.0; self.n * self.m * osz];
        for n in 0..self.n {
            for g in 0..self.group {
                for c in 0..cg {
                    let xc = &x[(n * self.c + g * cg + c) * isz..][..isz];
                    let dst = &mut cols[c * kk * osz..(c + 1) * kk * osz];
                    dst.iter_mut()
                        .zip(&src)
                        .for_each(|(d, s)| *d = s.map_or(0.0, |i| xc[i]));
                }
                let wg = MatRef::rows(&w[g * mg * cg * kk..(g + 1) * mg * cg * kk], mg, cg * kk);
                let out = &mut acc[(n * self.m + g * mg) * osz..(n * self.m + (g + 1) * mg) * osz];
                gemm_strided(
                    wg,
                    MatRef::rows(&cols, cg * kk, osz),
                    out,
                    osz,
                    false,
                    threads,
                )?;
            }
        }
        Ok(acc)
    }
}

/// An exact f64 sum as the int32 a 32-bit accumulator would hold (wrapping).
#[inline]
pub(crate) fn wrap_i32(v: f64) -> i32 {
    v as i64 as i32
}

#[cfg(test)]
mod tests {
    use std::fmt::Debug;

    use half::f16;
    use ort_core::abi::AttrValue::{self, *};
    use ort_core::ElemType::{self, I4, U4};
    use ort_core::{Element, Tensor, Value};

    use crate::testing::{assert_close, attr, run_node};

    // Expected values come from onnxruntime 1.31, except where it lacks the case
    // (int32 or 4-bit quantization), where numpy's rint/clip computed them.
    fn v<T: Element>(shape: &[i64], data: &[T]) -> Option<Value> {
        Some(Value::Tensor(
            Tensor::from_vec(shape, data.to_vec()).unwrap(),
        ))
    }

    /// The deterministic integer inputs the reference values were computed from.
    fn gen<T: Element + num_traits::NumCast>(
        shape: &[i64],
        k: i64,
        lo: i64,
        hi: i64,
    ) -> Option<Value> {
        let n = shape.iter().product::<i64>();
        let data: Vec<T> = (0..n)
            .map(|i| T::from(lo + (i * k + 5) % (hi - lo + 1)).unwrap())
            .collect();
        v(shape, &data)
    }

    /// The float input of most (de)quantization cases: ties, saturation, signs.
    fn x() -> Option<Value> {
        let x = [
            -1.0, -0.25, 0.0, 0.25, 0.75, 1.25, 100.0, -100.0, 0.5, 1.5, 2.5, -0.75,
        ];
        v::<f32>(&[3, 4], &x)
    }

    /// A 4-bit tensor (one element per byte).
    fn sub(e: ElemType, shape: &[i64], data: &[i8]) -> Option<Value> {
        Some(Value::Tensor(
            Tensor::from_bytes(e, shape, data.iter().map(|&b| b as u8).collect()).unwrap(),
        ))
    }

    fn ints(v: &[i64]) -> AttrValue<'static> {
        Ints(v.to_vec().into())
    }

    fn s(v: &str) -> AttrValue<'static> {
        String(v.as_bytes().to_vec().into())
    }

    fn out(outs: &[Option<Value>], i: usize, shape: &[i64]) -> Tensor {
        let t = outs[i].as_ref().unwrap().as_tensor().unwrap().clone();
        assert_eq!(t.shape(), shape, "output {i}");
        t
    }

    fn check<T: Element + PartialEq + Debug>(
        outs: &[Option<Value>],
        i: usize,
        shape: &[i64],
        want: &[T],
    ) {
        assert_eq!(out(outs, i, shape).as_slice::<T>().unwrap(), want);
    }

    fn check_f32(outs: &[Option<Value>], i: usize, shape: &[i64], want: &[f32]) {
        assert_close(out(outs, i, shape).as_slice::<f32>().unwrap(), want, 1e-6);
    }

    fn check_sub(outs: &[Option<Value>], i: usize, e: ElemType, shape: &[i64], want: &[i8]) {
        let t = out(outs, i, shape);
        assert_eq!(t.elem(), e);
        assert_eq!(
            t.bytes()
                .unwrap()
                .iter()
                .map(|&b| b as i8)
                .collect::<Vec<_>>(),
            want
        );
    }

    #[test]
    fn quantize_per_tensor_rounds_half_to_even() {
        let ins = [x(), v::<f32>(&[], &[0.5])];
        let outs = run_node("QuantizeLinear", 10, &ins, vec![], 1).unwrap();
        check::<u8>(&outs, 0, &[3, 4], &[0, 0, 0, 0, 2, 2, 200, 0, 1, 3, 5, 0]);
    }

    #[test]
    fn quantize_int8_saturates() {
        let ins = [x(), v::<f32>(&[], &[0.5]), v::<i8>(&[], &[-3])];
        let outs = run_node("QuantizeLinear", 10, &ins, vec![], 1).unwrap();
        check::<i8>(
            &outs,
            0,
            &[3, 4],
            &[-5, -3, -3, -3, -1, -1, 127, -128, -2, 0, 2, -5],
        );
    }

    #[test]
    fn quantize_per_axis_0() {
        let ins = [
            x(),
            v::<f32>(&[3], &[0.5, 0.25, 2.0]),
            v::<u8>(&[3], &[10, 0, 250]),
        ];
        let outs = run_node("QuantizeLinear", 13, &ins, vec![attr("axis", Int(0))], 1).unwrap();
        check::<u8>(
            &outs,
            0,
            &[3, 4],
            &[8, 10, 10, 10, 3, 5, 255, 0, 250, 251, 251, 250],
        );
    }

    #[test]
    fn quantize_per_axis_negative() {
        let ins = [
            x(),
            v::<f32>(&[4], &[0.5, 0.25, 2.0, 1.0]),
            v::<i8>(&[4], &[1, -1, 0, 5]),
        ];
        let outs = run_node("QuantizeLinear", 13, &ins, vec![attr("axis", Int(-1))], 1).unwrap();
        check::<i8>(
            &outs,
            0,
            &[3, 4],
            &[-1, -2, 0, 5, 3, 4, 50, -95, 2, 5, 1, 4],
        );
    }

    #[test]
    fn quantize_blocked_int16() {
        let ins = [
            x(),
            v::<f32>(&[3, 2], &[0.5, 0.25, 0.125, 1.0, 2.0, 0.5]),
            v::<i16>(&[3, 2], &[1, 2, 3, -4, 0, 100]),
        ];
        let outs = run_node(
            "QuantizeLinear",
            21,
            &ins,
            vec![attr("axis", Int(1)), attr("block_size", Int(2))],
            1,
        )
        .unwrap();
        check::<i16>(
            &outs,
            0,
            &[3, 4],
            &[-1, 1, 2, 3, 9, 13, 96, -104, 0, 1, 105, 98],
        );
    }

    #[test]
    fn quantize_blocked_uint16() {
        let ins = [
            x(),
            v::<f32>(&[3, 2], &[0.5, 0.25, 0.125, 1.0, 2.0, 0.5]),
            v::<u16>(&[3, 2], &[1, 2, 3, 4, 0, 100]),
        ];
        let outs = run_node(
            "QuantizeLinear",
            21,
            &ins,
            vec![attr("axis", Int(1)), attr("block_size", Int(2))],
            1,
        )
        .unwrap();
        check::<u16>(
            &outs,
            0,
            &[3, 4],
            &[0, 1, 2, 3, 9, 13, 104, 0, 0, 1, 105, 98],
        );
    }

    #[test]
    fn quantize_output_dtype() {
        let ins = [x(), v::<f32>(&[], &[0.5])];
        let outs = run_node(
            "QuantizeLinear",
            21,
            &ins,
            vec![attr("output_dtype", Int(3))],
            1,
        )
        .unwrap();
        check::<i8>(
            &outs,
            0,
            &[3, 4],
            &[-2, 0, 0, 0, 2, 2, 127, -128, 1, 3, 5, -2],
        );
    }

    #[test]
    fn quantize_float16() {
        let ins = [
            v::<f16>(
                &[3, 4],
                &[
                    f16::from_f64(-1.0),
                    f16::from_f64(-0.25),
                    f16::from_f64(0.0),
                    f16::from_f64(0.25),
                    f16::from_f64(0.75),
                    f16::from_f64(1.25),
                    f16::from_f64(100.0),
                    f16::from_f64(-100.0),
                    f16::from_f64(0.5),
                    f16::from_f64(1.5),
                    f16::from_f64(2.5),
                    f16::from_f64(-0.75),
                ],
            ),
            v::<f16>(&[], &[f16::from_f64(0.300048828125)]),
        ];
        let outs = run_node("QuantizeLinear", 19, &ins, vec![], 1).unwrap();
        check::<u8>(&outs, 0, &[3, 4], &[0, 0, 0, 1, 2, 4, 255, 0, 2, 5, 8, 0]);
    }

    #[test]
    fn quantize_int32_input() {
        let ins = [
            v::<i32>(&[6], &[-7, 0, 3, 5, 1000, 9]),
            v::<f32>(&[], &[2.0]),
        ];
        let outs = run_node("QuantizeLinear", 13, &ins, vec![], 1).unwrap();
        check::<u8>(&outs, 0, &[6], &[0, 0, 2, 2, 255, 4]);
    }

    #[test]
    fn quantize_blocked_int4() {
        let ins = [
            x(),
            v::<f32>(&[3, 2], &[0.25, 0.5, 1.0, 0.125, 0.5, 0.5]),
            sub(I4, &[3, 2], &[1, -2, 0, 3, -8, 7]),
        ];
        let outs = run_node(
            "QuantizeLinear",
            21,
            &ins,
            vec![attr("axis", Int(1)), attr("block_size", Int(2))],
            1,
        )
        .unwrap();
        check_sub(
            &outs,
            0,
            I4,
            &[3, 4],
            &[-3, 0, -2, -2, 1, 1, 7, -8, -7, -5, 7, 5],
        );
    }

    #[test]
    fn quantize_uint4() {
        let ins = [x(), v::<f32>(&[], &[0.5]), sub(U4, &[], &[3])];
        let outs = run_node("QuantizeLinear", 21, &ins, vec![], 1).unwrap();
        check_sub(
            &outs,
            0,
            U4,
            &[3, 4],
            &[1, 3, 3, 3, 5, 5, 15, 0, 4, 6, 8, 1],
        );
    }

    #[test]
    fn dequantize_uint8() {
        let ins = [
            v::<u8>(&[2, 4], &[0, 1, 2, 255, 128, 127, 10, 3]),
            v::<f32>(&[], &[0.5]),
            v::<u8>(&[], &[128]),
        ];
        let outs = run_node("DequantizeLinear", 10, &ins, vec![], 1).unwrap();
        check::<f32>(
            &outs,
            0,
            &[2, 4],
            &[-64.0, -63.5, -63.0, 63.5, 0.0, -0.5, -59.0, -62.5],
        );
    }

    #[test]
    fn dequantize_per_axis() {
        let ins = [
            v::<i8>(&[2, 4], &[-128, -1, 0, 127, 5, -5, 64, -64]),
            v::<f32>(&[2], &[0.5, 0.125]),
            v::<i8>(&[2], &[-1, 3]),
        ];
        let outs = run_node("DequantizeLinear", 13, &ins, vec![attr("axis", Int(0))], 1).unwrap();
        check::<f32>(
            &outs,
            0,
            &[2, 4],
            &[-63.5, 0.0, 0.5, 64.0, 0.25, -1.0, 7.625, -8.375],
        );
    }

    #[test]
    fn dequantize_int32() {
        let ins = [
            v::<i32>(&[4], &[-100000, 0, 7, 2147483647]),
            v::<f32>(&[], &[0.25]),
        ];
        let outs = run_node("DequantizeLinear", 10, &ins, vec![], 1).unwrap();
        check::<f32>(&outs, 0, &[4], &[-25000.0, 0.0, 1.75, 536870900.0]);
    }

    #[test]
    fn dequantize_blocked_int16() {
        let ins = [
            v::<i16>(&[1, 4], &[-32768, 3, 32767, 0]),
            v::<f32>(&[1, 2], &[0.5, 2.0]),
            v::<i16>(&[1, 2], &[1, -1]),
        ];
        let outs = run_node(
            "DequantizeLinear",
            21,
            &ins,
            vec![attr("axis", Int(1)), attr("block_size", Int(2))],
            1,
        )
        .unwrap();
        check::<f32>(&outs, 0, &[1, 4], &[-16384.5, 1.0, 65536.0, 2.0]);
    }

    #[test]
    fn dequantize_to_float16() {
        let ins = [
            v::<u16>(&[3], &[0, 65535, 1000]),
            v::<f16>(&[], &[f16::from_f64(0.300048828125)]),
            v::<u16>(&[], &[7]),
        ];
        let outs = run_node("DequantizeLinear", 21, &ins, vec![], 1).unwrap();
        check::<f16>(
            &outs,
            0,
            &[3],
            &[
                f16::from_f64(-2.099609375),
                f16::from_f64(19664.0),
                f16::from_f64(298.0),
            ],
        );
    }

    #[test]
    fn dequantize_blocked_int4() {
        let ins = [
            sub(I4, &[2, 4], &[-8, -1, 0, 7, 3, 2, -3, 5]),
            v::<f32>(&[2, 2], &[0.5, 0.25, 1.0, 2.0]),
            sub(I4, &[2, 2], &[1, -2, 0, 3]),
        ];
        let outs = run_node(
            "DequantizeLinear",
            21,
            &ins,
            vec![attr("axis", Int(1)), attr("block_size", Int(2))],
            1,
        )
        .unwrap();
        check::<f32>(
            &outs,
            0,
            &[2, 4],
            &[-4.5, -1.0, 0.5, 2.25, 3.0, 2.0, -12.0, 4.0],
        );
    }

    #[test]
    fn dequantize_uint4() {
        let ins = [
            sub(U4, &[5], &[0, 1, 7, 8, 15]),
            v::<f32>(&[], &[0.5]),
            sub(U4, &[], &[8]),
        ];
        let outs = run_node("DequantizeLinear", 21, &ins, vec![], 1).unwrap();
        check::<f32>(&outs, 0, &[5], &[-4.0, -3.5, -0.5, 0.0, 3.5]);
    }

    #[test]
    fn dynamic_quantize() {
        let ins = [v::<f32>(
            &[2, 4],
            &[-1.5, 0.3, 2.7, 4.0, 0.0, -0.2, 1.1, 3.3],
        )];
        let outs = run_node("DynamicQuantizeLinear", 11, &ins, vec![], 3).unwrap();
        check::<u8>(&outs, 0, &[2, 4], &[0, 84, 195, 255, 70, 61, 121, 223]);
        check_f32(&outs, 1, &[], &[0.021568628]);
        check::<u8>(&outs, 2, &[], &[70]);
    }

    #[test]
    fn dynamic_quantize_zeros() {
        let ins = [v::<f32>(&[3], &[0.0, 0.0, 0.0])];
        let outs = run_node("DynamicQuantizeLinear", 11, &ins, vec![], 3).unwrap();
        check::<u8>(&outs, 0, &[3], &[0, 0, 0]);
        check_f32(&outs, 1, &[], &[1.0]);
        check::<u8>(&outs, 2, &[], &[0]);
    }

    #[test]
    fn dynamic_quantize_positive() {
        let ins = [v::<f32>(&[4], &[0.5, 1.0, 2.55, 0.01])];
        let outs = run_node("DynamicQuantizeLinear", 11, &ins, vec![], 3).unwrap();
        check::<u8>(&outs, 0, &[4], &[50, 100, 255, 1]);
        check_f32(&outs, 1, &[], &[0.01]);
        check::<u8>(&outs, 2, &[], &[0]);
    }

    #[test]
    fn matmul_integer_scalar_zero_points() {
        let ins = [
            gen::<u8>(&[2, 3, 4], 7, 0, 255),
            gen::<u8>(&[4, 5], 11, 0, 255),
            v::<u8>(&[], &[12]),
            v::<u8>(&[], &[200]),
        ];
        let outs = run_node("MatMulInteger", 10, &ins, vec![], 1).unwrap();
        check::<i32>(
            &outs,
            0,
            &[2, 3, 5],
            &[
                350, 504, 658, 812, 966, -12250, -10864, -9478, -8092, -6706, -24850, -22232,
                -19614, -16996, -14378, -37450, -33600, -29750, -25900, -22050, -50050, -44968,
                -39886, -34804, -29722, -62650, -56336, -50022, -43708, -37394,
            ],
        );
    }

    #[test]
    fn matmul_integer_batched_per_column() {
        let ins = [
            gen::<u8>(&[2, 1, 3, 4], 7, 0, 255),
            gen::<i8>(&[3, 4, 5], 13, -128, 127),
            v::<u8>(&[], &[3]),
            gen::<i8>(&[3, 1, 5], 3, -128, 127),
        ];
        let outs = run_node("MatMulInteger", 10, &ins, vec![], 1).unwrap();
        check::<i32>(
            &outs,
            0,
            &[2, 3, 3, 5],
            &[
                7150, 7650, 8150, 8650, 9150, 18070, 19690, 21310, 22930, 24550, 28990, 31730,
                34470, 37210, 39950, 6600, 7100, 7600, 8100, 2712, 16288, 17908, 19528, 21148,
                9712, 25976, 28716, 31456, 34196, 16712, 6050, 6550, 7050, 7550, 2162, 14506,
                16126, 17746, 19366, 7930, 22962, 25702, 28442, 31182, 13698, 39910, 43770, 47630,
                51490, 55350, 50830, 55810, 60790, 65770, 70750, 61750, 67850, 73950, 80050, 86150,
                35664, 39524, 43384, 47244, 23712, 45352, 50332, 55312, 60292, 30712, 55040, 61140,
                67240, 73340, 37712, 31418, 35278, 39138, 42998, 19466, 39874, 44854, 49834, 54814,
                25234, 48330, 54430, 60530, 66630, 31002,
            ],
        );
    }

    #[test]
    fn matmul_integer_vector() {
        let ins = [
            gen::<i8>(&[3, 4], 7, -128, 127),
            gen::<i8>(&[4], 3, -128, 127),
        ];
        let outs = run_node("MatMulInteger", 10, &ins, vec![], 1).unwrap();
        check::<i32>(&outs, 0, &[3], &[53430, 40158, 26886]);
    }

    #[test]
    fn qlinear_matmul_uint8() {
        let ins = [
            gen::<u8>(&[2, 3, 4], 7, 0, 255),
            v::<f32>(&[], &[0.05]),
            v::<u8>(&[], &[12]),
            gen::<u8>(&[4, 5], 11, 0, 255),
            v::<f32>(&[], &[0.02]),
            v::<u8>(&[], &[200]),
            v::<f32>(&[], &[0.3]),
            v::<u8>(&[], &[100]),
        ];
        let outs = run_node("QLinearMatMul", 10, &ins, vec![], 1).unwrap();
        check::<u8>(
            &outs,
            0,
            &[2, 3, 5],
            &[
                101, 102, 102, 103, 103, 59, 64, 68, 73, 78, 17, 26, 35, 43, 52, 0, 0, 1, 14, 26,
                0, 0, 0, 0, 1, 0, 0, 0, 0, 0,
            ],
        );
    }

    #[test]
    fn qlinear_matmul_per_column_scale() {
        let ins = [
            gen::<i8>(&[3, 4], 7, -128, 127),
            v::<f32>(&[], &[0.05]),
            v::<i8>(&[], &[-3]),
            gen::<i8>(&[4, 5], 13, -128, 127),
            v::<f32>(&[5], &[0.02, 0.01, 0.03, 0.04, 0.05]),
            v::<i8>(&[5], &[0, 0, 0, 0, 0]),
            v::<f32>(&[], &[0.7]),
            v::<i8>(&[], &[-10]),
        ];
        let outs = run_node("QLinearMatMul", 10, &ins, vec![], 1).unwrap();
        check::<i8>(
            &outs,
            0,
            &[3, 5],
            &[
                9, -4, -6, -20, -43, 5, -5, -5, -16, -33, 1, -6, -5, -12, -22,
            ],
        );
    }

    #[test]
    fn conv_integer_groups_pads_strides() {
        let ins = [
            gen::<u8>(&[1, 2, 5, 5], 7, 0, 255),
            gen::<u8>(&[4, 1, 3, 3], 5, 0, 255),
            v::<u8>(&[], &[128]),
            v::<u8>(&[], &[100]),
        ];
        let outs = run_node(
            "ConvInteger",
            10,
            &ins,
            vec![
                attr("group", Int(2)),
                attr("pads", ints(&[1, 0, 1, 2])),
                attr("strides", ints(&[2, 1])),
            ],
            1,
        )
        .unwrap();
        check::<i32>(
            &outs,
            0,
            &[1, 4, 3, 5],
            &[
                40820, 37985, 35150, 23240, 11500, 34410, 29685, 24960, 15405, 7050, -2290, -5755,
                -9220, -7600, -4550, 14225, 13280, 12335, 8660, 4525, 15780, 13890, 12000, 7710,
                3675, -535, -2110, -3685, -3280, -2075, 11255, 12200, 13145, 8080, 3675, -11225,
                -12840, -11895, -7340, -3410, -2425, -2110, -1795, -580, -5, 31910, 34745, 37580,
                25000, 12450, -16580, -26880, -23100, -13865, -6200, -22540, -20335, -18130,
                -10840, -4820,
            ],
        );
    }

    #[test]
    fn conv_integer_1d_dilation() {
        let ins = [
            gen::<u8>(&[2, 3, 6], 7, 0, 255),
            gen::<u8>(&[2, 3, 2], 5, 0, 255),
        ];
        let outs = run_node(
            "ConvInteger",
            10,
            &ins,
            vec![attr("dilations", ints(&[2])), attr("pads", ints(&[1, 2]))],
            1,
        )
        .unwrap();
        check::<i32>(
            &outs,
            0,
            &[2, 2, 7],
            &[
                4080, 7455, 8190, 8925, 9660, 4215, 4530, 8940, 17175, 19170, 21165, 23160, 10965,
                11910, 11640, 20685, 21420, 22155, 22890, 9885, 10200, 27840, 53085, 55080, 57075,
                59070, 27975, 28920,
            ],
        );
    }

    #[test]
    fn conv_integer_same_upper() {
        let ins = [
            gen::<u8>(&[2, 3, 6], 7, 0, 255),
            gen::<u8>(&[2, 3, 2], 5, 0, 255),
        ];
        let outs = run_node(
            "ConvInteger",
            10,
            &ins,
            vec![
                attr("strides", ints(&[4])),
                attr("auto_pad", s("SAME_UPPER")),
            ],
            1,
        )
        .unwrap();
        check::<i32>(
            &outs,
            0,
            &[2, 2, 2],
            &[7035, 9975, 16125, 24105, 20265, 23205, 52035, 60015],
        );
    }

    #[test]
    fn qlinear_conv_per_channel_bias() {
        let ins = [
            gen::<u8>(&[1, 2, 5, 5], 7, 0, 255),
            v::<f32>(&[], &[0.02]),
            v::<u8>(&[], &[128]),
            gen::<i8>(&[4, 1, 3, 3], 5, -128, 127),
            v::<f32>(&[4], &[0.01, 0.02, 0.005, 0.03]),
            v::<i8>(&[4], &[0, 0, 0, 0]),
            v::<f32>(&[], &[0.1]),
            v::<u8>(&[], &[120]),
            v::<i32>(&[4], &[100, -200, 3000, -40000]),
        ];
        let outs = run_node(
            "QLinearConv",
            10,
            &ins,
            vec![
                attr("group", Int(2)),
                attr("pads", ints(&[1, 1, 1, 1])),
                attr("strides", ints(&[2, 2])),
            ],
            1,
        )
        .unwrap();
        check::<u8>(
            &outs,
            0,
            &[1, 4, 3, 3],
            &[
                197, 227, 185, 184, 199, 161, 119, 104, 100, 200, 234, 190, 194, 214, 169, 118,
                102, 95, 123, 121, 121, 117, 119, 120, 129, 132, 129, 0, 4, 0, 0, 0, 0, 0, 0, 0,
            ],
        );
    }

    #[test]
    fn qlinear_conv_int8_same_lower() {
        let ins = [
            gen::<i8>(&[1, 3, 4, 4], 7, -128, 127),
            v::<f32>(&[], &[0.02]),
            v::<i8>(&[], &[-5]),
            gen::<i8>(&[2, 3, 2, 2], 5, -128, 127),
            v::<f32>(&[], &[0.01]),
            v::<i8>(&[], &[0]),
            v::<f32>(&[], &[0.2]),
            v::<i8>(&[], &[3]),
        ];
        let outs = run_node(
            "QLinearConv",
            10,
            &ins,
            vec![
                attr("auto_pad", s("SAME_LOWER")),
                attr("strides", ints(&[1, 2])),
            ],
            1,
        )
        .unwrap();
        check::<i8>(
            &outs,
            0,
            &[1, 2, 4, 2],
            &[13, 6, 45, 29, 54, 38, 22, 6, 12, 10, 22, 16, 21, 15, 9, 3],
        );
    }

    #[test]
    fn bad_parameters_are_errors() {
        let x = || v::<f32>(&[2, 3], &[0.0; 6]);
        let run = |ins: &[Option<Value>], attrs| run_node("QuantizeLinear", 21, ins, attrs, 1);
        // Per-axis scale of the wrong length, zero point shape mismatch, type conflict.
        assert!(run(&[x(), v::<f32>(&[2], &[1.0, 1.0])], vec![]).is_err());
        assert!(run(
            &[x(), v::<f32>(&[3], &[1.0; 3]), v::<u8>(&[1], &[0])],
            vec![]
        )
        .is_err());
        assert!(run(
            &[x(), v::<f32>(&[], &[1.0]), v::<u8>(&[], &[0])],
            vec![attr("output_dtype", Int(3))]
        )
        .is_err());
        // A blocked scale whose blocks do not tile x.
        let bad = vec![attr("axis", Int(1)), attr("block_size", Int(1))];
        assert!(run(&[x(), v::<f32>(&[2, 2], &[1.0; 4])], bad).is_err());
        // float8 outputs hold one code per element (zeros here).
        let o = run(
            &[x(), v::<f32>(&[], &[1.0])],
            vec![attr("output_dtype", Int(17))],
        )
        .unwrap();
        check_sub(&o, 0, ElemType::F8E4M3FN, &[2, 3], &[0; 6]);
        let ins = [v::<u8>(&[2, 3], &[0; 6]), v::<u8>(&[4, 2], &[0; 8])];
        assert!(run_node("MatMulInteger", 10, &ins, vec![], 1).is_err());
    }
}
