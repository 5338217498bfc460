//! Where (`shaders/where.wgsl`): the boolean condition is a host tensor, so the
//! host broadcasts it to the output's shape and uploads it as 32-bit flags.

use ort_core::{Error, GraphView, NodeView};

use super::binary::{broadcast, broadcast_strides, constants};
use super::{dispatch, is, numel, strides, Builder, Claim, Ints, Io, Kernel, Lower, Lowered};
use crate::gpu::Gpu;

#[derive(Clone, Debug)]
pub struct Where;

pub fn claim(node: &NodeView<'_>, _: &GraphView<'_>) -> Result<Option<Claim>, String> {
    if !is(node, "Where") {
        return Ok(None);
    }
    let args = vec![super::Arg::Input(1), super::Arg::Input(2)];
    Ok(Some(Claim::one(
        Lowered::new(Where, args).with_ints(vec![0]),
    )))
}

impl Kernel for Where {
    fn exact(&self) -> bool {
        true
    }

    fn shape(&self, inputs: &[&[i64]], ints: &[Ints]) -> Result<Vec<i64>, Error> {
        broadcast(&broadcast(&ints[0].shape, inputs[0])?, inputs[1])
    }

    fn record(&self, gpu: &Gpu, b: &mut Builder, io: Io<'_>) -> Result<(), Error> {
        let Io {
            inputs,
            ints,
            out: y,
        } = io;
        let out = &y.1;
        let n = numel(out);
        if n == 0 {
            return Ok(());
        }
        let (groups, pc) = constants(0, out, &inputs[0].1, &inputs[1].1)?;
        let c = &ints[0];
        let cs = broadcast_strides(&c.shape, out);
        let ys = strides(out);
        let flags: Vec<f32> = (0..n as i64)
            .map(|i| {
                let at: i64 = (0..out.len()).map(|k| (i / ys[k]) % out[k] * cs[k]).sum();
                f32::from_bits((c.data[at as usize] != 0) as u32)
            })
            .collect();
        let cond = gpu.upload(&flags).map_err(Error::fail)?;
        dispatch(
            gpu,
            b,
            &gpu.pipelines.select,
            &[&cond, &inputs[0].0, &inputs[1].0, &y.0],
            pc,
            groups,
        )
    }
}
