//! SequenceAt: clones the item at `position`, bounds-checked and normalized against the
//! sequence length (negative counts from the back).

use ort_core::Value;

use super::{position, seq_input};
use crate::kernel::{input, Ctx, Kernel, Outputs};
use crate::ops::{ANY, LATEST};

/// The sequence item at `position` (negative counts from the back).
struct SequenceAt;

impl Kernel for SequenceAt {
    fn compute(&self, inputs: &[Option<&Value>], _: &Ctx<'_>) -> Outputs {
        let (_, items) = seq_input(inputs, 0)?;
        let at = position(Some(input(inputs, 1)?), items.len(), false, 0)?;
        Ok(vec![Some(items[at].clone())])
    }
}

crate::register!("SequenceAt", [11, LATEST], ANY, |_| Ok(Box::new(
    SequenceAt
)));
