//! Pow: `powf` for f32 and f64 (a plain square for a scalar exponent 2), wrapping i64
//! integer powers for integer pairs, and other type mixes through f64 `powf`.

use ort_core::ElemType::{self, *};
use ort_core::{Error, Tensor, Value};

use crate::kernel::{input, one, Ctx, Kernel, Outputs};
use crate::ops::LATEST;
use crate::util::{binary, Num};

/// The base decides the output type; the exponent may be any numeric type.
struct Pow;

/// Integer power in i64 with wrapping; negative exponents truncate toward zero.
fn ipow(x: i64, y: i64) -> i64 {
    match (x, y) {
        (_, 0..) => x.wrapping_pow(y.min(u32::MAX as i64) as u32),
        (1, _) => 1,
        (-1, _) => {
            if y % 2 == 0 {
                1
            } else {
                -1
            }
        }
        _ => 0,
    }
}

fn widen(t: &Tensor, to_f64: bool) -> Result<Tensor, Error> {
    if to_f64 {
        let v: Vec<f64> = crate::dispatch_numeric!(t.elem(), T => Ok::<_, Error>(t.as_slice::<T>()?.iter().map(|v| v.to_f64()).collect()))?;
        Tensor::from_vec(t.shape(), v)
    } else {
        Tensor::from_vec(t.shape(), t.to_i64_vec()?)
    }
}

impl Kernel for Pow {
    // `x as i64` is a no-op for i64 bases.
    #[allow(clippy::unnecessary_cast)]
    fn compute(&self, inputs: &[Option<&Value>], ctx: &Ctx<'_>) -> Outputs {
        let (a, b) = (input(inputs, 0)?, input(inputs, 1)?);
        one(match (a.elem(), b.elem()) {
            (F32, F32) if b.len() == 1 && b.as_slice::<f32>()?[0] == 2.0 => {
                binary(ctx, a, b, |x: f32, _: f32| x * x)
            }
            (F32, F32) => binary(ctx, a, b, |x: f32, y: f32| x.powf(y)),
            (F64, F64) => binary(ctx, a, b, |x: f64, y: f64| x.powf(y)),
            (I32 | I64, e) if !e.is_float() && e != Bool => {
                let e = widen(b, false)?;
                crate::dispatch_int!(a.elem(), T => binary(ctx, a, &e, |x: T, y: i64| ipow(x as i64, y) as T))
            }
            (F32 | F64 | F16 | BF16 | I32 | I64, _) => {
                let e = widen(b, true)?;
                crate::dispatch_numeric!(a.elem(), T => binary(ctx, a, &e, |x: T, y: f64| T::from_f64(x.to_f64().powf(y))))
            }
            (e, _) => Err(Error::not_implemented(format!(
                "Pow of a {e} base is not supported"
            ))),
        }?)
    }
}

const BASES: &[ElemType] = &[F32, F64, F16, BF16, I32, I64];

crate::register!("Pow", [7, LATEST], BASES, |_| Ok(Box::new(Pow)));
