//! DequantizeLinear: `(x - zero_point) · scale` in f32 per tensor, axis or block, rounded
//! once to the output type; results of all-constant inputs are cached.

use half::{bf16, f16};
use ort_core::ElemType::{self, *};
use std::sync::OnceLock;

use ort_core::{Error, Tensor, Value};

use super::loops::dequantize;
use super::{check_zero_point, dtype_attr, floats, ints, stored, FromF32, ParamLayout, QInt};
use crate::kernel::{input, one, opt_input, ConstId, Ctx, Kernel, NodeInfo, Outputs};
use crate::ops::math::convert::{is_small_float, small_floats};
use crate::ops::LATEST;

struct DequantizeLinear {
    axis: i64,
    block: i64,
    output_dtype: Option<ElemType>,
    /// Every input is an initializer: the result is the same on every run. QDQ
    /// models dequantize each weight this way; the first run's result is kept.
    constant: Option<Vec<Option<ConstId>>>,
    cache: OnceLock<Tensor>,
}

impl Kernel for DequantizeLinear {
    fn compute(&self, inputs: &[Option<&Value>], ctx: &Ctx<'_>) -> Outputs {
        let same = |ids: &Vec<Option<ConstId>>| {
            ids.iter()
                .enumerate()
                .all(|(i, id)| match (id, inputs.get(i).copied().flatten()) {
                    (None, None) => true,
                    (Some(id), Some(Value::Tensor(t))) => id.matches(t),
                    _ => false,
                })
        };
        if !self.constant.as_ref().is_some_and(same) {
            return self.dequantize(inputs, ctx);
        }
        if let Some(t) = self.cache.get() {
            return one(t.clone());
        }
        let out = self.dequantize(inputs, ctx)?;
        if let Some(Some(Value::Tensor(t))) = out.first() {
            // A copy of its own: the run's arena memory goes back after the run.
            let _ = self.cache.set(t.deep_copy()?);
        }
        Ok(out)
    }
}

impl DequantizeLinear {
    fn dequantize(&self, inputs: &[Option<&Value>], ctx: &Ctx<'_>) -> Outputs {
        let (x, scale, zp) = (input(inputs, 0)?, input(inputs, 1)?, opt_input(inputs, 2)?);
        if let Some(z) = zp {
            if z.elem() != x.elem() {
                return Err(Error::invalid(format!(
                    "zero point type {} must match x's type {}",
                    z.elem(),
                    x.elem()
                )));
            }
            check_zero_point(z, scale)?;
        }
        let layout = ParamLayout::new(x.shape(), scale.shape(), self.axis, self.block)?;
        let sc = floats(scale)?;
        let out_type = match (self.output_dtype, scale.elem()) {
            (Some(t), _) => t,
            (None, F8E8M0) => F32,
            (None, t) => t,
        };
        if is_small_float(x.elem()) {
            // Float inputs: (x - zero point) * scale, in f32.
            let xv = small_floats(x)?;
            let zps = match zp {
                Some(z) => small_floats(z)?,
                None => vec![0.0; scale.len()],
            };
            let deq = |o: &mut [f32]| {
                layout.for_each(xv.len(), |run, s0, step| {
                    for (j, i) in run.enumerate() {
                        let s = s0 + j * step;
                        o[i] = (xv[i] - zps[s]) * sc[s];
                    }
                })
            };
            return one(match out_type {
                F32 => ctx.tensor(x.shape(), |o: &mut [f32]| deq(o)),
                F16 => fill::<f16>(ctx, x.shape(), deq),
                BF16 => fill::<bf16>(ctx, x.shape(), deq),
                e => Err(Error::invalid(format!(
                    "DequantizeLinear cannot produce {e}"
                ))),
            }?);
        }
        let zps = match zp {
            Some(z) => ints(z)?,
            None => vec![0; scale.len()],
        };
        let xs = stored(x)?;
        let t = dispatch_q!(xs.elem(), T => {
            let xv = xs.as_slice::<T>()?;
            let deq = |o: &mut [_]| layout.for_each(xv.len(), |run, s0, step| {
                // (int32 inputs take the slow path, which subtracts in i64.)
                if step == 0 && std::mem::size_of::<T>() < 4 {
                    return dequantize(&xv[run.clone()], &mut o[run], sc[s0], zps[s0]);
                }
                for (j, i) in run.enumerate() {
                    let s = s0 + j * step;
                    o[i] = ((xv[i].to_i32() as i64 - zps[s] as i64) as f32) * sc[s];
                }
            });
            match out_type {
                F32 => ctx.tensor(x.shape(), |o: &mut [f32]| deq(o)),
                F16 => fill::<f16>(ctx, x.shape(), deq),
                BF16 => fill::<bf16>(ctx, x.shape(), deq),
                e => Err(Error::invalid(format!("DequantizeLinear cannot produce {e}"))),
            }
        })?;
        one(t)
    }
}

/// Dequantizes in f32, then rounds once to the output type.
fn fill<T: FromF32>(
    ctx: &Ctx<'_>,
    shape: &[i64],
    deq: impl Fn(&mut [f32]),
) -> Result<ort_core::Tensor, Error> {
    let mut tmp = vec![0f32; shape.iter().product::<i64>() as usize];
    deq(&mut tmp);
    ctx.tensor(shape, |o: &mut [T]| {
        o.iter_mut()
            .zip(&tmp)
            .for_each(|(o, &v)| *o = T::from_f32(v))
    })
}

pub(crate) fn build(info: &NodeInfo<'_, '_>) -> Result<Box<dyn Kernel>, Error> {
    Ok(Box::new(DequantizeLinear {
        axis: info.int("axis", 1)?,
        block: info.int("block_size", 0)?,
        output_dtype: dtype_attr(info, "output_dtype")?,
        constant: (0..info.num_inputs())
            .map(|i| match info.input_name(i) {
                None => Some(None),
                Some(_) => info.constant_with_id(i).map(|(_, id)| Some(id)),
            })
            .collect(),
        cache: OnceLock::new(),
    }))
}

crate::register!(
    "DequantizeLinear",
    [10, LATEST],
    &[I8, U8, I16, U16, I32, I4, U4, I2, U2, F8E4M3FN, F8E4M3FNUZ, F8E5M2, F8E5M2FNUZ, F4E2M1],
    build
);
