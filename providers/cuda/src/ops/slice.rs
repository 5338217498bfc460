//! Slice and Expand: strided reads of the input (a step per axis for Slice,
//! stride 0 along broadcast axes for Expand).

use ort_core::kit::{axis, broadcast, broadcast_strides, strides};
use ort_core::{Error, GraphView, NodeView};

use super::transpose::strided;
use super::{invalid, Claim, Cx, Ints, Io, Kernel, Lower, Lowered};

/// Slice-10 and later: starts, ends and the optional axes and steps are host
/// integers (in that order in `ints`; absent ones are not there).
#[derive(Clone, Debug)]
pub struct Slice {
    pub has_axes: bool,
    pub has_steps: bool,
}

pub fn claim(node: &NodeView<'_>, _: &GraphView<'_>) -> Result<Option<Claim>, String> {
    if node.is_onnx("Expand") {
        return Ok(Some(Claim::one(
            Lowered::inputs(Expand, 1).with_ints(vec![1]),
        )));
    }
    if !node.is_onnx("Slice") {
        return Ok(None);
    }
    if node.opset < 10 {
        return Err("Slice before opset 10 takes attributes; the CPU runs it".into());
    }
    let mut ints = vec![1, 2];
    let (has_axes, has_steps) = (node.has_input(3), node.has_input(4));
    if has_axes {
        ints.push(3);
    }
    if has_steps {
        ints.push(4);
    }
    Ok(Some(Claim::one(
        Lowered::inputs(
            Slice {
                has_axes,
                has_steps,
            },
            1,
        )
        .with_ints(ints),
    )))
}

impl Slice {
    /// Per axis: first index, step and count.
    fn ranges(&self, x: &[i64], ints: &[Ints]) -> Result<Vec<(i64, i64, i64)>, Error> {
        let r = x.len();
        let (starts, ends) = (&ints[0].data, &ints[1].data);
        let axes: Vec<i64> = if self.has_axes {
            ints[2].data.clone()
        } else {
            (0..starts.len() as i64).collect()
        };
        let steps: Vec<i64> = if self.has_steps {
            ints[2 + self.has_axes as usize].data.clone()
        } else {
            vec![1; starts.len()]
        };
        if ends.len() != starts.len() || axes.len() != starts.len() || steps.len() != starts.len() {
            return Err(invalid(
                "Slice starts, ends, axes and steps differ in length",
            ));
        }
        let mut out: Vec<(i64, i64, i64)> = x.iter().map(|&d| (0, 1, d)).collect();
        for j in 0..starts.len() {
            let a = axis(axes[j], r)?;
            let (d, step) = (x[a], steps[j]);
            if step == 0 {
                return Err(invalid("Slice step 0"));
            }
            let clamp = |v: i64, lo: i64, hi: i64| {
                let v = if v < 0 { v.saturating_add(d) } else { v };
                v.max(lo).min(hi)
            };
            let (s, e) = if step > 0 {
                (clamp(starts[j], 0, d), clamp(ends[j], 0, d))
            } else {
                (clamp(starts[j], 0, d - 1), clamp(ends[j], -1, d - 1))
            };
            let count = if step > 0 {
                (e - s + step - 1) / step
            } else {
                (s - e - step - 1) / -step
            };
            out[a] = (s, step, count.max(0));
        }
        Ok(out)
    }
}

impl Kernel for Slice {
    fn shape(&self, inputs: &[&[i64]], ints: &[Ints]) -> Result<Vec<i64>, Error> {
        Ok(self.ranges(inputs[0], ints)?.iter().map(|r| r.2).collect())
    }
    fn launch(&self, cx: &Cx<'_>, io: Io<'_>) -> Result<(), Error> {
        let Io { inputs, ints, out } = io;
        let x = &inputs[0];
        let st = strides(&x.shape);
        let ranges = self.ranges(&x.shape, ints)?;
        let base: i64 = ranges.iter().zip(&st).map(|(r, s)| r.0 * s).sum();
        let src: Vec<i64> = ranges.iter().zip(&st).map(|(r, s)| r.1 * s).collect();
        strided(cx, x, base, &src, out, 0, &strides(&out.shape), &out.shape)
    }
}

/// Expand-8: numpy broadcast of the input with the host-integer shape.
#[derive(Clone, Debug)]
pub struct Expand;

impl Kernel for Expand {
    fn shape(&self, inputs: &[&[i64]], ints: &[Ints]) -> Result<Vec<i64>, Error> {
        broadcast(inputs[0], &ints[0].data)
    }
    fn launch(&self, cx: &Cx<'_>, io: Io<'_>) -> Result<(), Error> {
        let Io { inputs, out, .. } = io;
        let x = &inputs[0];
        let src = broadcast_strides(&x.shape, &out.shape);
        strided(cx, x, 0, &src, out, 0, &strides(&out.shape), &out.shape)
    }
}
