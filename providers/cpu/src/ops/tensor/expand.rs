//! Expand: a strided copy over the broadcast shape in which broadcast dimensions get
//! stride 0 (a zero-copy view when the result is one contiguous run).

use ort_core::{Error, Value};

use super::{ints_input, strided};
use crate::kernel::{input, one, Ctx, Kernel, Outputs};
use crate::ops::{ANY, LATEST};
use crate::util::{broadcast_all, dims, strides_of};

struct Expand;

impl Kernel for Expand {
    fn compute(&self, inputs: &[Option<&Value>], ctx: &Ctx<'_>) -> Outputs {
        let x = input(inputs, 0)?;
        let req =
            ints_input(inputs, 1)?.ok_or_else(|| Error::invalid("input 1 (shape) is missing"))?;
        let out = broadcast_all(&[x.shape(), &req])?;
        // Broadcast dimensions read the same element again: stride 0.
        let xd = dims(x.shape());
        let xs = strides_of(&xd);
        let off = out.len() - xd.len();
        let strides: Vec<isize> = (0..out.len())
            .map(|i| {
                if i < off || xd[i - off] == 1 {
                    0
                } else {
                    xs[i - off]
                }
            })
            .collect();
        one(strided(ctx, x, &out, 0, &dims(&out), &strides)?)
    }
}

crate::register!("Expand", [8, LATEST], ANY, |_| Ok(Box::new(Expand)));
