//! SequenceInsert: builds a new item list from the items before `position`, the checked
//! tensor, then the rest (appending by default).

use ort_core::{ElemType, Error, Value};

use super::{check_item, item_elem, position, seq, seq_input};
use crate::kernel::{opt_input, Ctx, Kernel, Outputs};
use crate::ops::{ANY, LATEST};

/// The sequence with `tensor` inserted at `position` (appended by default).
struct SequenceInsert;

impl Kernel for SequenceInsert {
    fn compute(&self, inputs: &[Option<&Value>], _: &Ctx<'_>) -> Outputs {
        let (elem, items) = seq_input(inputs, 0)?;
        let v = inputs
            .get(1)
            .copied()
            .flatten()
            .ok_or_else(|| Error::invalid("required input 1 (tensor) is missing"))?;
        v.tensor()?;
        check_item(elem, v)?;
        let at = position(opt_input(inputs, 2)?, items.len(), true, items.len())?;
        let elem = if elem == ElemType::Undefined {
            item_elem(v)
        } else {
            elem
        };
        let mut out: Vec<Value> = Vec::with_capacity(items.len() + 1);
        out.extend_from_slice(&items[..at]);
        out.push(v.clone());
        out.extend_from_slice(&items[at..]);
        Ok(vec![Some(seq(elem, out))])
    }
}

crate::register!("SequenceInsert", [11, LATEST], ANY, |_| Ok(Box::new(
    SequenceInsert
)));
