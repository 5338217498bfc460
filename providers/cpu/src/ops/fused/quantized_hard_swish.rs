//! QuantizedHardSwish (fused domain): the HardSwish that QDQ models split into
//! HardSigmoid → QuantizeDequantize → Mul → QuantizeDequantize, in one pass
//! with the arithmetic of the four ops.

use ort_core::ElemType::F32;
use ort_core::{Error, Value};

use super::quantize_dequantize::params;
use crate::kernel::{input, one, Ctx, Kernel, NodeInfo, Outputs};
use crate::ops::quant::loops::quantized_hard_swish;
use crate::ops::LATEST;

struct QuantizedHardSwish {
    alpha: f32,
    beta: f32,
}

fn build(info: &NodeInfo<'_, '_>) -> Result<Box<dyn Kernel>, Error> {
    Ok(Box::new(QuantizedHardSwish {
        alpha: info.float("alpha", 0.2)?,
        beta: info.float("beta", 0.5)?,
    }))
}

impl Kernel for QuantizedHardSwish {
    fn compute(&self, inputs: &[Option<&Value>], ctx: &Ctx<'_>) -> Outputs {
        let x = input(inputs, 0)?;
        let gate = params(input(inputs, 1)?, input(inputs, 2)?)?;
        let out = params(input(inputs, 3)?, input(inputs, 4)?)?;
        let xs = x.as_slice::<f32>()?;
        let ab = (self.alpha, self.beta);
        one(ctx.tensor(x.shape(), |o: &mut [f32]| {
            quantized_hard_swish(xs, o, ab, gate, out)
        })?)
    }
}

crate::register!(
    "QuantizedHardSwish",
    "ai.ort_rs.fused",
    [1, LATEST],
    &[F32],
    0,
    build
);
