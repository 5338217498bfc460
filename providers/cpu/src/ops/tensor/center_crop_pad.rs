//! CenterCropPad: an odometer walk over output coordinates, each read from the input at a
//! per-axis centered shift, or set to the default (zero) value when outside it.

use ort_core::{Error, Value};

use super::{ints_input, norm_axes};
use crate::kernel::{input, one, Ctx, Kernel, Outputs};
use crate::ops::{ANY, LATEST};
use crate::util::{dims, strides_of, Movable};

/// Center-crops or zero-pads the chosen axes to the given sizes (an odd difference
/// puts the extra element at the end).
struct CenterCropPad {
    axes: Option<Vec<i64>>,
}

impl Kernel for CenterCropPad {
    // The bodies are generic over movable words and strings; words are Copy.
    #[allow(clippy::clone_on_copy)]
    fn compute(&self, inputs: &[Option<&Value>], ctx: &Ctx<'_>) -> Outputs {
        let x = input(inputs, 0)?;
        let sizes = ints_input(inputs, 1)?.ok_or_else(|| Error::invalid("shape is missing"))?;
        let r = x.rank();
        let axes = norm_axes(
            &self.axes.clone().unwrap_or_else(|| (0..r as i64).collect()),
            r,
        )?;
        if axes.len() != sizes.len() || sizes.iter().any(|&s| s < 0) {
            return Err(Error::invalid(format!(
                "CenterCropPad shape {sizes:?} does not match axes {axes:?}"
            )));
        }
        let xd = dims(x.shape());
        let mut od = xd.clone();
        // Per axis: source offset of output position 0 (negative when padding).
        let mut shift = vec![0i64; r];
        for (&a, &s) in axes.iter().zip(&sizes) {
            let d = xd[a] as i64;
            shift[a] = (d - s).div_euclid(2);
            if s > d {
                shift[a] = -((s - d) / 2);
            }
            od[a] = s as usize;
        }
        let xs = strides_of(&xd);
        let n: usize = od.iter().product();
        let out_shape: Vec<i64> = od.iter().map(|&v| v as i64).collect();
        one(crate::dispatch_move!(x.elem(), T => {
            let src = T::elems_of(x)?;
            T::new_tensor(ctx, x.elem(), &out_shape, |out| {
                let mut coord = vec![0usize; r];
                for o in out.iter_mut().take(n) {
                    let mut off = 0isize;
                    let mut inside = true;
                    for a in 0..r {
                        let s = coord[a] as i64 + shift[a];
                        if s < 0 || s >= xd[a] as i64 {
                            inside = false;
                            break;
                        }
                        off += s as isize * xs[a];
                    }
                    *o = if inside { src[off as usize].clone() } else { T::default() };
                    for a in (0..r).rev() {
                        coord[a] += 1;
                        if coord[a] < od[a] {
                            break;
                        }
                        coord[a] = 0;
                    }
                }
            })
        })?)
    }
}

crate::register!("CenterCropPad", [18, LATEST], ANY, |n| Ok(Box::new(
    CenterCropPad {
        axes: n.ints("axes")?
    }
)));
