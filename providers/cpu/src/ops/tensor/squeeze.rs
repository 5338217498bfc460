//! Squeeze: a zero-copy reshape that drops the given size-1 axes, or every size-1 axis
//! when none are given.

use ort_core::{Error, Value};

use super::{norm_axes, IntsArg};
use crate::kernel::{input, one, Ctx, Kernel, Outputs};
use crate::ops::{ANY, LATEST};

/// Axes are an attribute before opset 13 and an optional input after; none means
/// every dimension of size 1.
struct Squeeze {
    axes: IntsArg,
}

impl Kernel for Squeeze {
    fn compute(&self, inputs: &[Option<&Value>], _: &Ctx<'_>) -> Outputs {
        let x = input(inputs, 0)?;
        let dims = x.shape();
        let shape: Vec<i64> = match self.axes.get(inputs)? {
            None => dims.iter().copied().filter(|&d| d != 1).collect(),
            Some(axes) => {
                let axes = norm_axes(&axes, dims.len())?;
                if let Some(&a) = axes.iter().find(|&&a| dims[a] != 1) {
                    return Err(Error::invalid(format!(
                        "cannot squeeze axis {a} of shape {dims:?}"
                    )));
                }
                (0..dims.len())
                    .filter(|i| !axes.contains(i))
                    .map(|i| dims[i])
                    .collect()
            }
        };
        one(x.reshaped(&shape)?)
    }
}

crate::register!("Squeeze", [1, LATEST], ANY, |n| Ok(Box::new(Squeeze {
    axes: IntsArg::new(n, "axes", 13, 1)?,
})));
