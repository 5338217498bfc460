//! NhwcMaxPool (`com.microsoft`): MaxPool on 8-bit NHWC tensors, which onnxruntime's
//! layout transformer writes into saved quantized models. NHWC is moved to NCHW and
//! back around the MaxPool kernel (max is exact in any layout).

use ort_core::ElemType::{I8, U8};
use ort_core::Value;

use super::around_nchw;
use crate::kernel::{Ctx, Kernel, NodeInfo, Outputs};

struct NhwcMaxPool {
    pool: Box<dyn Kernel>,
}

impl Kernel for NhwcMaxPool {
    fn compute(&self, inputs: &[Option<&Value>], ctx: &Ctx<'_>) -> Outputs {
        around_nchw(&*self.pool, inputs, ctx)
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
