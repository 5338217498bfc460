//! CastLike: Cast to the second input's element type, through the same `cast_with`.

use ort_core::Value;

use super::cast::cast_opts;
use super::convert::{cast_with, CastOpts};
use crate::kernel::{input, one, Ctx, Kernel, Outputs};
use crate::ops::{ANY, LATEST};

struct CastLike {
    opts: CastOpts,
}

impl Kernel for CastLike {
    fn compute(&self, inputs: &[Option<&Value>], ctx: &Ctx<'_>) -> Outputs {
        let (x, like) = (input(inputs, 0)?, input(inputs, 1)?);
        one(cast_with(ctx, x, like.elem(), self.opts)?)
    }
}

crate::register!("CastLike", [15, LATEST], ANY, |n| Ok(Box::new(CastLike {
    opts: cast_opts(n)?
})));
