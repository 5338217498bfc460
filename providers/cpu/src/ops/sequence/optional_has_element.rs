//! OptionalHasElement: a bool scalar by matching the input: an optional's is_some, true
//! for a plain tensor or sequence, false when the input is left out.

use ort_core::{Tensor, Value};

use crate::kernel::{one, Ctx, Kernel, Outputs};
use crate::ops::{ANY, LATEST};

/// Whether an optional holds a value. From opset 18 the input may be a plain tensor
/// or sequence (true) or left out (false). Plain values are accepted at every opset:
/// the runtime may hand a loop-carried optional over unwrapped.
struct OptionalHasElement;

impl Kernel for OptionalHasElement {
    fn compute(&self, inputs: &[Option<&Value>], _: &Ctx<'_>) -> Outputs {
        let has = match inputs.first().copied().flatten() {
            Some(Value::Optional(o)) => o.is_some(),
            Some(_) => true,
            None => false,
        };
        one(Tensor::scalar(has))
    }
}

crate::register!("OptionalHasElement", [15, LATEST], ANY, |_| Ok(Box::new(
    OptionalHasElement
)));
