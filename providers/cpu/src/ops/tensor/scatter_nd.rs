//! ScatterND: index tuples become flat offsets through row-major strides, then a copy of
//! the data takes each update block at its offset in order, combined by the reduction.

use ort_core::{Error, Value};

use super::gather_nd::nd_offsets;
use super::indexing::{scatter_blocks, Reduction};
use crate::kernel::{input, one, Ctx, Kernel, Outputs};
use crate::ops::{ANY, LATEST};

struct ScatterNd {
    red: Reduction,
}

impl Kernel for ScatterNd {
    fn compute(&self, inputs: &[Option<&Value>], ctx: &Ctx<'_>) -> Outputs {
        let (x, ind, upd) = (input(inputs, 0)?, input(inputs, 1)?, input(inputs, 2)?);
        let (offs, inner) = nd_offsets(x.shape(), ind.shape(), &ind.to_i64_vec()?, 0)?;
        let q = ind.rank();
        let k = ind.shape()[q - 1] as usize;
        let want: Vec<i64> = [&ind.shape()[..q - 1], &x.shape()[k..]].concat();
        if upd.shape() != want.as_slice() {
            return Err(Error::invalid(format!(
                "ScatterND updates have shape {:?}, expected {want:?}",
                upd.shape()
            )));
        }
        one(scatter_blocks(ctx, x, upd, &offs, inner, self.red)?)
    }
}

crate::register!("ScatterND", [11, LATEST], ANY, |n| Ok(Box::new(
    ScatterNd {
        red: Reduction::parse(&n.string("reduction", "none")?)?
    }
)));
