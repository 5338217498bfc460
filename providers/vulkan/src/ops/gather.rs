//! Gather of float data by host integer indices (`shaders/gather.wgsl`). The
//! indices are int64 on the host; they are range-checked there and uploaded as
//! 32-bit words, so no int64 arithmetic happens on the device and an index out of
//! range is an error, not a wrong read.

use ort_core::kit::Attributes;
use ort_core::{Error, GraphView, NodeView};

use super::{axis, dispatch, grid, is, numel, Builder, Claim, Ints, Io, Kernel, Lower, Lowered};
use crate::gpu::Gpu;

#[derive(Clone, Debug)]
pub struct Gather {
    axis: i64,
}

pub fn claim(node: &NodeView<'_>, _: &GraphView<'_>) -> Result<Option<Claim>, String> {
    if !is(node, "Gather") {
        return Ok(None);
    }
    let g = Gather {
        axis: node.attr_int("axis", 0)?,
    };
    Ok(Some(Claim::one(Lowered::inputs(g, 1).with_ints(vec![1]))))
}

impl Kernel for Gather {
    fn exact(&self) -> bool {
        true
    }

    fn shape(&self, inputs: &[&[i64]], ints: &[Ints]) -> Result<Vec<i64>, Error> {
        let x = inputs[0];
        let a = axis(self.axis, x.len())?;
        let mut out = x[..a].to_vec();
        out.extend(&ints[0].shape);
        out.extend(&x[a + 1..]);
        Ok(out)
    }

    fn record(&self, gpu: &Gpu, b: &mut Builder, io: Io<'_>) -> Result<(), Error> {
        let Io {
            inputs,
            ints,
            out: y,
        } = io;
        let x = &inputs[0];
        let a = axis(self.axis, x.1.len())?;
        let d = x.1[a];
        let words = ints[0]
            .data
            .iter()
            .map(|&j| {
                let k = if j < 0 { j + d } else { j };
                if (0..d).contains(&k) {
                    Ok(f32::from_bits(k as u32))
                } else {
                    Err(Error::invalid(format!(
                        "Gather index {j} is out of range for an axis of {d}"
                    )))
                }
            })
            .collect::<Result<Vec<f32>, Error>>()?;
        let n = numel(&y.1);
        if n == 0 {
            return Ok(());
        }
        let idx = gpu.upload(&words).map_err(Error::fail)?;
        let (groups, row) = grid(n)?;
        let inner = numel(&x.1[a + 1..]);
        let pc: [u32; 8] = [
            n as u32,
            row,
            inner as u32,
            words.len() as u32,
            d as u32,
            0,
            0,
            0,
        ];
        dispatch(
            gpu,
            b,
            &gpu.pipelines.gather,
            &[&x.0, &idx, &y.0],
            pc,
            groups,
        )
    }
}
