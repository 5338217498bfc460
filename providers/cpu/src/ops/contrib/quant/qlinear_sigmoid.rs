//! QLinearSigmoid (`com.microsoft`): a 256-entry table of
//! `quantize(sigmoid(dequantize(q)))`, the sigmoid being MLAS's rational
//! approximation (odd polynomial over even polynomial on [-18, 18], with fused
//! multiply-adds) so that the table matches onnxruntime's.

use ort_core::ElemType::{I8, U8};
use ort_core::{Error, Value};

use super::{lookup, param, table};
use crate::kernel::{input, one, Ctx, Kernel, Outputs};

/// MLAS's logistic function (its constants as it writes them).
#[allow(clippy::excessive_precision)]
fn logistic(x: f32) -> f32 {
    let x = x.clamp(-18.0, 18.0);
    let x2 = x * x;
    let p = 4.370_310_125_798_01e-11f32
        .mul_add(x2, 1.156_273_244_599_42e-7)
        .mul_add(x2, 6.085_748_646_001_43e-5)
        .mul_add(x2, 8.513_771_333_047_01e-3)
        .mul_add(x2, 2.482_879_470_615_29e-1)
        * x;
    let q = 6.102_473_897_556_81e-13f32
        .mul_add(x2, 5.761_021_369_934_27e-9)
        .mul_add(x2, 6.291_067_850_170_40e-6)
        .mul_add(x2, 1.701_988_173_740_94e-3)
        .mul_add(x2, 1.168_176_569_044_53e-1)
        .mul_add(x2, 9.931_519_210_231_80e-1);
    (p / q + 0.5).clamp(0.0, 1.0)
}

struct QLinearSigmoid;

impl Kernel for QLinearSigmoid {
    fn compute(&self, inputs: &[Option<&Value>], ctx: &Ctx<'_>) -> Outputs {
        let x = input(inputs, 0)?;
        let (xp, yp) = (param(inputs, 1, 2)?, param(inputs, 3, 4)?);
        one(match x.elem() {
            U8 => lookup(x, &table::<u8>(xp, yp, logistic)?, ctx),
            I8 => lookup(x, &table::<i8>(xp, yp, logistic)?, ctx),
            e => Err(Error::invalid(format!("X must be uint8 or int8, got {e}"))),
        }?)
    }
}

crate::register!(
    "QLinearSigmoid",
    "com.microsoft",
    [1, 1],
    &[U8, I8],
    0,
    |_| Ok(Box::new(QLinearSigmoid))
);
