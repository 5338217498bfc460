//! SplitToSequence: cuts the tensor along `axis` into consecutive slices (unit,
//! equal-chunk or listed lengths), each copied as one block per outer index.

use ort_core::{Error, Value};

use super::{seq, slice_axis};
use crate::kernel::{input, opt_input, Ctx, Kernel, Outputs};
use crate::ops::{ANY, LATEST};
use crate::util::axis;

/// Splits a tensor along `axis` into a sequence: into size-1 slices (squeezed unless
/// `keepdims`), equal chunks of a scalar `split` (the last may be shorter), or the
/// lengths a 1-D `split` lists.
struct SplitToSequence {
    axis: i64,
    keepdims: bool,
}

impl Kernel for SplitToSequence {
    fn compute(&self, inputs: &[Option<&Value>], ctx: &Ctx<'_>) -> Outputs {
        let t = input(inputs, 0)?;
        let a = axis(self.axis, t.rank())?;
        if t.rank() == 0 {
            return Err(Error::invalid(
                "SplitToSequence needs a tensor of rank 1 or more",
            ));
        }
        let dim = t.shape()[a];
        let (lens, squeeze): (Vec<i64>, bool) = match opt_input(inputs, 1)? {
            None => (vec![1; dim as usize], !self.keepdims),
            Some(s) => {
                let v = s.to_i64_vec()?;
                if s.rank() == 0 {
                    let k = v[0];
                    if k <= 0 {
                        return Err(Error::invalid(format!("split must be positive, got {k}")));
                    }
                    let mut lens = vec![k; (dim / k) as usize];
                    if dim % k != 0 {
                        lens.push(dim % k);
                    }
                    (lens, false)
                } else if s.rank() == 1 {
                    if v.iter().any(|&l| l < 0) || v.iter().sum::<i64>() != dim {
                        return Err(Error::invalid(format!(
                            "split {v:?} does not add up to dimension {dim} of axis {a}"
                        )));
                    }
                    (v, false)
                } else {
                    return Err(Error::invalid(format!(
                        "split must be a scalar or 1-D, has rank {}",
                        s.rank()
                    )));
                }
            }
        };
        let mut items = Vec::with_capacity(lens.len());
        let mut start = 0usize;
        for &l in &lens {
            items.push(Value::Tensor(slice_axis(
                ctx, t, a, start, l as usize, squeeze,
            )?));
            start += l as usize;
        }
        Ok(vec![Some(seq(t.elem(), items))])
    }
}

crate::register!("SplitToSequence", [11, LATEST], ANY, |n| {
    Ok(Box::new(SplitToSequence {
        axis: n.int("axis", 0)?,
        keepdims: n.int("keepdims", 1)? != 0,
    }))
});
