//! Optional: boxes a clone of the input value into an optional, or makes an empty
//! optional when the input is left out.

use ort_core::abi::{RBox, ROption};
use ort_core::{Error, Value};

use crate::kernel::{Ctx, Kernel, Outputs};
use crate::ops::{ANY, LATEST};

/// An optional holding the input, or an empty optional when the input is left out
/// (its type then comes from the `type` attribute, which values do not carry).
struct Optional;

impl Kernel for Optional {
    fn compute(&self, inputs: &[Option<&Value>], _: &Ctx<'_>) -> Outputs {
        let inner = match inputs.first().copied().flatten() {
            Some(v) => ROption::RSome(RBox::new(v.clone())),
            None => ROption::RNone,
        };
        Ok(vec![Some(Value::Optional(inner))])
    }
}

crate::register!("Optional", [15, LATEST], ANY, |n| {
    if n.input_name(0).is_none() && !n.has("type") {
        return Err(Error::invalid(
            "Optional without an input needs the type attribute",
        ));
    }
    Ok(Box::new(Optional))
});
