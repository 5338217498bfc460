//! SequenceConstruct: clones the input tensors, in order, into a new sequence after
//! checking that each shares the first one's element type.

use ort_core::{Error, Value};

use super::{check_item, item_elem, seq};
use crate::kernel::{Ctx, Kernel, Outputs};
use crate::ops::{ANY, LATEST};

/// A sequence of the inputs, in order; they must share one element type.
struct SequenceConstruct;

impl Kernel for SequenceConstruct {
    fn compute(&self, inputs: &[Option<&Value>], _: &Ctx<'_>) -> Outputs {
        let items: Vec<Value> = inputs
            .iter()
            .enumerate()
            .map(|(i, v)| {
                let v = v.ok_or_else(|| Error::invalid(format!("input {i} is missing")))?;
                v.tensor()?;
                Ok(v.clone())
            })
            .collect::<Result<_, Error>>()?;
        let first = items
            .first()
            .ok_or_else(|| Error::invalid("SequenceConstruct needs at least one input"))?;
        let elem = item_elem(first);
        for v in &items {
            check_item(elem, v)?;
        }
        Ok(vec![Some(seq(elem, items))])
    }
}

crate::register!("SequenceConstruct", [11, LATEST], ANY, |_| Ok(Box::new(
    SequenceConstruct
)));
