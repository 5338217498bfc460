//! SwiGLU: `a / (1 + exp(-alpha·a)) · b` elementwise in parallel chunks, in f64 for
//! doubles and f32 for float, f16 and bf16.

use half::{bf16, f16};
use ort_core::{ElemType, Error, Value};

use crate::kernel::{input, one, Ctx, Kernel, Outputs};
use crate::ops::{FLOATS, LATEST};
use crate::util::par_zip2;

/// `swish_alpha(a) * b` for same-shaped `a` (gate) and `b` (value).
struct SwiGlu {
    alpha: f64,
}

fn swiglu(a: f64, b: f64, alpha: f64) -> f64 {
    a / (1.0 + (-alpha * a).exp()) * b
}

impl Kernel for SwiGlu {
    fn compute(&self, inputs: &[Option<&Value>], ctx: &Ctx<'_>) -> Outputs {
        let (a, b) = (input(inputs, 0)?, input(inputs, 1)?);
        if a.elem() != b.elem() || a.shape() != b.shape() {
            return Err(Error::invalid(format!(
                "SwiGLU inputs must have one type and shape, got {} {:?} and {} {:?}",
                a.elem(),
                a.shape(),
                b.elem(),
                b.shape()
            )));
        }
        let al = self.alpha;
        let al32 = al as f32;
        let f32 = move |x: f32, y: f32| x / (1.0 + (-al32 * x).exp()) * y;
        one(match a.elem() {
            ElemType::F32 => {
                let (x, y) = (a.as_slice::<f32>()?, b.as_slice::<f32>()?);
                ctx.tensor(a.shape(), |o: &mut [f32]| par_zip2(o, x, y, f32))
            }
            ElemType::F64 => {
                let (x, y) = (a.as_slice::<f64>()?, b.as_slice::<f64>()?);
                ctx.tensor(a.shape(), |o: &mut [f64]| {
                    par_zip2(o, x, y, |x, y| swiglu(x, y, al))
                })
            }
            ElemType::F16 => {
                let (x, y) = (a.as_slice::<f16>()?, b.as_slice::<f16>()?);
                ctx.tensor(a.shape(), |o: &mut [f16]| {
                    par_zip2(o, x, y, |x, y| f16::from_f32(f32(x.to_f32(), y.to_f32())))
                })
            }
            ElemType::BF16 => {
                let (x, y) = (a.as_slice::<bf16>()?, b.as_slice::<bf16>()?);
                ctx.tensor(a.shape(), |o: &mut [bf16]| {
                    par_zip2(o, x, y, |x, y| bf16::from_f32(f32(x.to_f32(), y.to_f32())))
                })
            }
            e => Err(Error::not_implemented(format!(
                "SwiGLU does not support element type {e}"
            ))),
        }?)
    }
}

crate::register!("SwiGLU", [28, LATEST], FLOATS, |n| Ok(Box::new(SwiGlu {
    alpha: n.float("alpha", 1.0)? as f64,
})));
