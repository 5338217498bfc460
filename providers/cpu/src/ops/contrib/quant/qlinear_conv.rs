//! QLinearConv (`com.microsoft`): the ONNX op's kernel, and with
//! `channels_last = 1` X and Y in NHWC (W stays OIHW), which onnxruntime's
//! layout transformer writes into saved models. NHWC is moved to NCHW and back
//! around the kernel.

use ort_core::ElemType::{I8, U8};
use ort_core::Value;

use super::around_nchw;
use crate::kernel::{Ctx, Kernel, NodeInfo, Outputs};

struct QLinearConv {
    conv: Box<dyn Kernel>,
    channels_last: bool,
}

impl Kernel for QLinearConv {
    fn compute(&self, inputs: &[Option<&Value>], ctx: &Ctx<'_>) -> Outputs {
        if !self.channels_last {
            return self.conv.compute(inputs, ctx);
        }
        around_nchw(&*self.conv, inputs, ctx)
    }
}

crate::register!(
    "QLinearConv",
    "com.microsoft",
    [1, 1],
    &[U8, I8],
    0,
    |info: &NodeInfo<'_, '_>| Ok(Box::new(QLinearConv {
        conv: crate::ops::quant::qlinear_conv::build(info)?,
        channels_last: info.int("channels_last", 0)? != 0,
    }))
);
