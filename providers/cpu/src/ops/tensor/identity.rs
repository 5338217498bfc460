//! Identity: returns a clone of the input value (tensor, sequence or optional), which
//! shares its data rather than copying it.

use ort_core::{Error, Value};

use crate::kernel::{Ctx, Kernel, Outputs};
use crate::ops::{ANY, LATEST};

/// Passes any value through (tensors, sequences, optionals) without copying.
struct Identity;

impl Kernel for Identity {
    fn compute(&self, inputs: &[Option<&Value>], _: &Ctx<'_>) -> Outputs {
        let v = inputs
            .first()
            .copied()
            .flatten()
            .ok_or_else(|| Error::invalid("required input 0 is missing"))?;
        Ok(vec![Some(v.clone())])
    }
}

crate::register!("Identity", [1, LATEST], ANY, |_| Ok(Box::new(Identity)));
