//! QLinearMul (`com.microsoft`): `C = sat(round((A − zA)·(B − zB)·(sA·sB/sC) +
//! zC))` with numpy broadcasting: the integer product exact, then one multiply
//! and one add in float32, as MLAS computes it.

use ort_core::ElemType::{I8, U8};
use ort_core::{Error, Value};

use super::{param, saturate};
use crate::kernel::{input, one, Ctx, Kernel, Outputs};
use crate::ops::quant::{qrange, QInt};
use crate::util::binary;

struct QLinearMul;

fn mul<T: QInt + Sync>(inputs: &[Option<&Value>], ctx: &Ctx<'_>) -> Outputs {
    let (a, b) = (input(inputs, 0)?, input(inputs, 3)?);
    let (sa, za) = param(inputs, 1, 2)?;
    let (sb, zb) = param(inputs, 4, 5)?;
    let (sc, zc) = param(inputs, 6, 7)?;
    let range = qrange(T::TYPE)?;
    let ratio = sa * sb / sc;
    let zc = zc as f32;
    one(binary(ctx, a, b, |x: T, y: T| {
        let p = (x.to_i32() - za) * (y.to_i32() - zb);
        T::from_i32(saturate(p as f32 * ratio + zc, range))
    })?)
}

impl Kernel for QLinearMul {
    fn compute(&self, inputs: &[Option<&Value>], ctx: &Ctx<'_>) -> Outputs {
        match input(inputs, 0)?.elem() {
            U8 => mul::<u8>(inputs, ctx),
            I8 => mul::<i8>(inputs, ctx),
            e => Err(Error::invalid(format!(
                "QLinearMul takes uint8 or int8, got {e}"
            ))),
        }
    }
}

crate::register!("QLinearMul", "com.microsoft", [1, 1], &[U8, I8], 0, |_| Ok(
    Box::new(QLinearMul)
));
