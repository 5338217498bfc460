//! OneHot: fills the output with `off`, then for each in-range index (negatives wrapped
//! by depth) writes `on` at its position on the new depth axis.

use ort_core::{Error, Value};

use super::indexing::{to_f64_vec, to_i64_lossy};
use crate::kernel::{input, one, Ctx, Kernel, Outputs};
use crate::ops::{ANY, LATEST};
use crate::util::Movable;

/// Indices expanded along a new `depth`-sized axis: `on` where the position equals
/// the index (negative indices count from the end), `off` elsewhere.
struct OneHot {
    axis: i64,
}

impl Kernel for OneHot {
    // The bodies are generic over movable words and strings; words are Copy.
    #[allow(clippy::clone_on_copy)]
    fn compute(&self, inputs: &[Option<&Value>], ctx: &Ctx<'_>) -> Outputs {
        let (ind, depth, vals) = (input(inputs, 0)?, input(inputs, 1)?, input(inputs, 2)?);
        let depth = *to_f64_vec(depth)?
            .first()
            .ok_or_else(|| Error::invalid("OneHot depth is empty"))? as i64;
        if depth < 1 {
            return Err(Error::invalid(format!(
                "OneHot depth {depth} must be positive"
            )));
        }
        if vals.len() != 2 {
            return Err(Error::invalid(
                "OneHot values must hold [off_value, on_value]",
            ));
        }
        let r = ind.rank() as i64;
        let a = if self.axis < 0 {
            self.axis + r + 1
        } else {
            self.axis
        };
        if !(0..=r).contains(&a) {
            return Err(Error::invalid(format!(
                "OneHot axis {} is out of range for indices of rank {r}",
                self.axis
            )));
        }
        let a = a as usize;
        let idx: Vec<i64> = to_i64_lossy(ind)?
            .into_iter()
            .map(|i| if i < 0 { i + depth } else { i })
            .collect();
        let mut shape = ind.shape().to_vec();
        shape.insert(a, depth);
        let inner = ind.shape()[a..].iter().product::<i64>() as usize;
        let d = depth as usize;
        one(crate::dispatch_move!(vals.elem(), T => {
            let v = T::elems_of(vals)?;
            let (off, on) = (v[0].clone(), v[1].clone());
            T::new_tensor(ctx, vals.elem(), &shape, |out| {
                out.fill(off);
                if inner == 0 {
                    return;
                }
                for (p, &i) in idx.iter().enumerate() {
                    if (0..depth).contains(&i) {
                        let (o, n) = (p / inner, p % inner);
                        out[(o * d + i as usize) * inner + n] = on.clone();
                    }
                }
            })
        })?)
    }
}

crate::register!("OneHot", [9, LATEST], ANY, |n| Ok(Box::new(OneHot {
    axis: n.int("axis", -1)?
})));
