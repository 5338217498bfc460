//! QuantizeLinear: `saturate(round_half_even(x / scale) + zero_point)` per tensor, axis
//! or block; float8 and float4 targets are encoded from x / scale by `MiniFloat`.

use half::{bf16, f16};
use ort_core::ElemType::{self, *};
use ort_core::{Error, Value};

use super::loops::quantize;
use super::{
    check_zero_point, dtype_attr, floats, ints, qrange, requant, retag, storage, ParamLayout, QInt,
};
use crate::kernel::{input, one, opt_input, Ctx, Kernel, NodeInfo, Outputs};
use crate::ops::math::convert::{from_codes, small_floats, MiniFloat};
use crate::ops::LATEST;

struct QuantizeLinear {
    axis: i64,
    block: i64,
    output_dtype: Option<ElemType>,
    /// The type `x / scale` is rounded to before quantizing (default: the scale's).
    precision: Option<ElemType>,
    /// Float8 targets: clamp out-of-range values (else they become NaN or infinity).
    saturate: bool,
}

impl Kernel for QuantizeLinear {
    fn compute(&self, inputs: &[Option<&Value>], ctx: &Ctx<'_>) -> Outputs {
        let (x, scale, zp) = (input(inputs, 0)?, input(inputs, 1)?, opt_input(inputs, 2)?);
        let out = match (zp.map(|z| z.elem()), self.output_dtype) {
            (Some(z), Some(o)) if z != o => {
                return Err(Error::invalid(format!(
                    "output_dtype {o} differs from the zero point's type {z}"
                )))
            }
            (Some(t), _) | (None, Some(t)) => t,
            (None, None) => U8,
        };
        if let Some(z) = zp {
            check_zero_point(z, scale)?;
        }
        let layout = ParamLayout::new(x.shape(), scale.shape(), self.axis, self.block)?;
        let (xs, sc) = (floats(x)?, floats(scale)?);
        let precision = self.precision.unwrap_or(scale.elem());
        let narrow: fn(f32) -> f32 = match precision {
            F16 => |v| f16::from_f32(v).to_f32(),
            BF16 => |v| bf16::from_f32(v).to_f32(),
            _ => |v| v,
        };
        let exact = !matches!(precision, F16 | BF16);
        if let Some(fmt) = MiniFloat::of(out) {
            // Float targets: round x / scale (+ zero point, normally 0) to the format.
            let zps = match zp {
                Some(z) => small_floats(z)?,
                None => vec![0.0; scale.len()],
            };
            let mut codes = vec![0u8; xs.len()];
            layout.for_each(xs.len(), |run, s0, step| {
                for (j, i) in run.enumerate() {
                    let s = s0 + j * step;
                    let v = narrow(xs[i] / sc[s]) + zps[s];
                    codes[i] = fmt.encode(v as f64, self.saturate);
                }
            });
            return one(from_codes(ctx, out, x.shape(), |i| codes[i])?);
        }
        let range = qrange(out)?;
        let zps = match zp {
            Some(z) => ints(z)?,
            None => vec![0; scale.len()],
        };
        let store = storage(out).unwrap_or(out);
        let t = dispatch_q!(store, T => ctx.tensor(x.shape(), |o: &mut [T]| {
            layout.for_each(o.len(), |run, s0, step| {
                if step == 0 && exact {
                    return quantize(&xs[run.clone()], &mut o[run], sc[s0], zps[s0], range);
                }
                for (j, i) in run.enumerate() {
                    let s = s0 + j * step;
                    o[i] = T::from_i32(requant(narrow(xs[i] / sc[s]), zps[s], range));
                }
            })
        }))?;
        one(retag(&t, out)?)
    }
}

pub(crate) fn build(info: &NodeInfo<'_, '_>) -> Result<Box<dyn Kernel>, Error> {
    Ok(Box::new(QuantizeLinear {
        axis: info.int("axis", 1)?,
        block: info.int("block_size", 0)?,
        output_dtype: dtype_attr(info, "output_dtype")?,
        precision: dtype_attr(info, "precision")?,
        saturate: info.int("saturate", 1)? != 0,
    }))
}

crate::register!(
    "QuantizeLinear",
    [10, LATEST],
    &[F32, F16, BF16, I32],
    build
);
