//! DynamicQuantizeLinear: uint8 scale and zero point from the input's range widened to
//! include 0, then round-half-even quantization with saturation.

use ort_core::ElemType::F32;
use ort_core::{Error, Tensor, Value};

use super::loops::{quantize, range_with_zero};
use super::requant;
use crate::kernel::{input, Ctx, Kernel, Outputs};
use crate::ops::LATEST;

struct DynamicQuantizeLinear;

/// `x` quantized to uint8 with the scale and zero point of its range.
pub(crate) fn quantize_u8(x: &Tensor, ctx: &Ctx<'_>) -> Result<(Tensor, f32, u8), Error> {
    let xs = x.as_slice::<f32>()?;
    // The range always includes 0 so that 0 is exactly representable.
    let (lo, hi) = range_with_zero(xs);
    // An all-zero input would give scale 0; like ONNX Runtime, use 1 then.
    let scale = if hi == lo { 1.0 } else { (hi - lo) / 255.0 };
    let zp = requant(-lo / scale, 0, (0, 255));
    let y = ctx.tensor(x.shape(), |o: &mut [u8]| {
        quantize(xs, o, scale, zp, (0, 255))
    })?;
    Ok((y, scale, zp as u8))
}

impl Kernel for DynamicQuantizeLinear {
    fn compute(&self, inputs: &[Option<&Value>], ctx: &Ctx<'_>) -> Outputs {
        let (y, scale, zp) = quantize_u8(input(inputs, 0)?, ctx)?;
        Ok(vec![
            Some(Value::Tensor(y)),
            Some(Value::Tensor(Tensor::scalar(scale))),
            Some(Value::Tensor(Tensor::scalar(zp))),
        ])
    }
}

crate::register!("DynamicQuantizeLinear", [11, LATEST], &[F32], |_| Ok(
    Box::new(DynamicQuantizeLinear)
));
