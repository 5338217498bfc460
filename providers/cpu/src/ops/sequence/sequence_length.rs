//! SequenceLength: the length of the sequence's item list, as an int64 scalar.

use ort_core::{Tensor, Value};

use super::seq_input;
use crate::kernel::{one, Ctx, Kernel, Outputs};
use crate::ops::{ANY, LATEST};

/// The number of items in a sequence, as an int64 scalar.
struct SequenceLength;

impl Kernel for SequenceLength {
    fn compute(&self, inputs: &[Option<&Value>], _: &Ctx<'_>) -> Outputs {
        let (_, items) = seq_input(inputs, 0)?;
        one(Tensor::scalar(items.len() as i64))
    }
}

crate::register!("SequenceLength", [11, LATEST], ANY, |_| Ok(Box::new(
    SequenceLength
)));
