//! Div: floats divide through f64 (`arith`); integers divide in their own type after
//! rejecting zero divisors, with MIN / -1 wrapping to MIN.

use ort_core::{Error, Value};

use super::arith::arith;
use crate::kernel::{input, one, Ctx, Kernel, Outputs};
use crate::ops::{LATEST, NUMERIC};
use crate::util::binary;

/// Floats divide through `arith`; integers divide in their own type (so u64 stays
/// exact) after checking the divisor has no zero, which ONNX leaves undefined.
struct Div;

impl Kernel for Div {
    fn compute(&self, inputs: &[Option<&Value>], ctx: &Ctx<'_>) -> Outputs {
        let (a, b) = (input(inputs, 0)?, input(inputs, 1)?);
        if a.elem().is_float() {
            return one(arith(ctx, a, b, |x, y| x / y, |x, _| Ok(x))?);
        }
        one(crate::dispatch_int!(a.elem(), T => {
            if b.as_slice::<T>()?.contains(&0) {
                return Err(Error::invalid("integer division by zero"));
            }
            // checked_div fails only for MIN / -1 here, whose wrapped quotient is MIN.
            binary(ctx, a, b, |x: T, y: T| x.checked_div(y).unwrap_or(x))
        })?)
    }
}

crate::register!("Div", [7, LATEST], NUMERIC, same: [0, 1], |_| Ok(Box::new(Div)));
