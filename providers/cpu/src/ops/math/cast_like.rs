use ort_core::{Error, Value};

use super::cast_to;
use crate::kernel::{input, one, Ctx, Kernel};
use crate::ops::{ANY, LATEST};

struct CastLike;

impl Kernel for CastLike {
    fn compute(
        &self,
        inputs: &[Option<&Value>],
        ctx: &Ctx<'_>,
    ) -> Result<Vec<Option<Value>>, Error> {
        one(cast_to(ctx, input(inputs, 0)?, input(inputs, 1)?.elem())?)
    }
}

crate::register!("CastLike", [15, LATEST], ANY, |_| Ok(Box::new(CastLike)));
