//! BitShift: broadcasting `<<` or `>>` in the element's own type (arithmetic right shift
//! for signed ones); shifts outside [0, bit width) leave only the sign fill.

use ort_core::{Error, Value};

use super::bitwise::INTS;
use crate::kernel::{input, one, Ctx, Kernel, Outputs};
use crate::ops::LATEST;
use crate::util::binary;

/// Shifts `x` by `y` bits; right shifts of signed types sign-extend, and a shift
/// that is negative or at least the bit width leaves only the sign fill.
struct BitShift {
    left: bool,
}

impl Kernel for BitShift {
    fn compute(&self, inputs: &[Option<&Value>], ctx: &Ctx<'_>) -> Outputs {
        let (x, y) = (input(inputs, 0)?, input(inputs, 1)?);
        let left = self.left;
        one(
            crate::dispatch_int!(x.elem(), T => binary(ctx, x, y, move |v: T, s: T| {
                let s = s as i128;
                if !(0..T::BITS as i128).contains(&s) {
                    // Only the sign fill is left: -1 for a right shift of a negative x.
                    if !left && (v as i128) < 0 { !(0 as T) } else { 0 as T }
                } else if left {
                    v << s as u32
                } else {
                    v >> s as u32
                }
            }))?,
        )
    }
}

crate::register!("BitShift", [11, LATEST], INTS, same: [0, 1], |n| {
    let d = n.string("direction", "")?;
    let left = match d.as_str() {
        "LEFT" => true,
        "RIGHT" => false,
        _ => {
            return Err(Error::invalid(format!(
                "BitShift direction must be LEFT or RIGHT, got {d:?}"
            )))
        }
    };
    Ok(Box::new(BitShift { left }))
});
