//! Clip: elementwise `min(max(x, lo), hi)` by plain comparisons, so NaN passes through;
//! bounds from attributes before opset 11, from optional scalar inputs after.

use ort_core::{Error, Tensor, Value};

use crate::kernel::{input, one, opt_input, Ctx, Kernel, Outputs};
use crate::ops::{LATEST, NUMERIC};
use crate::util::{unary, Num};

/// Bounds come from attributes before opset 11 and from optional scalar inputs after.
struct Clip {
    attrs: Option<(f32, f32)>,
}

fn bound<T: Num>(t: Option<&Tensor>, default: T) -> Result<T, Error> {
    match t {
        None => Ok(default),
        Some(t) if t.is_empty() => Ok(default),
        Some(t) if t.len() == 1 => Ok(t.as_slice::<T>()?[0]),
        Some(t) => Err(Error::invalid(format!(
            "Clip bounds must be scalars, got shape {:?}",
            t.shape()
        ))),
    }
}

impl Kernel for Clip {
    fn compute(&self, inputs: &[Option<&Value>], ctx: &Ctx<'_>) -> Outputs {
        let x = input(inputs, 0)?;
        one(crate::dispatch_numeric!(x.elem(), T => {
            let (lo, hi) = match self.attrs {
                Some((lo, hi)) => (T::from_f64(lo as f64), T::from_f64(hi as f64)),
                None => (bound(opt_input(inputs, 1)?, T::LOWEST)?, bound(opt_input(inputs, 2)?, T::HIGHEST)?),
            };
            // Same comparisons as std::min(std::max(x, lo), hi): NaN passes through.
            unary(ctx, x, move |v: T| {
                let v = if v < lo { lo } else { v };
                if hi < v { hi } else { v }
            })
        })?)
    }
}

crate::register!("Clip", [6, LATEST], NUMERIC, |n| {
    let attrs = if n.opset() < 11 {
        Some((n.float("min", f32::MIN)?, n.float("max", f32::MAX)?))
    } else {
        None
    };
    Ok(Box::new(Clip { attrs }))
});
