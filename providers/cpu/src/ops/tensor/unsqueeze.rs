//! Unsqueeze: a zero-copy reshape that inserts size-1 dimensions at the given output
//! axes.

use ort_core::{Error, Value};

use super::{norm_axes, IntsArg};
use crate::kernel::{input, one, Ctx, Kernel, Outputs};
use crate::ops::{ANY, LATEST};

/// Axes (an attribute before opset 13, an input after) index the output's dimensions.
struct Unsqueeze {
    axes: IntsArg,
}

impl Kernel for Unsqueeze {
    fn compute(&self, inputs: &[Option<&Value>], _: &Ctx<'_>) -> Outputs {
        let x = input(inputs, 0)?;
        let axes = self
            .axes
            .get(inputs)?
            .ok_or_else(|| Error::invalid("Unsqueeze needs axes"))?;
        let rank = x.rank() + axes.len();
        let axes = norm_axes(&axes, rank)?;
        let mut rest = x.shape().iter();
        let shape: Vec<i64> = (0..rank)
            .map(|i| {
                if axes.contains(&i) {
                    1
                } else {
                    *rest.next().unwrap()
                }
            })
            .collect();
        one(x.reshaped(&shape)?)
    }
}

crate::register!("Unsqueeze", [1, LATEST], ANY, |n| Ok(Box::new(Unsqueeze {
    axes: IntsArg::new(n, "axes", 13, 1)?,
})));
