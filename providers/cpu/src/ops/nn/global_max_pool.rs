//! GlobalMaxPool: the maximum of each (N, C) plane, taken in eight vectorizable lanes.

use ort_core::Value;

use super::global_average_pool::global_shape;
use super::{data, max, output};
use crate::kernel::{input, one, Ctx, Kernel, Outputs};
use crate::ops::{FLOATS, LATEST};

pub(crate) struct GlobalMaxPool;

impl Kernel for GlobalMaxPool {
    fn compute(&self, inputs: &[Option<&Value>], ctx: &Ctx<'_>) -> Outputs {
        let x = input(inputs, 0)?;
        let (shape, n) = global_shape(x.shape())?;
        one(with_float!(x.elem(), F => {
            let xd = data::<F>(x)?;
            output::<F>(ctx, x.elem(), &shape, |o| {
                for (i, o) in o.iter_mut().enumerate() {
                    *o = max(&xd[i * n..(i + 1) * n]);
                }
            })
        })?)
    }
}

crate::register!("GlobalMaxPool", [1, LATEST], FLOATS, |_| Ok(Box::new(
    GlobalMaxPool
)));
