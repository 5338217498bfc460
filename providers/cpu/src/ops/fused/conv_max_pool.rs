//! ConvMaxPool (fused domain): FusedConv whose only reader is a 3×3 max
//! pool, computed in bands of rows that are pooled while in cache
//! (`conv_shift::conv_max_pool`); elsewhere the two kernels one after the
//! other.

use ort_core::{Error, Value};

use crate::kernel::{Ctx, Kernel, NodeInfo, Outputs};
use crate::ops::nn::conv::{parse_fused, Conv};
use crate::ops::nn::max_pool::without_indices;
use crate::ops::nn::window::Window;
use crate::ops::{FLOATS, LATEST};

struct ConvMaxPool {
    conv: Conv,
    /// The pool's window (its attributes carry a `pool_` prefix).
    window: Window,
    pool: Box<dyn Kernel>,
}

fn build(info: &NodeInfo<'_, '_>) -> Result<Box<dyn Kernel>, Error> {
    let window = Window::parse_prefixed(info, "pool_")?;
    Ok(Box::new(ConvMaxPool {
        conv: parse_fused(info)?,
        pool: without_indices(window.clone()),
        window,
    }))
}

impl Kernel for ConvMaxPool {
    fn compute(&self, inputs: &[Option<&Value>], ctx: &Ctx<'_>) -> Outputs {
        if let Some(done) = self.conv.max_pooled(inputs, &self.window, ctx) {
            return done;
        }
        let y = self.conv.compute(inputs, ctx)?.into_iter().next().flatten();
        let y = y.ok_or_else(|| Error::invalid("the convolution gave no output"))?;
        self.pool.compute(&[Some(&y)], ctx)
    }
}

crate::register!(
    "ConvMaxPool",
    "ai.ort_rs.fused",
    [1, LATEST],
    FLOATS,
    0,
    build
);
