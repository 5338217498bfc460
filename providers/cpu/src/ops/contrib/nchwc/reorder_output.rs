//! ReorderOutput (`com.microsoft.nchwc`): the blocked layout back to NCHW (or
//! NHWC with `channels_last`), keeping the first `channels` channels.

use ort_core::ElemType::F32;
use ort_core::{Error, Value};

use super::{block_size, nchw, unblock};
use crate::kernel::{input, one, Ctx, Kernel, NodeInfo, Outputs};

struct ReorderOutput {
    b: usize,
    channels: usize,
    channels_last: bool,
}

impl Kernel for ReorderOutput {
    fn compute(&self, inputs: &[Option<&Value>], ctx: &Ctx<'_>) -> Outputs {
        let x = input(inputs, 0)?;
        let dims = nchw(x, self.b)?;
        let c = self.channels;
        if c > dims.1 {
            return Err(Error::invalid(format!(
                "channels {c} is more than the input's {} (shape {:?})",
                dims.1,
                x.shape()
            )));
        }
        let spatial = &x.shape()[2..];
        let mut shape = vec![x.shape()[0]];
        if self.channels_last {
            shape.extend_from_slice(spatial);
            shape.push(c as i64);
        } else {
            shape.push(c as i64);
            shape.extend_from_slice(spatial);
        }
        let xv = x.as_slice::<f32>()?;
        one(ctx.tensor(&shape, |o: &mut [f32]| {
            unblock(xv, dims, c, self.b, self.channels_last, o)
        })?)
    }
}

crate::register!(
    "ReorderOutput",
    "com.microsoft.nchwc",
    [1, 1],
    &[F32],
    0,
    |info: &NodeInfo<'_, '_>| {
        let channels = info.int("channels", 0)?;
        if channels <= 0 {
            return Err(Error::invalid(format!(
                "channels must be positive, got {channels}"
            )));
        }
        Ok(Box::new(ReorderOutput {
            b: block_size(info.graph)?,
            channels: channels as usize,
            channels_last: info.int("channels_last", 0)? != 0,
        }))
    }
);
