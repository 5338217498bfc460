//! Abs: clears the sign bit of floats, `wrapping_abs` for signed integers (MIN stays
//! MIN), and returns unsigned inputs unchanged.

use ort_core::ElemType::*;
use ort_core::Value;

use crate::kernel::{input, one, Ctx, Kernel, Outputs};
use crate::ops::{LATEST, NUMERIC};
use crate::util::unary;

struct Abs;

impl Kernel for Abs {
    fn compute(&self, inputs: &[Option<&Value>], ctx: &Ctx<'_>) -> Outputs {
        let x = input(inputs, 0)?;
        one(match x.elem() {
            U8 | U16 | U32 | U64 => Ok(x.clone()),
            I8 => unary(ctx, x, |v: i8| v.wrapping_abs()),
            I16 => unary(ctx, x, |v: i16| v.wrapping_abs()),
            I32 => unary(ctx, x, |v: i32| v.wrapping_abs()),
            I64 => unary(ctx, x, |v: i64| v.wrapping_abs()),
            e => {
                crate::dispatch_float!(e, T => unary(ctx, x, |v: T| T::from_bits(v.to_bits() & !(1 << (8 * std::mem::size_of::<T>() - 1)))))
            }
        }?)
    }
}

crate::register!("Abs", [6, LATEST], NUMERIC, |_| Ok(Box::new(Abs)));
