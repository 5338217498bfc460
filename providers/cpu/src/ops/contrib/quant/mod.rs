//! onnxruntime's quantized contrib ops (`com.microsoft`), with the arithmetic
//! of its CPU kernels (MLAS): float32 scale ratios, round half to even, and
//! saturation to the output type.

mod dequantize_linear;
mod gather_block_quantized;
mod matmul_nbits;
mod nhwc_max_pool;
mod qgemm;
mod qlinear_add;
mod qlinear_average_pool;
mod qlinear_concat;
mod qlinear_conv;
mod qlinear_global_average_pool;
mod qlinear_leaky_relu;
mod qlinear_mul;
mod qlinear_sigmoid;
mod qlinear_softmax;
mod qlinear_where;
mod quantize_linear;

use ort_core::ElemType::{I8, U8};
use ort_core::{Element, Error, Tensor, Value};

use crate::kernel::{input, one, opt_input, Ctx, Kernel, Outputs};
use crate::ops::quant::{floats, ints, qrange, scalar, QInt};
use crate::util::view;

/// A per-tensor scale and zero point from inputs `s` and `z` (0 when `z` is
/// left out).
fn param(inputs: &[Option<&Value>], s: usize, z: usize) -> Result<(f32, i32), Error> {
    let scale = scalar(&floats(input(inputs, s)?)?, "scale")?;
    let zp = match opt_input(inputs, z)? {
        Some(t) => scalar(&ints(t)?, "zero point")?,
        None => 0,
    };
    Ok((scale, zp))
}

/// `t` with its axes in the order `perm`.
fn permuted<T: Element + Copy + ort_core::PodElement>(
    t: &Tensor,
    perm: &[usize],
    ctx: &Ctx<'_>,
) -> Result<Tensor, Error> {
    let v = view::<T>(t)?.permuted_axes(perm);
    let shape: Vec<i64> = v.shape().iter().map(|&d| d as i64).collect();
    let data: Vec<T> = v.iter().copied().collect();
    ctx.tensor_from(&shape, &data)
}

/// Moves axis `from` of `t` to position `to`.
pub(super) fn move_axis(
    t: &Tensor,
    from: usize,
    to: usize,
    ctx: &Ctx<'_>,
) -> Result<Tensor, Error> {
    let mut perm: Vec<usize> = (0..t.rank()).filter(|&a| a != from).collect();
    perm.insert(to, from);
    match t.elem() {
        U8 => permuted::<u8>(t, &perm, ctx),
        I8 => permuted::<i8>(t, &perm, ctx),
        e => Err(Error::invalid(format!("expected uint8 or int8, got {e}"))),
    }
}

/// `kernel` run on NHWC input 0 as on NCHW: X's last axis moved to axis 1 before,
/// and the output's axis 1 moved last after (the other inputs pass as they are).
pub(super) fn around_nchw(
    kernel: &dyn Kernel,
    inputs: &[Option<&Value>],
    ctx: &Ctx<'_>,
) -> Outputs {
    let x = input(inputs, 0)?;
    if x.rank() < 3 {
        return Err(Error::invalid(format!(
            "X must have rank 3 or more, got shape {:?}",
            x.shape()
        )));
    }
    let nchw = Value::Tensor(move_axis(x, x.rank() - 1, 1, ctx)?);
    let mut args = inputs.to_vec();
    args[0] = Some(&nchw);
    let mut y = kernel.compute(&args, ctx)?;
    let t = match y.first_mut().and_then(|v| v.take()) {
        Some(Value::Tensor(t)) => t,
        _ => return Err(Error::invalid("the NCHW kernel gave no tensor")),
    };
    one(move_axis(&t, 1, t.rank() - 1, ctx)?)
}

/// `v` rounded half to even and saturated to `range` (NaN to its low end, as
/// MLAS's min/max order gives).
#[inline]
fn saturate(v: f32, (lo, hi): (i32, i32)) -> i32 {
    if v.is_nan() {
        return lo;
    }
    v.round_ties_even().clamp(lo as f32, hi as f32) as i32
}

/// The 256-entry table `quantize(f(dequantize(q)), y)` indexed by the byte of
/// `q`, how onnxruntime computes its lookup-table ops.
fn table<T: QInt>(x: (f32, i32), y: (f32, i32), f: impl Fn(f32) -> f32) -> Result<[T; 256], Error> {
    let range = qrange(T::TYPE)?;
    let mut t = [T::from_i32(0); 256];
    for (i, e) in t.iter_mut().enumerate() {
        let q = if T::SIGNED {
            i as u8 as i8 as i32
        } else {
            i as i32
        };
        let v = f(x.0 * (q - x.1) as f32);
        *e = T::from_i32(saturate(v / y.0, (range.0 - y.1, range.1 - y.1)) + y.1);
    }
    Ok(t)
}

/// The `j`-th `bits`-wide value of `packed` (2, 4 or 8 bits), low bits
/// first, as MatMulNBits and GatherBlockQuantized pack weights.
#[inline]
fn unpack(packed: &[u8], j: usize, bits: usize) -> u8 {
    let per = 8 / bits;
    (packed[j / per] >> ((j % per) * bits)) & ((1u16 << bits) - 1) as u8
}

/// A u8 or i8 element read as its table index.
trait Byte: QInt {
    fn byte(self) -> usize;
}
impl Byte for u8 {
    fn byte(self) -> usize {
        self as usize
    }
}
impl Byte for i8 {
    fn byte(self) -> usize {
        self as u8 as usize
    }
}

/// Maps every element of `x` through `table` into a tensor of x's shape.
fn lookup<T: Byte>(
    x: &Tensor,
    table: &[T; 256],
    ctx: &crate::kernel::Ctx<'_>,
) -> Result<Tensor, Error> {
    let xv = x.as_slice::<T>()?;
    ctx.tensor(x.shape(), |o: &mut [T]| {
        for (o, &v) in o.iter_mut().zip(xv) {
            *o = table[v.byte()];
        }
    })
}
