//! OptionalGetElement: clones the value an optional holds (an error when it is empty),
//! and passes a plain tensor or sequence through as a clone.

use ort_core::{Error, Value};

use crate::kernel::{Ctx, Kernel, Outputs};
use crate::ops::{ANY, LATEST};

/// The value an optional holds (an error when it is empty). From opset 18 a plain
/// tensor or sequence passes through unchanged (accepted at every opset, as in
/// OptionalHasElement).
struct OptionalGetElement;

impl Kernel for OptionalGetElement {
    fn compute(&self, inputs: &[Option<&Value>], _: &Ctx<'_>) -> Outputs {
        let v = match inputs.first().copied().flatten() {
            Some(Value::Optional(o)) => match o.as_ref().into_option() {
                Some(v) => (**v).clone(),
                None => return Err(Error::invalid("the optional input is empty")),
            },
            Some(other) => other.clone(),
            None => return Err(Error::invalid("required input 0 is missing")),
        };
        Ok(vec![Some(v)])
    }
}

crate::register!("OptionalGetElement", [15, LATEST], ANY, |_| Ok(Box::new(
    OptionalGetElement
)));
