//! QLinearConv (`com.microsoft`): the ONNX op's kernel, and with
//! `channels_last = 1` X and Y in NHWC (W stays OIHW), which onnxruntime's
//! layout transformer writes into saved models. NHWC is moved to NCHW and back
//! around the kernel.

use ort_core::ElemType::{I8, U8};
use ort_core::{Error, Value};

use super::move_axis;
use crate::kernel::{input, one, Ctx, Kernel, NodeInfo, Outputs};

struct QLinearConv {
    conv: Box<dyn Kernel>,
    channels_last: bool,
}

impl Kernel for QLinearConv {
    fn compute(&self, inputs: &[Option<&Value>], ctx: &Ctx<'_>) -> Outputs {
        if !self.channels_last {
            return self.conv.compute(inputs, ctx);
        }
        let x = input(inputs, 0)?;
        if x.rank() < 3 {
            return Err(Error::invalid(format!(
                "X must have rank 3 or more, got shape {:?}",
                x.shape()
            )));
        }
        let last = x.rank() - 1;
        let nchw = Value::Tensor(move_axis(x, last, 1, ctx)?);
        let mut args = inputs.to_vec();
        args[0] = Some(&nchw);
        let mut y = self.conv.compute(&args, ctx)?;
        let t = match y.first_mut().and_then(|v| v.take()) {
            Some(Value::Tensor(t)) => t,
            _ => return Err(Error::invalid("QLinearConv gave no tensor")),
        };
        one(move_axis(&t, 1, t.rank() - 1, ctx)?)
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
