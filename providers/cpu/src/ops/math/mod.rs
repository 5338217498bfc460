//! Elementwise arithmetic and math functions.

mod add;
mod relu;

use ort_core::{Error, Tensor, Value};

use crate::kernel::{input, one, Ctx, Kernel};
use crate::util::binary;

/// A binary arithmetic kernel over numeric types, given one closure per kind so
/// integer semantics (wrapping, truncating division) stay exact.
pub(crate) struct Arith {
    pub f: fn(f64, f64) -> f64,
    pub i: fn(i64, i64) -> Result<i64, Error>,
}

impl Kernel for Arith {
    fn compute(&self, inputs: &[Option<&Value>], ctx: &Ctx<'_>) -> Result<Vec<Option<Value>>, Error> {
        let (a, b) = (input(inputs, 0)?, input(inputs, 1)?);
        if a.elem() != b.elem() {
            return Err(Error::invalid(format!("input types differ: {} and {}", a.elem(), b.elem())));
        }
        one(arith(ctx, a, b, self.f, self.i)?)
    }
}

pub(crate) fn arith(
    ctx: &Ctx<'_>,
    a: &Tensor,
    b: &Tensor,
    f: fn(f64, f64) -> f64,
    i: fn(i64, i64) -> Result<i64, Error>,
) -> Result<Tensor, Error> {
    use half::{bf16, f16};
    use ort_core::ElemType::*;
    match a.elem() {
        F32 => binary(ctx, a, b, |x: f32, y: f32| f(x as f64, y as f64) as f32),
        F64 => binary(ctx, a, b, f),
        F16 => binary(ctx, a, b, |x: f16, y: f16| f16::from_f64(f(x.to_f64(), y.to_f64()))),
        BF16 => binary(ctx, a, b, |x: bf16, y: bf16| bf16::from_f64(f(x.to_f64(), y.to_f64()))),
        _ => crate::dispatch_int!(a.elem(), T => {
            // Integers: compute in i64, then narrow with wrapping (as ONNX Runtime does).
            let err = std::sync::Mutex::new(None);
            let t = binary(ctx, a, b, |x: T, y: T| match i(x as i64, y as i64) {
                Ok(v) => v as T,
                Err(e) => { *err.lock().unwrap() = Some(e); 0 as T }
            })?;
            match err.into_inner().unwrap() { Some(e) => Err(e), None => Ok(t) }
        }),
    }
}
