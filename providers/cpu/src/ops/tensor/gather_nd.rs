//! GatherND: turns each index tuple (batch axes walked in step) into a flat offset
//! through row-major strides, then copies the block of trailing dimensions it selects.

use ort_core::{Error, Value};

use super::indexing::{gather_blocks, norm_index};
use crate::kernel::{input, one, Ctx, Kernel, Outputs};
use crate::ops::{ANY, LATEST};
use crate::util::{dims, strides_of};

struct GatherNd {
    batch_dims: usize,
}

/// Shared by GatherND and ScatterND: the element offset into `data` of each index
/// tuple (the last axis of `indices`), and the number of elements each one selects.
/// The first `b` axes of data and indices are batch axes walked in step.
pub(crate) fn nd_offsets(
    data_shape: &[i64],
    ind_shape: &[i64],
    ind: &[i64],
    b: usize,
) -> Result<(Vec<usize>, usize), Error> {
    let q = ind_shape.len();
    let r = data_shape.len();
    if q < 1 || b >= q || b >= r.max(1) {
        return Err(Error::invalid(format!(
            "indices of shape {ind_shape:?} do not fit batch_dims {b} and data of rank {r}"
        )));
    }
    if data_shape[..b] != ind_shape[..b] {
        return Err(Error::invalid(format!(
            "batch dimensions of data {data_shape:?} and indices {ind_shape:?} differ"
        )));
    }
    let k = ind_shape[q - 1] as usize;
    if k < 1 || b + k > r {
        return Err(Error::invalid(format!(
            "index tuples of length {k} do not fit data of rank {r} with batch_dims {b}"
        )));
    }
    let dd = dims(data_shape);
    let st = strides_of(&dd);
    let inner: usize = dd[b + k..].iter().product();
    let batch_stride: usize = dd[b..].iter().product();
    let tuples = ind.len().checked_div(k).unwrap_or(0);
    let batches: usize = dd[..b].iter().product();
    let per_batch = tuples.checked_div(batches).unwrap_or(0);
    let mut offs = Vec::with_capacity(tuples);
    for (t, tup) in ind.chunks(k).enumerate() {
        let bi = t.checked_div(per_batch).unwrap_or(0);
        let mut off = bi * batch_stride;
        for (m, &i) in tup.iter().enumerate() {
            off += norm_index(i, data_shape[b + m])? * st[b + m] as usize;
        }
        offs.push(off);
    }
    Ok((offs, inner))
}

impl Kernel for GatherNd {
    fn compute(&self, inputs: &[Option<&Value>], ctx: &Ctx<'_>) -> Outputs {
        let (x, ind) = (input(inputs, 0)?, input(inputs, 1)?);
        let b = self.batch_dims;
        let (offs, _) = nd_offsets(x.shape(), ind.shape(), &ind.to_i64_vec()?, b)?;
        let q = ind.rank();
        let k = ind.shape()[q - 1] as usize;
        let shape: Vec<i64> = [&ind.shape()[..q - 1], &x.shape()[b + k..]].concat();
        let inner = x.shape()[b + k..].iter().product::<i64>() as usize;
        one(gather_blocks(ctx, x, &shape, &offs, inner)?)
    }
}

crate::register!("GatherND", [11, LATEST], ANY, |n| {
    let b = n.int("batch_dims", 0)?;
    if b < 0 {
        return Err(Error::invalid("GatherND batch_dims must not be negative"));
    }
    Ok(Box::new(GatherNd {
        batch_dims: b as usize,
    }))
});
