//! MaxUnpool (opsets 9, 11, 22): scatters MaxPool's values back to the positions
//! its indices name, zeros elsewhere.

use ort_core::{Error, Value};

use super::window::Window;
use crate::kernel::{input, one, opt_input, Ctx, Kernel, NodeInfo, Outputs};
use crate::ops::{LATEST, NUMERIC};
use crate::util::dims;

struct MaxUnpool {
    window: Window,
}

fn build(info: &NodeInfo<'_, '_>) -> Result<Box<dyn Kernel>, Error> {
    let window = Window::parse(info)?;
    if window.kernel.is_none() {
        return Err(Error::invalid("MaxUnpool needs kernel_shape"));
    }
    Ok(Box::new(MaxUnpool { window }))
}

impl Kernel for MaxUnpool {
    fn compute(&self, inputs: &[Option<&Value>], ctx: &Ctx<'_>) -> Outputs {
        let x = input(inputs, 0)?;
        let idx = input(inputs, 1)?.to_i64_vec()?;
        let xs = dims(x.shape());
        if xs.len() < 3 || idx.len() != x.len() {
            return Err(Error::invalid(format!(
                "MaxUnpool: X {xs:?} needs spatial axes and indices of the same shape"
            )));
        }
        let k = xs.len() - 2;
        let kernel = self.window.kernel.clone().unwrap_or_default();
        if kernel.len() != k {
            return Err(Error::invalid(format!(
                "MaxUnpool: kernel_shape {kernel:?} does not fit input {xs:?}"
            )));
        }
        let (strides, _, pads) = self.window.params(k)?;
        // The shape the indices refer to.
        let mut inferred = xs[..2].to_vec();
        for i in 0..k {
            let v = (xs[i + 2] as i64 - 1) * strides[i] as i64 - (pads[i] + pads[i + k]) as i64
                + kernel[i] as i64;
            if v < 0 {
                return Err(Error::invalid(format!(
                    "MaxUnpool: negative output size on spatial axis {i}"
                )));
            }
            inferred.push(v as usize);
        }
        let shape: Vec<usize> = match opt_input(inputs, 2)? {
            Some(t) => {
                let s = t.to_i64_vec()?;
                if s.len() != xs.len() || s.iter().zip(&inferred).any(|(&a, &b)| a < b as i64) {
                    return Err(Error::invalid(format!(
                        "MaxUnpool: output_shape {s:?} is smaller than the unpooled shape {inferred:?}"
                    )));
                }
                s.iter().map(|&v| v as usize).collect()
            }
            None => inferred.clone(),
        };
        let total: usize = inferred.iter().product();
        if let Some(&bad) = idx.iter().find(|&&i| i < 0 || i as usize >= total) {
            return Err(Error::invalid(format!(
                "MaxUnpool: index {bad} is outside the unpooled tensor of {total} elements"
            )));
        }
        // Position in `shape` of flat index `i` of `inferred` (they agree on the
        // leading part; extra room is at the end of each axis).
        let place = |mut i: usize| {
            let mut off = 0;
            let mut stride = 1;
            for d in (0..inferred.len()).rev() {
                off += (i % inferred[d]) * stride;
                i /= inferred[d];
                stride *= shape[d];
            }
            off
        };
        let out_shape: Vec<i64> = shape.iter().map(|&d| d as i64).collect();
        let t = crate::dispatch_numeric!(x.elem(), T => {
            let xd = x.as_slice::<T>()?;
            ctx.tensor::<T>(&out_shape, |o| {
                o.fill(T::default());
                for (&v, &i) in xd.iter().zip(&idx) {
                    o[place(i as usize)] = v;
                }
            })
        })?;
        one(t)
    }
}

crate::register!("MaxUnpool", [9, LATEST], NUMERIC, build);
