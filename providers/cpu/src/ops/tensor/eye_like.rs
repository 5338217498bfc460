//! EyeLike: zero-fills a 2-D tensor of the input's shape and sets a one at (i, i + k) for
//! each row i where that column exists.

use ort_core::{ElemType, Error, Value};

use crate::kernel::{input, one, Ctx, Kernel, Outputs};
use crate::ops::{ANY, LATEST};
use crate::util::Num;

/// A 2-D tensor of the input's shape with ones on diagonal `k` and zeros elsewhere.
struct EyeLike {
    dtype: Option<ElemType>,
    k: i64,
}

fn fill<T: Copy>(out: &mut [T], rows: i64, cols: i64, k: i64, zero: T, one: T) {
    out.fill(zero);
    for i in 0..rows {
        let j = i + k;
        if (0..cols).contains(&j) {
            out[(i * cols + j) as usize] = one;
        }
    }
}

impl Kernel for EyeLike {
    fn compute(&self, inputs: &[Option<&Value>], ctx: &Ctx<'_>) -> Outputs {
        let x = input(inputs, 0)?;
        if x.rank() != 2 {
            return Err(Error::invalid("EyeLike input must be 2-D"));
        }
        let (rows, cols) = (x.shape()[0], x.shape()[1]);
        let elem = self.dtype.unwrap_or(x.elem());
        let k = self.k;
        one(if elem == ElemType::Bool {
            ctx.tensor(x.shape(), |o: &mut [bool]| {
                fill(o, rows, cols, k, false, true)
            })?
        } else {
            crate::dispatch_numeric!(elem, T => ctx.tensor(x.shape(), |o: &mut [T]| {
                fill(o, rows, cols, k, T::ZERO, T::ONE)
            }))?
        })
    }
}

crate::register!("EyeLike", [9, LATEST], ANY, |n| {
    let dtype = match n.attr("dtype") {
        None => None,
        Some(_) => {
            let code = n.int("dtype", 0)?;
            Some(ElemType::from_onnx(code as i32).ok_or_else(|| {
                Error::invalid(format!("EyeLike dtype {code} is not an element type"))
            })?)
        }
    };
    Ok(Box::new(EyeLike {
        dtype,
        k: n.int("k", 0)?,
    }))
});
