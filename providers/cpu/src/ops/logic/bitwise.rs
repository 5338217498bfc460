//! BitwiseAnd, BitwiseOr, BitwiseXor (one broadcasting loop over the bits
//! widened to u64) and BitwiseNot.

use ort_core::ElemType::{self, *};
use ort_core::Value;

use crate::kernel::{input, one, Ctx, Kernel, Outputs};
use crate::ops::LATEST;
use crate::util::{binary, unary};

/// Integer element types.
pub(crate) const INTS: &[ElemType] = &[I8, I16, I32, I64, U8, U16, U32, U64];

/// A broadcasting bitwise op, applied to the bits widened to u64 (the low bits of
/// And/Or/Xor do not depend on the high ones, so narrowing back is exact).
struct Bitwise(pub fn(u64, u64) -> u64);

impl Kernel for Bitwise {
    // `x as u64` is a no-op for u64 itself.
    #[allow(clippy::unnecessary_cast)]
    fn compute(&self, inputs: &[Option<&Value>], ctx: &Ctx<'_>) -> Outputs {
        let (a, b) = (input(inputs, 0)?, input(inputs, 1)?);
        let f = self.0;
        one(
            crate::dispatch_int!(a.elem(), T => binary(ctx, a, b, move |x: T, y: T| f(x as u64, y as u64) as T))?,
        )
    }
}

crate::register!("BitwiseAnd", [18, LATEST], INTS, same: [0, 1], |_| Ok(Box::new(Bitwise(|a, b| a & b))));
crate::register!("BitwiseOr", [18, LATEST], INTS, same: [0, 1], |_| Ok(Box::new(Bitwise(|a, b| a | b))));
crate::register!("BitwiseXor", [18, LATEST], INTS, same: [0, 1], |_| Ok(Box::new(Bitwise(|a, b| a ^ b))));

struct BitwiseNot;

impl Kernel for BitwiseNot {
    fn compute(&self, inputs: &[Option<&Value>], ctx: &Ctx<'_>) -> Outputs {
        let x = input(inputs, 0)?;
        one(crate::dispatch_int!(x.elem(), T => unary(ctx, x, |v: T| !v))?)
    }
}

crate::register!("BitwiseNot", [18, LATEST], INTS, |_| Ok(Box::new(
    BitwiseNot
)));
