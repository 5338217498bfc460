//! ScatterElements (and Scatter): an odometer over the indices gives each update's flat
//! offset, then a copy of the data takes the updates in order, combined by the reduction.

use ort_core::{Error, Value};

use super::indexing::{element_offsets, scatter_blocks, Reduction};
use crate::kernel::{input, one, Ctx, Kernel, Outputs};
use crate::ops::{ANY, LATEST};

/// ScatterElements, and its deprecated older name Scatter.
struct ScatterElements {
    axis: i64,
    red: Reduction,
}

impl Kernel for ScatterElements {
    fn compute(&self, inputs: &[Option<&Value>], ctx: &Ctx<'_>) -> Outputs {
        let (x, ind, upd) = (input(inputs, 0)?, input(inputs, 1)?, input(inputs, 2)?);
        let r = x.rank();
        if r == 0 || ind.rank() != r || upd.shape() != ind.shape() {
            return Err(Error::invalid(format!(
                "ScatterElements needs data of rank 1 or more and indices and updates of \
                 its rank and one shape; got {:?}, {:?}, {:?}",
                x.shape(),
                ind.shape(),
                upd.shape()
            )));
        }
        let offs = element_offsets("ScatterElements", x, ind, self.axis)?;
        one(scatter_blocks(ctx, x, upd, &offs, 1, self.red)?)
    }
}

fn build(n: &crate::kernel::NodeInfo<'_, '_>) -> Result<Box<dyn Kernel>, Error> {
    Ok(Box::new(ScatterElements {
        axis: n.int("axis", 0)?,
        red: Reduction::parse(&n.string("reduction", "none")?)?,
    }))
}

crate::register!("ScatterElements", [11, LATEST], ANY, build);
crate::register!("Scatter", [9, LATEST], ANY, build);
