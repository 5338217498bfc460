//! QLinearSoftmax (`com.microsoft`), bit for bit as onnxruntime computes it: a
//! 256-entry f32 table of `exp((i - 255 + shift) · x_scale)`, the shift keeping a
//! row's sum finite; per row the table is aligned so the row's maximum reads entry
//! 255, the entries summed in f32, and each output `round(e · ⌊1 / y_scale⌋ / sum) +
//! y_zp`, saturated. Opset < 13 softmaxes over the axes from `axis` on; 13 and
//! later over `axis` alone.

use ort_core::ElemType::{I8, U8};
use ort_core::{Error, Value};

use super::{move_axis, param};
use crate::kernel::{input, one, Ctx, Kernel, NodeInfo, Outputs};
use crate::ops::quant::{floats, scalar, QInt};

struct QLinearSoftmax {
    axis: i64,
    opset: i64,
}

/// The exponent table for rows of `len` elements; signed inputs index it by the
/// byte of `i - 128`.
fn table(x_scale: f32, len: usize, signed: bool) -> [f32; 256] {
    let shift = ((f32::MAX / len as f32) as f64).ln();
    let shift = (shift - 5.0).max(0.0) / x_scale as f64;
    let mut t = [0f32; 256];
    for i in 0..256i32 {
        let e = ((i as f64 - 255.0 + shift) * x_scale as f64).exp();
        let at = if signed { (i - 128) as u8 } else { i as u8 };
        t[at as usize] = e as f32;
    }
    t
}

impl QLinearSoftmax {
    fn run<T: QInt>(&self, inputs: &[Option<&Value>], ctx: &Ctx<'_>) -> Outputs {
        let x = input(inputs, 0)?;
        let xs = scalar(&floats(input(inputs, 1)?)?, "X scale")?;
        let (ys, yz) = param(inputs, 3, 4)?;
        let rank = x.rank() as i64;
        if rank == 0 || !(-rank..rank).contains(&self.axis) {
            return Err(Error::invalid(format!(
                "axis {} is out of range for shape {:?}",
                self.axis,
                x.shape()
            )));
        }
        let axis = self.axis.rem_euclid(rank) as usize;
        let last = x.rank() - 1;
        let moved;
        let (xt, len) = if self.opset < 13 {
            (x, x.shape()[axis..].iter().product::<i64>() as usize)
        } else if axis != last {
            moved = move_axis(x, axis, last, ctx)?;
            (&moved, x.shape()[axis] as usize)
        } else {
            (x, x.shape()[axis] as usize)
        };
        let t = table(xs, len.max(1), T::SIGNED);
        let y_scale = (1.0f32 / ys).floor();
        let q = xt.as_slice::<T>()?;
        let y = ctx.tensor(xt.shape(), |o: &mut [T]| {
            for (row, out) in q.chunks(len.max(1)).zip(o.chunks_mut(len.max(1))) {
                let max = row.iter().map(|v| v.to_i32()).max().unwrap_or(0);
                // The row's maximum reads the table's largest entry.
                let at = |v: i32| {
                    if T::SIGNED {
                        ((127 - max + v) as u8) as usize
                    } else {
                        (255 - max + v) as usize
                    }
                };
                let sum = row.iter().fold(0f32, |s, v| s + t[at(v.to_i32())]);
                for (o, v) in out.iter_mut().zip(row) {
                    let r = if sum == 0.0 {
                        0
                    } else {
                        (t[at(v.to_i32())] * y_scale / sum).round_ties_even() as i32
                    };
                    let (lo, hi) = if T::SIGNED { (-128, 127) } else { (0, 255) };
                    *o = T::from_i32((r + yz).clamp(lo, hi));
                }
            }
        })?;
        if self.opset >= 13 && axis != last {
            one(move_axis(&y, last, axis, ctx)?)
        } else {
            one(y)
        }
    }
}

impl Kernel for QLinearSoftmax {
    fn compute(&self, inputs: &[Option<&Value>], ctx: &Ctx<'_>) -> Outputs {
        match input(inputs, 0)?.elem() {
            U8 => self.run::<u8>(inputs, ctx),
            I8 => self.run::<i8>(inputs, ctx),
            e => Err(Error::invalid(format!("X must be uint8 or int8, got {e}"))),
        }
    }
}

crate::register!(
    "QLinearSoftmax",
    "com.microsoft",
    [1, 1],
    &[U8, I8],
    0,
    |info: &NodeInfo<'_, '_>| {
        let opset = info.int("opset", -1)?;
        if opset < 0 {
            return Err(Error::invalid("QLinearSoftmax needs its opset attribute"));
        }
        Ok(Box::new(QLinearSoftmax {
            axis: info.int("axis", if opset < 13 { 1 } else { -1 })?,
            opset,
        }))
    }
);
