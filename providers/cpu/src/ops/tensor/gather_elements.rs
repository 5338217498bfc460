//! GatherElements: an odometer over the indices gives each element's source offset (its
//! coordinate on `axis` replaced by the index), then copies those single elements.

use ort_core::{Error, Value};

use super::indexing::{element_offsets, gather_blocks};
use crate::kernel::{input, one, Ctx, Kernel, Outputs};
use crate::ops::{ANY, LATEST};

struct GatherElements {
    axis: i64,
}

impl Kernel for GatherElements {
    fn compute(&self, inputs: &[Option<&Value>], ctx: &Ctx<'_>) -> Outputs {
        let (x, ind) = (input(inputs, 0)?, input(inputs, 1)?);
        let r = x.rank();
        if r == 0 || ind.rank() != r {
            return Err(Error::invalid(format!(
                "GatherElements data (rank {r}) and indices (rank {}) must share a rank of 1 or more",
                ind.rank()
            )));
        }
        let offs = element_offsets("GatherElements", x, ind, self.axis)?;
        one(gather_blocks(ctx, x, ind.shape(), &offs, 1)?)
    }
}

crate::register!("GatherElements", [11, LATEST], ANY, |n| Ok(Box::new(
    GatherElements {
        axis: n.int("axis", 0)?
    }
)));
