//! QuantizeDequantize (fused domain): QuantizeLinear then DequantizeLinear with
//! one scale and zero point, `Y = (saturate(round(X / scale) + zp) - zp) · scale`,
//! computed in one pass with the arithmetic of the two ops.

use ort_core::ElemType::{F32, I8, U8};
use ort_core::{Error, Tensor, Value};

use crate::kernel::{input, one, Ctx, Kernel, NodeInfo, Outputs};
use crate::ops::quant::loops::{round_trip, RoundTrip};
use crate::ops::LATEST;

struct QuantizeDequantize;

fn build(_: &NodeInfo<'_, '_>) -> Result<Box<dyn Kernel>, Error> {
    Ok(Box::new(QuantizeDequantize))
}

impl Kernel for QuantizeDequantize {
    fn compute(&self, inputs: &[Option<&Value>], ctx: &Ctx<'_>) -> Outputs {
        let x = input(inputs, 0)?;
        let (s, z, range) = params(input(inputs, 1)?, input(inputs, 2)?)?;
        let xs = x.as_slice::<f32>()?;
        one(ctx.tensor(x.shape(), |o: &mut [f32]| round_trip(xs, o, s, z, range))?)
    }
}

/// One float32 scale and one uint8 or int8 zero point: the scale, the zero
/// point and the integer type's range.
pub(super) fn params(scale: &Tensor, zp: &Tensor) -> Result<RoundTrip, Error> {
    if scale.len() != 1 || zp.len() != 1 || scale.elem() != F32 {
        return Err(Error::invalid(format!(
            "a round trip takes one float32 scale and one zero point, got {} {:?} and {} {:?}",
            scale.elem(),
            scale.shape(),
            zp.elem(),
            zp.shape()
        )));
    }
    let s = scale.as_slice::<f32>()?[0];
    match zp.elem() {
        U8 => Ok((s, zp.as_slice::<u8>()?[0] as i32, (0, 255))),
        I8 => Ok((s, zp.as_slice::<i8>()?[0] as i32, (-128, 127))),
        e => Err(Error::invalid(format!(
            "a round trip takes a uint8 or int8 zero point, got {e}"
        ))),
    }
}

crate::register!(
    "QuantizeDequantize",
    "ai.ort_rs.fused",
    [1, LATEST],
    &[F32],
    0,
    build
);
