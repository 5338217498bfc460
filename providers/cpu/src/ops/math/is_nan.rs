//! IsNaN: per-element float classification, float8 formats read from their bit patterns.

use ort_core::ElemType::*;
use ort_core::{ElemType, Error, Tensor, Value};

use crate::kernel::{input, one, Ctx, Kernel, Outputs};
use crate::ops::LATEST;
use crate::util::{par_map, unary, Num};

/// Float types IsNaN and IsInf accept, float8 included.
pub(crate) const FLOATS_F8: &[ElemType] = &[
    F32, F64, F16, BF16, F8E4M3FN, F8E4M3FNUZ, F8E5M2, F8E5M2FNUZ,
];

/// Classifies one float8 byte: `(is_nan, is_inf)`; the sign is bit 7.
pub(crate) fn f8_class(e: ElemType, b: u8) -> (bool, bool) {
    match e {
        // No infinities; NaN is S.1111.111.
        F8E4M3FN => (b & 0x7f == 0x7f, false),
        // No infinities or negative zero; NaN is the 0x80 pattern.
        F8E4M3FNUZ | F8E5M2FNUZ => (b == 0x80, false),
        // IEEE-like: exponent all ones, mantissa zero (inf) or not (NaN).
        _ => (b & 0x7c == 0x7c && b & 0x03 != 0, b & 0x7f == 0x7c),
    }
}

/// Applies `f(is_nan, is_inf, negative)` to each element of a float tensor.
pub(crate) fn classify(
    ctx: &Ctx<'_>,
    x: &Tensor,
    f: impl Fn(bool, bool, bool) -> bool + Copy + Send + Sync,
) -> Result<Tensor, Error> {
    match x.elem() {
        e @ (F8E4M3FN | F8E4M3FNUZ | F8E5M2 | F8E5M2FNUZ) => {
            let src = x
                .bytes()
                .ok_or_else(|| Error::invalid("float8 tensor data is not on the host"))?;
            ctx.tensor(x.shape(), |o: &mut [bool]| {
                par_map(o, src, |b: u8| {
                    let (nan, inf) = f8_class(e, b);
                    f(nan, inf, b & 0x80 != 0)
                })
            })
        }
        e => crate::dispatch_float!(e, T => unary(ctx, x, move |v: T| {
            let d = v.to_f64();
            f(v.is_nan(), d.is_infinite(), d < 0.0)
        })),
    }
}

struct IsNaN;

impl Kernel for IsNaN {
    fn compute(&self, inputs: &[Option<&Value>], ctx: &Ctx<'_>) -> Outputs {
        one(classify(ctx, input(inputs, 0)?, |nan, _, _| nan)?)
    }
}

crate::register!("IsNaN", [9, LATEST], FLOATS_F8, |_| Ok(Box::new(IsNaN)));
