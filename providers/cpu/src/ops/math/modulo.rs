//! Mod. Integers take the divisor's sign (Python's `%`) unless `fmod`, which takes
//! the dividend's (C's `%`); floats with `fmod=0` (allowed from opset 28) follow
//! Python's float `%`, and with `fmod=1` C's `fmod`.

use half::{bf16, f16};
use ort_core::ElemType::*;
use ort_core::{Error, Value};

use crate::kernel::{input, one, Ctx, Kernel, Outputs};
use crate::ops::{LATEST, NUMERIC};
use crate::util::binary;

struct Mod {
    fmod: bool,
}

/// Python's float `%`: the remainder takes the sign of `y`, zero included.
fn py_fmod(x: f64, y: f64) -> f64 {
    let r = x % y;
    if r == 0.0 {
        return 0f64.copysign(y);
    }
    if (r < 0.0) != (y < 0.0) {
        r + y
    } else {
        r
    }
}

/// The remainder of integers widened to i128 (so no quotient overflows).
fn int_mod(a: i128, b: i128, fmod: bool) -> i128 {
    let r = a % b;
    if !fmod && r != 0 && ((r < 0) != (b < 0)) {
        r + b
    } else {
        r
    }
}

impl Kernel for Mod {
    fn compute(&self, inputs: &[Option<&Value>], ctx: &Ctx<'_>) -> Outputs {
        let (a, b) = (input(inputs, 0)?, input(inputs, 1)?);
        let f: fn(f64, f64) -> f64 = if self.fmod { |x, y| x % y } else { py_fmod };
        let fmod = self.fmod;
        one(match a.elem() {
            F32 => binary(ctx, a, b, move |x: f32, y: f32| {
                if fmod {
                    x % y
                } else {
                    f(x as f64, y as f64) as f32
                }
            }),
            F64 => binary(ctx, a, b, f),
            F16 => binary(ctx, a, b, move |x: f16, y: f16| {
                f16::from_f64(f(x.to_f64(), y.to_f64()))
            }),
            BF16 => binary(ctx, a, b, move |x: bf16, y: bf16| {
                bf16::from_f64(f(x.to_f64(), y.to_f64()))
            }),
            e => crate::dispatch_int!(e, T => {
                if b.as_slice::<T>()?.contains(&0) {
                    return Err(Error::invalid("Mod by an integer zero"));
                }
                binary(ctx, a, b, move |x: T, y: T| int_mod(x as i128, y as i128, fmod) as T)
            }),
        }?)
    }
}

crate::register!("Mod", [10, LATEST], NUMERIC, same: [0, 1], |n| Ok(Box::new(Mod {
    fmod: n.int("fmod", 0)? != 0,
})));
