//! Shared pieces of the Bitwise* ops.

use ort_core::ElemType::{self, *};
use ort_core::{Error, Value};

use crate::kernel::{input, one, Ctx, Kernel, Outputs};
use crate::util::binary;

/// Integer element types.
pub(crate) const INTS: &[ElemType] = &[I8, I16, I32, I64, U8, U16, U32, U64];

/// A broadcasting bitwise op, applied to the bits widened to u64 (the low bits of
/// And/Or/Xor do not depend on the high ones, so narrowing back is exact).
pub(crate) struct Bitwise(pub fn(u64, u64) -> u64);

impl Kernel for Bitwise {
    // `x as u64` is a no-op for u64 itself.
    #[allow(clippy::unnecessary_cast)]
    fn compute(&self, inputs: &[Option<&Value>], ctx: &Ctx<'_>) -> Outputs {
        let (a, b) = (input(inputs, 0)?, input(inputs, 1)?);
        if a.elem() != b.elem() {
            return Err(Error::invalid(format!(
                "input types differ: {} and {}",
                a.elem(),
                b.elem()
            )));
        }
        let f = self.0;
        one(
            crate::dispatch_int!(a.elem(), T => binary(ctx, a, b, move |x: T, y: T| f(x as u64, y as u64) as T))?,
        )
    }
}
