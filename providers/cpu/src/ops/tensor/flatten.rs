//! Flatten: a zero-copy reshape to [product of the dimensions before `axis`, product of
//! the rest].

use ort_core::{Error, Value};

use crate::kernel::{input, one, Ctx, Kernel, Outputs};
use crate::ops::{ANY, LATEST};

struct Flatten {
    axis: i64,
}

impl Kernel for Flatten {
    fn compute(&self, inputs: &[Option<&Value>], _: &Ctx<'_>) -> Outputs {
        let x = input(inputs, 0)?;
        let r = x.rank() as i64;
        let a = if self.axis < 0 {
            self.axis + r
        } else {
            self.axis
        };
        if !(0..=r).contains(&a) {
            return Err(Error::invalid(format!(
                "axis {} is out of range for rank {r}",
                self.axis
            )));
        }
        let (head, tail) = x.shape().split_at(a as usize);
        one(x.reshaped(&[head.iter().product(), tail.iter().product()])?)
    }
}

crate::register!("Flatten", [1, LATEST], ANY, |n| Ok(Box::new(Flatten {
    axis: n.int("axis", 1)?
})));
