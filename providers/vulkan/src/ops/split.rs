//! Split: each output a gather from its offset along the axis.

use ort_core::kit::Attributes;
use ort_core::{Error, GraphView, NodeView};

use super::{axis, copy, is, strides, Builder, Claim, Ints, Io, Kernel, Lower, Lowered};
use crate::gpu::Gpu;

/// Output `index` of `count`.
#[derive(Clone, Debug)]
pub struct Split {
    axis: i64,
    index: usize,
    count: usize,
    /// Sizes from the `split` attribute (before opset 13); else input 1 when
    /// `sized`, else equal parts (the last one smaller, from opset 18).
    sizes: Option<Vec<i64>>,
    sized: bool,
}

pub fn claim(node: &NodeView<'_>, _: &GraphView<'_>) -> Result<Option<Claim>, String> {
    if !is(node, "Split") {
        return Ok(None);
    }
    let count = node.outputs.len();
    let (sizes, sized) = if node.opset < 13 {
        (node.attr_ints("split")?, false)
    } else {
        (None, node.has_input(1))
    };
    let axis = node.attr_int("axis", 0)?;
    let steps: Vec<Lowered> = (0..count)
        .map(|index| {
            let s = Split {
                axis,
                index,
                count,
                sizes: sizes.clone(),
                sized,
            };
            let low = Lowered::inputs(s, 1);
            if sized {
                low.with_ints(vec![1])
            } else {
                low
            }
        })
        .collect();
    Ok(Some(Claim {
        outputs: (0..count).collect(),
        steps,
    }))
}

impl Split {
    /// The axis, and this output's first index and length along it.
    fn part(&self, x: &[i64], ints: &[Ints]) -> Result<(usize, i64, i64), Error> {
        let a = axis(self.axis, x.len())?;
        let d = x[a];
        let sizes = match (&self.sizes, self.sized) {
            (Some(s), _) => s.clone(),
            (None, true) => ints[0].data.clone(),
            (None, false) => {
                let n = self.count as i64;
                let each = (d + n - 1) / n;
                (0..n).map(|k| (d - k * each).clamp(0, each)).collect()
            }
        };
        if sizes.len() != self.count
            || sizes.iter().sum::<i64>() != d
            || sizes.iter().any(|&s| s < 0)
        {
            return Err(Error::invalid(format!(
                "Split sizes {sizes:?} do not cover {d} along axis {a}"
            )));
        }
        Ok((a, sizes[..self.index].iter().sum(), sizes[self.index]))
    }
}

impl Kernel for Split {
    fn exact(&self) -> bool {
        true
    }

    fn shape(&self, inputs: &[&[i64]], ints: &[Ints]) -> Result<Vec<i64>, Error> {
        let (a, _, len) = self.part(inputs[0], ints)?;
        let mut out = inputs[0].to_vec();
        out[a] = len;
        Ok(out)
    }

    fn record(&self, gpu: &Gpu, b: &mut Builder, io: Io<'_>) -> Result<(), Error> {
        let Io { inputs, ints, out } = io;
        let x = &inputs[0];
        let (a, first, _) = self.part(&x.1, ints)?;
        let st = strides(&x.1);
        copy::gather(gpu, b, x, out, first * st[a], &st)
    }
}
