//! SequenceErase: copies the item list and removes the item at the normalized `position`
//! (the last by default) with Vec::remove.

use ort_core::{Error, Value};

use super::{position, seq, seq_input};
use crate::kernel::{opt_input, Ctx, Kernel, Outputs};
use crate::ops::{ANY, LATEST};

/// The sequence without the item at `position` (the last one by default).
struct SequenceErase;

impl Kernel for SequenceErase {
    fn compute(&self, inputs: &[Option<&Value>], _: &Ctx<'_>) -> Outputs {
        let (elem, items) = seq_input(inputs, 0)?;
        if items.is_empty() {
            return Err(Error::invalid("cannot erase from an empty sequence"));
        }
        let at = position(opt_input(inputs, 1)?, items.len(), false, items.len() - 1)?;
        let mut out = items.to_vec();
        out.remove(at);
        Ok(vec![Some(seq(elem, out))])
    }
}

crate::register!("SequenceErase", [11, LATEST], ANY, |_| Ok(Box::new(
    SequenceErase
)));
