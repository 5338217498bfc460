//! QLinearLeakyRelu (`com.microsoft`): a 256-entry table of
//! `quantize(LeakyRelu(dequantize(q)))`, as onnxruntime builds it.

use ort_core::ElemType::{I8, U8};
use ort_core::{Error, Value};

use super::{lookup, param, table};
use crate::kernel::{input, one, Ctx, Kernel, NodeInfo, Outputs};

struct QLinearLeakyRelu {
    alpha: f32,
}

impl Kernel for QLinearLeakyRelu {
    fn compute(&self, inputs: &[Option<&Value>], ctx: &Ctx<'_>) -> Outputs {
        let x = input(inputs, 0)?;
        let (xp, yp) = (param(inputs, 1, 2)?, param(inputs, 3, 4)?);
        let a = self.alpha;
        let f = move |v: f32| if v >= 0.0 { v } else { v * a };
        one(match x.elem() {
            U8 => lookup(x, &table::<u8>(xp, yp, f)?, ctx),
            I8 => lookup(x, &table::<i8>(xp, yp, f)?, ctx),
            e => Err(Error::invalid(format!("X must be uint8 or int8, got {e}"))),
        }?)
    }
}

crate::register!(
    "QLinearLeakyRelu",
    "com.microsoft",
    [1, 1],
    &[U8, I8],
    0,
    |info: &NodeInfo<'_, '_>| Ok(Box::new(QLinearLeakyRelu {
        alpha: info.float("alpha", 0.01)?,
    }))
);
