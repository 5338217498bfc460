//! Size: the input's element count, as an int64 scalar.

use ort_core::Value;

use crate::kernel::{input, one, Ctx, Kernel, Outputs};
use crate::ops::{ANY, LATEST};

struct Size;

impl Kernel for Size {
    fn compute(&self, inputs: &[Option<&Value>], ctx: &Ctx<'_>) -> Outputs {
        one(ctx.tensor_from(&[], &[input(inputs, 0)?.len() as i64])?)
    }
}

crate::register!("Size", [1, LATEST], ANY, |_| Ok(Box::new(Size)));
