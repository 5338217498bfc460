use ort_core::{Error, Value};

use crate::kernel::{input, one, Ctx, Kernel};
use crate::ops::{LATEST, SIGNED};

struct Relu;

impl Kernel for Relu {
    fn compute(
        &self,
        inputs: &[Option<&Value>],
        ctx: &Ctx<'_>,
    ) -> Result<Vec<Option<Value>>, Error> {
        let x = input(inputs, 0)?;
        one(crate::dispatch_numeric!(x.elem(), T => {
            let zero = T::default();
            crate::util::unary(ctx, x, move |v: T| if v > zero { v } else { zero })
        })?)
    }
}

crate::register!("Relu", [6, LATEST], SIGNED, |_| Ok(Box::new(Relu)));
