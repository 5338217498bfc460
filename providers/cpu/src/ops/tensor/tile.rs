//! Tile: one strided copy over interleaved [repeat, dim] axes in which each repeat axis
//! has stride 0, so every tile rereads the same input.

use ort_core::{Error, Value};

use super::{ints_input, strided};
use crate::kernel::{input, one, Ctx, Kernel, Outputs};
use crate::ops::{ANY, LATEST};
use crate::util::{dims, strides_of};

/// Tiling is a strided copy over [r0, d0, r1, d1, ...] where each repeat axis has
/// stride 0.
struct Tile;

impl Kernel for Tile {
    fn compute(&self, inputs: &[Option<&Value>], ctx: &Ctx<'_>) -> Outputs {
        let x = input(inputs, 0)?;
        let reps =
            ints_input(inputs, 1)?.ok_or_else(|| Error::invalid("input 1 (repeats) is missing"))?;
        if reps.len() != x.rank() || reps.iter().any(|&r| r < 0) {
            return Err(Error::invalid(format!(
                "repeats {reps:?} do not fit shape {:?}",
                x.shape()
            )));
        }
        let d = dims(x.shape());
        let s = strides_of(&d);
        let out: Vec<i64> = x.shape().iter().zip(&reps).map(|(a, b)| a * b).collect();
        let shape: Vec<usize> = d
            .iter()
            .zip(&reps)
            .flat_map(|(&d, &r)| [r as usize, d])
            .collect();
        let strides: Vec<isize> = s.iter().flat_map(|&s| [0, s]).collect();
        one(strided(ctx, x, &out, 0, &shape, &strides)?)
    }
}

crate::register!("Tile", [6, LATEST], ANY, |_| Ok(Box::new(Tile)));
