//! NhwcMaxPool (`com.microsoft`): MaxPool on 8-bit NHWC tensors, which onnxruntime's
//! layout transformer writes into saved quantized models. NHWC is moved to NCHW and
//! back around the MaxPool kernel (max is exact in any layout).

use ort_core::ElemType::{I8, U8};
use ort_core::{Error, Value};

use super::move_axis;
use crate::kernel::{input, one, Ctx, Kernel, NodeInfo, Outputs};

struct NhwcMaxPool {
    pool: Box<dyn Kernel>,
}

impl Kernel for NhwcMaxPool {
    fn compute(&self, inputs: &[Option<&Value>], ctx: &Ctx<'_>) -> Outputs {
        let x = input(inputs, 0)?;
        if x.rank() < 3 {
            return Err(Error::invalid(format!(
                "X must have rank 3 or more, got shape {:?}",
                x.shape()
            )));
        }
        let nchw = Value::Tensor(move_axis(x, x.rank() - 1, 1, ctx)?);
        let mut y = self.pool.compute(&[Some(&nchw)], ctx)?;
        let t = match y.first_mut().and_then(|v| v.take()) {
            Some(Value::Tensor(t)) => t,
            _ => return Err(Error::invalid("MaxPool gave no tensor")),
        };
        one(move_axis(&t, 1, t.rank() - 1, ctx)?)
    }
}

crate::register!(
    "NhwcMaxPool",
    "com.microsoft",
    [1, 1],
    &[U8, I8],
    0,
    |info: &NodeInfo<'_, '_>| Ok(Box::new(NhwcMaxPool {
        pool: crate::ops::nn::max_pool::build(info)?,
    }))
);
