//! Slice: a gather from an offset with the steps as strides (negative ones
//! included). Starts, ends, axes and steps are host integers (or, before opset
//! 10, attributes).

use ort_core::kit::Attributes;
use ort_core::{Error, GraphView, NodeView};

use super::{copy, is, strides, Builder, Claim, Ints, Io, Kernel, Lower, Lowered};
use crate::gpu::Gpu;

#[derive(Clone, Debug)]
pub struct Slice {
    /// Before opset 10: starts, ends, axes as attributes.
    attrs: Option<[Vec<i64>; 3]>,
    has_axes: bool,
    has_steps: bool,
}

pub fn claim(node: &NodeView<'_>, _: &GraphView<'_>) -> Result<Option<Claim>, String> {
    if !is(node, "Slice") {
        return Ok(None);
    }
    if node.opset < 10 {
        let starts = node.attr_ints("starts")?.ok_or("Slice-1 without starts")?;
        let ends = node.attr_ints("ends")?.ok_or("Slice-1 without ends")?;
        let axes = node
            .attr_ints("axes")?
            .unwrap_or_else(|| (0..starts.len() as i64).collect());
        let s = Slice {
            attrs: Some([starts, ends, axes]),
            has_axes: true,
            has_steps: false,
        };
        return Ok(Some(Claim::one(Lowered::inputs(s, 1))));
    }
    let has_axes = node.has_input(3);
    let has_steps = node.has_input(4);
    let mut ints = vec![1, 2];
    if has_axes {
        ints.push(3);
    }
    if has_steps {
        ints.push(4);
    }
    let s = Slice {
        attrs: None,
        has_axes,
        has_steps,
    };
    Ok(Some(Claim::one(Lowered::inputs(s, 1).with_ints(ints))))
}

impl Slice {
    /// Per axis of x: (first index, step, count).
    fn plan(&self, x: &[i64], ints: &[Ints]) -> Result<Vec<(i64, i64, i64)>, Error> {
        let r = x.len();
        let (starts, ends, axes, steps) = match &self.attrs {
            Some([s, e, a]) => (s.clone(), e.clone(), a.clone(), vec![1; s.len()]),
            None => {
                let starts = ints[0].data.clone();
                let ends = ints[1].data.clone();
                let mut k = 2;
                let axes = if self.has_axes {
                    k += 1;
                    ints[k - 1].data.clone()
                } else {
                    (0..starts.len() as i64).collect()
                };
                let steps = if self.has_steps {
                    ints[k].data.clone()
                } else {
                    vec![1; starts.len()]
                };
                (starts, ends, axes, steps)
            }
        };
        if ends.len() != starts.len() || axes.len() != starts.len() || steps.len() != starts.len() {
            return Err(Error::invalid(
                "Slice starts, ends, axes and steps differ in length",
            ));
        }
        let mut plan: Vec<(i64, i64, i64)> = x.iter().map(|&d| (0, 1, d)).collect();
        let mut seen = vec![false; r];
        for j in 0..starts.len() {
            let a = super::axis(axes[j], r)?;
            if std::mem::replace(&mut seen[a], true) {
                return Err(Error::invalid(format!("Slice axis {} repeats", axes[j])));
            }
            let d = x[a];
            let step = steps[j];
            if step == 0 {
                return Err(Error::invalid("Slice step 0"));
            }
            let fix = |v: i64| if v < 0 { v.saturating_add(d) } else { v };
            let (s, e) = (fix(starts[j]), fix(ends[j]));
            let (first, count) = if step > 0 {
                let s = s.clamp(0, d);
                let e = e.clamp(0, d);
                (s, if e > s { (e - s + step - 1) / step } else { 0 })
            } else {
                let s = s.max(0).min(d - 1);
                let e = e.max(-1).min(d - 1);
                (s, if s > e { (s - e - step - 1) / -step } else { 0 })
            };
            plan[a] = (first, step, count);
        }
        Ok(plan)
    }
}

impl Kernel for Slice {
    fn exact(&self) -> bool {
        true
    }

    fn shape(&self, inputs: &[&[i64]], ints: &[Ints]) -> Result<Vec<i64>, Error> {
        Ok(self.plan(inputs[0], ints)?.iter().map(|p| p.2).collect())
    }

    fn record(&self, gpu: &Gpu, b: &mut Builder, io: Io<'_>) -> Result<(), Error> {
        let Io { inputs, ints, out } = io;
        let x = &inputs[0];
        let st = strides(&x.1);
        let plan = self.plan(&x.1, ints)?;
        let base: i64 = plan.iter().zip(&st).map(|(p, s)| p.0.max(0) * s).sum();
        let steps: Vec<i64> = plan.iter().zip(&st).map(|(p, s)| p.1 * s).collect();
        copy::gather(gpu, b, x, out, base, &steps)
    }
}
