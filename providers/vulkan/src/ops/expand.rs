//! Expand: numpy broadcasting to a host shape, as a gather with zero strides.

use ort_core::{Error, GraphView, NodeView};

use super::binary::{broadcast, broadcast_strides};
use super::{copy, is, Builder, Claim, Ints, Io, Kernel, Lower, Lowered};
use crate::gpu::Gpu;

#[derive(Clone, Debug)]
pub struct Expand;

pub fn claim(node: &NodeView<'_>, _: &GraphView<'_>) -> Result<Option<Claim>, String> {
    if !is(node, "Expand") {
        return Ok(None);
    }
    Ok(Some(Claim::one(
        Lowered::inputs(Expand, 1).with_ints(vec![1]),
    )))
}

impl Kernel for Expand {
    fn exact(&self) -> bool {
        true
    }

    fn shape(&self, inputs: &[&[i64]], ints: &[Ints]) -> Result<Vec<i64>, Error> {
        broadcast(inputs[0], &ints[0].data)
    }

    fn record(&self, gpu: &Gpu, b: &mut Builder, io: Io<'_>) -> Result<(), Error> {
        let Io { inputs, out, .. } = io;
        let st = broadcast_strides(&inputs[0].1, &out.1);
        copy::gather(gpu, b, &inputs[0], out, 0, &st)
    }
}
