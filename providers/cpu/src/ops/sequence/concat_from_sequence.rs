//! ConcatFromSequence: for each outer index, copies every item's contiguous block along
//! `axis` in turn; `new_axis` stacks by first giving each item a size-1 axis there.

use ort_core::{Error, Tensor, Value};

use super::seq_input;
use crate::kernel::{one, Ctx, Kernel, Outputs};
use crate::ops::{ANY, LATEST};
use crate::util::Movable;

/// Concatenates a sequence's tensors along `axis`, or stacks them along a new axis
/// at `axis` when `new_axis` is 1.
struct ConcatFromSequence {
    axis: i64,
    new_axis: bool,
}

impl Kernel for ConcatFromSequence {
    fn compute(&self, inputs: &[Option<&Value>], ctx: &Ctx<'_>) -> Outputs {
        let (_, items) = seq_input(inputs, 0)?;
        let ts = items
            .iter()
            .map(|v| v.tensor())
            .collect::<Result<Vec<&Tensor>, _>>()?;
        let first = *ts
            .first()
            .ok_or_else(|| Error::invalid("ConcatFromSequence needs a non-empty sequence"))?;
        let r = first.rank();
        // Each item's shape as concatenated: with the new axis inserted when stacking.
        let out_rank = if self.new_axis { r + 1 } else { r };
        let ax = if self.axis < 0 {
            self.axis + out_rank as i64
        } else {
            self.axis
        };
        if ax < 0 || ax >= out_rank as i64 {
            return Err(Error::invalid(format!(
                "axis {} is out of range for rank {r}{}",
                self.axis,
                if self.new_axis { " with new_axis" } else { "" }
            )));
        }
        let a = ax as usize;
        let item_shape = |t: &Tensor| -> Vec<i64> {
            let mut s = t.shape().to_vec();
            if self.new_axis {
                s.insert(a, 1);
            }
            s
        };
        let base = item_shape(first);
        let mut shape = base.clone();
        shape[a] = 0;
        for t in &ts {
            let s = item_shape(t);
            let same = s.len() == base.len() && (0..s.len()).all(|i| i == a || s[i] == base[i]);
            if t.elem() != first.elem() || !same {
                return Err(Error::invalid(format!(
                    "cannot concatenate {}{:?} with {}{:?} on axis {a}",
                    first.elem(),
                    first.shape(),
                    t.elem(),
                    t.shape()
                )));
            }
            shape[a] += s[a];
        }
        let outer: usize = shape[..a].iter().product::<i64>() as usize;
        let inner: usize = shape[a + 1..].iter().product::<i64>() as usize;
        let row = shape[a] as usize * inner;
        one(crate::dispatch_move!(first.elem(), T => {
            let srcs = ts.iter().map(|t| T::elems_of(t)).collect::<Result<Vec<_>, _>>()?;
            T::new_tensor(ctx, first.elem(), &shape, |out| {
                if row == 0 {
                    return;
                }
                for (o, dst) in out.chunks_mut(row).enumerate() {
                    let mut at = 0;
                    for s in &srcs {
                        let n = s.len() / outer.max(1);
                        dst[at..at + n].clone_from_slice(&s[o * n..(o + 1) * n]);
                        at += n;
                    }
                }
            })
        })?)
    }
}

crate::register!("ConcatFromSequence", [11, LATEST], ANY, |n| {
    if !n.has("axis") {
        return Err(Error::invalid("ConcatFromSequence needs an axis attribute"));
    }
    Ok(Box::new(ConcatFromSequence {
        axis: n.int("axis", 0)?,
        new_axis: n.int("new_axis", 0)? != 0,
    }))
});
