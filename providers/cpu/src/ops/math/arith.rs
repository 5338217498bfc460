//! Add, Sub and Mul: broadcasting arithmetic with one closure for floats
//! (through f64, exact for one operation) and one for integers (through i64,
//! wrapping back as onnxruntime does).

use half::{bf16, f16};
use ort_core::{Error, Tensor, Value};

use crate::kernel::{input, one, Ctx, Kernel, Outputs};
use crate::ops::{LATEST, NUMERIC};
use crate::util::binary;

/// A binary arithmetic kernel over numeric types, given one closure per kind so
/// integer semantics (wrapping, truncating division) stay exact. Generic over the
/// closures (not fn pointers) so the per-element call inlines and vectorizes.
struct Arith<F, I> {
    pub f: F,
    pub i: I,
}

/// The boxed kernel for [`Arith`], with the closure types inferred.
fn arith_kernel<F, I>(f: F, i: I) -> Box<dyn Kernel>
where
    F: Fn(f64, f64) -> f64 + Copy + Send + Sync + 'static,
    I: Fn(i64, i64) -> Result<i64, Error> + Copy + Send + Sync + 'static,
{
    Box::new(Arith { f, i })
}

impl<F, I> Kernel for Arith<F, I>
where
    F: Fn(f64, f64) -> f64 + Copy + Send + Sync,
    I: Fn(i64, i64) -> Result<i64, Error> + Copy + Send + Sync,
{
    fn compute(&self, inputs: &[Option<&Value>], ctx: &Ctx<'_>) -> Outputs {
        let (a, b) = (input(inputs, 0)?, input(inputs, 1)?);
        one(arith(ctx, a, b, self.f, self.i)?)
    }
}

// `x as i64` is a no-op for i64 itself.
#[allow(clippy::unnecessary_cast)]
pub(crate) fn arith(
    ctx: &Ctx<'_>,
    a: &Tensor,
    b: &Tensor,
    f: impl Fn(f64, f64) -> f64 + Copy + Send + Sync,
    i: impl Fn(i64, i64) -> Result<i64, Error> + Copy + Send + Sync,
) -> Result<Tensor, Error> {
    use ort_core::ElemType::*;
    match a.elem() {
        // f32 through f64 is exact for + - * /: the f64 result rounds once to f32.
        F32 => binary(ctx, a, b, move |x: f32, y: f32| {
            f(x as f64, y as f64) as f32
        }),
        F64 => binary(ctx, a, b, f),
        F16 => binary(ctx, a, b, move |x: f16, y: f16| {
            f16::from_f64(f(x.to_f64(), y.to_f64()))
        }),
        BF16 => binary(ctx, a, b, move |x: bf16, y: bf16| {
            bf16::from_f64(f(x.to_f64(), y.to_f64()))
        }),
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

crate::register!("Add", [7, LATEST], NUMERIC, same: [0, 1], |_| Ok(arith_kernel(|a, b| a + b, |a, b| Ok(a.wrapping_add(b)))));
crate::register!("Sub", [7, LATEST], NUMERIC, same: [0, 1], |_| Ok(arith_kernel(|a, b| a - b, |a, b| Ok(a.wrapping_sub(b)))));
crate::register!("Mul", [7, LATEST], NUMERIC, same: [0, 1], |_| Ok(arith_kernel(|a, b| a * b, |a, b| Ok(a.wrapping_mul(b)))));
