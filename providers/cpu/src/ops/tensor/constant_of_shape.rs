//! ConstantOfShape: allocates a tensor of the input shape and fills it with the one
//! element of the `value` attribute (float 0 by default), taking its type.

use ort_core::{Error, Tensor, Value};

use super::ints_input;
use crate::kernel::{one, Ctx, Kernel, Outputs};
use crate::ops::{ANY, LATEST};
use crate::util::Movable;

/// `value` is a one-element tensor whose type the output takes (default float 0).
struct ConstantOfShape(Tensor);

impl Kernel for ConstantOfShape {
    fn compute(&self, inputs: &[Option<&Value>], ctx: &Ctx<'_>) -> Outputs {
        let shape =
            ints_input(inputs, 0)?.ok_or_else(|| Error::invalid("input 0 (shape) is missing"))?;
        if shape.iter().any(|&d| d < 0) {
            return Err(Error::invalid(format!(
                "negative dimension in shape {shape:?}"
            )));
        }
        let v = &self.0;
        one(crate::dispatch_move!(v.elem(), T => filled::<T>(ctx, v, &shape))?)
    }
}

fn filled<T: Movable>(ctx: &Ctx<'_>, v: &Tensor, shape: &[i64]) -> Result<Tensor, Error> {
    let x = T::elems_of(v)?[0].clone();
    T::new_tensor(ctx, v.elem(), shape, |o| o.fill(x))
}

crate::register!("ConstantOfShape", [9, LATEST], ANY, |n| {
    let v = n.tensor("value")?.unwrap_or_else(|| Tensor::scalar(0f32));
    if v.len() != 1 {
        return Err(Error::invalid(format!(
            "value must hold one element, it has {}",
            v.len()
        )));
    }
    Ok(Box::new(ConstantOfShape(v)))
});
