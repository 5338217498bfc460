//! NonZero: one scan collects the flat positions of non-zero elements, then unravels each
//! into per-axis coordinates by repeated division into a [rank, n] int64 tensor.

use ort_core::{ElemType, Error, Value};

use crate::kernel::{input, one, Ctx, Kernel, Outputs};
use crate::ops::{ANY, LATEST};

/// The coordinates of the non-zero elements, one row per axis, in row-major order.
struct NonZero;

fn flags<T: PartialEq + Default + Copy>(v: &[T]) -> Vec<usize> {
    let z = T::default();
    (0..v.len()).filter(|&i| v[i] != z).collect()
}

impl Kernel for NonZero {
    fn compute(&self, inputs: &[Option<&Value>], ctx: &Ctx<'_>) -> Outputs {
        let x = input(inputs, 0)?;
        let pos = if x.elem() == ElemType::Bool {
            flags(x.as_slice::<bool>()?)
        } else {
            crate::dispatch_numeric!(x.elem(), T => Ok::<_, Error>(flags(x.as_slice::<T>()?)))?
        };
        // A scalar counts as a one-element vector, as in ONNX Runtime.
        let shape: Vec<i64> = if x.rank() == 0 {
            vec![1]
        } else {
            x.shape().to_vec()
        };
        let (r, n) = (shape.len(), pos.len());
        one(ctx.tensor(&[r as i64, n as i64], |out: &mut [i64]| {
            for (j, &p) in pos.iter().enumerate() {
                let mut rem = p as i64;
                for a in (0..r).rev() {
                    out[a * n + j] = rem % shape[a];
                    rem /= shape[a];
                }
            }
        })?)
    }
}

crate::register!("NonZero", [9, LATEST], ANY, |_| Ok(Box::new(NonZero)));
