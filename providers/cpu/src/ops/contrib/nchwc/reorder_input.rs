//! ReorderInput (`com.microsoft.nchwc`): NCHW (or NHWC with `channels_last`)
//! into the blocked layout, channels zero-padded to a multiple of the block.

use ort_core::ElemType::F32;
use ort_core::{Error, Value};

use super::{block, block_size};
use crate::kernel::{input, one, Ctx, Kernel, NodeInfo, Outputs};

struct ReorderInput {
    b: usize,
    channels_last: bool,
}

impl Kernel for ReorderInput {
    fn compute(&self, inputs: &[Option<&Value>], ctx: &Ctx<'_>) -> Outputs {
        let x = input(inputs, 0)?;
        let d: Vec<usize> = x.shape().iter().map(|&v| v as usize).collect();
        if d.len() < 3 {
            return Err(Error::invalid(format!(
                "X must have rank 3 or more, got shape {:?}",
                x.shape()
            )));
        }
        let (n, c) = (
            d[0],
            if self.channels_last {
                d[d.len() - 1]
            } else {
                d[1]
            },
        );
        let spatial = if self.channels_last {
            &d[1..d.len() - 1]
        } else {
            &d[2..]
        };
        let s: usize = spatial.iter().product();
        let cpad = c.div_ceil(self.b) * self.b;
        let mut shape = vec![n as i64, cpad as i64];
        shape.extend(spatial.iter().map(|&v| v as i64));
        let xv = x.as_slice::<f32>()?;
        one(ctx.tensor(&shape, |o: &mut [f32]| {
            block(xv, (n, c, s), self.b, self.channels_last, o)
        })?)
    }
}

crate::register!(
    "ReorderInput",
    "com.microsoft.nchwc",
    [1, 1],
    &[F32],
    0,
    |info: &NodeInfo<'_, '_>| Ok(Box::new(ReorderInput {
        b: block_size(info.graph)?,
        channels_last: info.int("channels_last", 0)? != 0,
    }))
);
