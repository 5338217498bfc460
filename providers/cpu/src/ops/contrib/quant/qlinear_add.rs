//! QLinearAdd (`com.microsoft`): `C = sat(round((A − zA)·sA/sC +
//! (B − zB)·sB/sC + zC))` with numpy broadcasting, computed as MLAS's AVX2 kernel does: the
//! two ratios and the zero points folded into one constant, then two fused
//! multiply-adds per element (a scalar operand joins the constant first).

use ort_core::ElemType::{I8, U8};
use ort_core::{Error, Value};

use super::{param, saturate};
use crate::kernel::{input, one, Ctx, Kernel, Outputs};
use crate::ops::quant::{qrange, QInt};
use crate::util::binary;

struct QLinearAdd;

fn add<T: QInt + Sync>(inputs: &[Option<&Value>], ctx: &Ctx<'_>) -> Outputs {
    let (a, b) = (input(inputs, 0)?, input(inputs, 3)?);
    let (sa, za) = param(inputs, 1, 2)?;
    let (sb, zb) = param(inputs, 4, 5)?;
    let (sc, zc) = param(inputs, 6, 7)?;
    let range = qrange(T::TYPE)?;
    let (ra, rb) = (sa / sc, sb / sc);
    let fixed = zc as f32 - (ra * za as f32 + rb * zb as f32);
    let f = |x: T| x.to_i32() as f32;
    let y = if b.len() == 1 && a.len() != 1 {
        let fixed = fixed + f(b.as_slice::<T>()?[0]) * rb;
        binary(ctx, a, b, |x: T, _: T| {
            T::from_i32(saturate(f(x).mul_add(ra, fixed), range))
        })
    } else if a.len() == 1 && b.len() != 1 {
        let fixed = fixed + f(a.as_slice::<T>()?[0]) * ra;
        binary(ctx, a, b, |_: T, y: T| {
            T::from_i32(saturate(f(y).mul_add(rb, fixed), range))
        })
    } else {
        binary(ctx, a, b, |x: T, y: T| {
            T::from_i32(saturate(f(x).mul_add(ra, f(y).mul_add(rb, fixed)), range))
        })
    }?;
    one(y)
}

impl Kernel for QLinearAdd {
    fn compute(&self, inputs: &[Option<&Value>], ctx: &Ctx<'_>) -> Outputs {
        match input(inputs, 0)?.elem() {
            U8 => add::<u8>(inputs, ctx),
            I8 => add::<i8>(inputs, ctx),
            e => Err(Error::invalid(format!(
                "QLinearAdd takes uint8 or int8, got {e}"
            ))),
        }
    }
}

crate::register!("QLinearAdd", "com.microsoft", [1, 1], &[U8, I8], 0, |_| Ok(
    Box::new(QLinearAdd)
));
