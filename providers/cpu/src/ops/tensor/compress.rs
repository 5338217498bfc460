//! Compress: lists the indices whose condition is non-zero, then copies the matching
//! blocks of each outer index into the output.

use ort_core::{Error, Value};

use super::indexing::gather_blocks;
use crate::kernel::{input, one, Ctx, Kernel, Outputs};
use crate::ops::{ANY, LATEST};
use crate::util::axis;

/// The slices along `axis` (or elements of the flattened input) whose condition is
/// true; a condition shorter than the axis drops the rest.
struct Compress {
    axis: Option<i64>,
}

impl Kernel for Compress {
    fn compute(&self, inputs: &[Option<&Value>], ctx: &Ctx<'_>) -> Outputs {
        let (x, cond) = (input(inputs, 0)?, input(inputs, 1)?);
        let c = cond.to_i64_vec()?;
        let (outer, d, inner, a) = match self.axis {
            None => (1usize, x.len(), 1usize, None),
            Some(ax) => {
                let a = axis(ax, x.rank())?;
                let s = x.shape();
                (
                    s[..a].iter().product::<i64>() as usize,
                    s[a] as usize,
                    s[a + 1..].iter().product::<i64>() as usize,
                    Some(a),
                )
            }
        };
        if c.len() > d {
            return Err(Error::invalid(format!(
                "Compress condition has {} entries for an axis of {d}",
                c.len()
            )));
        }
        let keep: Vec<usize> = (0..c.len()).filter(|&i| c[i] != 0).collect();
        let shape = match a {
            None => vec![keep.len() as i64],
            Some(a) => {
                let mut s = x.shape().to_vec();
                s[a] = keep.len() as i64;
                s
            }
        };
        let offs: Vec<usize> = (0..outer)
            .flat_map(|o| keep.iter().map(move |&k| (o * d + k) * inner))
            .collect();
        one(gather_blocks(ctx, x, &shape, &offs, inner)?)
    }
}

crate::register!("Compress", [9, LATEST], ANY, |n| Ok(Box::new(Compress {
    axis: if n.has("axis") {
        Some(n.int("axis", 0)?)
    } else {
        None
    }
})));
