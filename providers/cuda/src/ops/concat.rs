//! Concat and Split: each input (or output) is a strided copy into (or out
//! of) its place along the axis.

use ort_core::kit::Attributes;
use ort_core::kit::{axis, strides};
use ort_core::{Error, GraphView, NodeView};

use super::transpose::strided;
use super::{invalid, Arg, Claim, Cx, Ints, Io, Kernel, Lower, Lowered};

#[derive(Clone, Debug)]
pub struct Concat {
    pub axis: i64,
}

/// Output `index` of a Split into `parts` along `axis`; the sizes come from
/// host integers when given, else equal parts.
#[derive(Clone, Debug)]
pub struct Part {
    pub axis: i64,
    pub index: usize,
    pub parts: usize,
    pub sizes: Option<Vec<i64>>,
}

pub fn claim(node: &NodeView<'_>, _: &GraphView<'_>) -> Result<Option<Claim>, String> {
    if node.is_onnx("Concat") {
        let n = node.inputs.len();
        if n == 0 || (0..n).any(|k| !node.has_input(k)) {
            return Err("Concat with missing inputs".into());
        }
        let c = Concat {
            axis: node.attr_int("axis", 0)?,
        };
        return Ok(Some(Claim::one(Lowered::inputs(c, n))));
    }
    if !node.is_onnx("Split") {
        return Ok(None);
    }
    let parts = node.outputs.len();
    let from_input = node.opset >= 13 && node.has_input(1);
    let sizes = if node.opset < 13 {
        node.attr_ints("split")?
    } else {
        None
    };
    if node.opset >= 18 && node.attr("num_outputs").is_some() && !from_input {
        return Err("Split with num_outputs (uneven last part) is left to the CPU".into());
    }
    let axis = node.attr_int("axis", 0)?;
    let steps = (0..parts)
        .map(|index| {
            let p = Part {
                axis,
                index,
                parts,
                sizes: sizes.clone(),
            };
            let l = Lowered::new(p, vec![Arg::Input(0)]);
            if from_input {
                l.with_ints(vec![1])
            } else {
                l
            }
        })
        .collect();
    Ok(Some(Claim {
        steps,
        outputs: (0..parts).collect(),
    }))
}

impl Kernel for Concat {
    fn shape(&self, inputs: &[&[i64]], _: &[Ints]) -> Result<Vec<i64>, Error> {
        let first = inputs[0];
        let a = axis(self.axis, first.len())?;
        let mut out = first.to_vec();
        out[a] = 0;
        for s in inputs {
            let same = s.len() == first.len() && (0..s.len()).all(|k| k == a || s[k] == first[k]);
            if !same {
                return Err(invalid(format!(
                    "Concat of {first:?} and {s:?} on axis {a}"
                )));
            }
            out[a] += s[a];
        }
        Ok(out)
    }
    fn launch(&self, cx: &Cx<'_>, io: Io<'_>) -> Result<(), Error> {
        let Io { inputs, out, .. } = io;
        let a = axis(self.axis, out.shape.len())?;
        let ost = strides(&out.shape);
        let mut at = 0;
        for x in inputs {
            strided(
                cx,
                x,
                0,
                &strides(&x.shape),
                out,
                at * ost[a],
                &ost,
                &x.shape,
            )?;
            at += x.shape[a];
        }
        Ok(())
    }
}

impl Part {
    /// The part's first index and size along the axis.
    fn range(&self, x: &[i64], ints: &[Ints]) -> Result<(usize, i64, i64), Error> {
        let a = axis(self.axis, x.len())?;
        let sizes = match (ints.first(), &self.sizes) {
            (Some(i), _) => i.data.clone(),
            (None, Some(s)) => s.clone(),
            (None, None) => {
                if x[a] % self.parts as i64 != 0 {
                    return Err(invalid(format!(
                        "Split of {} into {} equal parts",
                        x[a], self.parts
                    )));
                }
                vec![x[a] / self.parts as i64; self.parts]
            }
        };
        if sizes.len() != self.parts
            || sizes.iter().sum::<i64>() != x[a]
            || sizes.iter().any(|&s| s < 0)
        {
            return Err(invalid(format!(
                "Split sizes {sizes:?} for axis of {}",
                x[a]
            )));
        }
        Ok((a, sizes[..self.index].iter().sum(), sizes[self.index]))
    }
}

impl Kernel for Part {
    fn shape(&self, inputs: &[&[i64]], ints: &[Ints]) -> Result<Vec<i64>, Error> {
        let (a, _, size) = self.range(inputs[0], ints)?;
        let mut out = inputs[0].to_vec();
        out[a] = size;
        Ok(out)
    }
    fn launch(&self, cx: &Cx<'_>, io: Io<'_>) -> Result<(), Error> {
        let Io { inputs, ints, out } = io;
        let x = &inputs[0];
        let (a, start, _) = self.range(&x.shape, ints)?;
        let st = strides(&x.shape);
        strided(
            cx,
            x,
            start * st[a],
            &st,
            out,
            0,
            &strides(&out.shape),
            &out.shape,
        )
    }
}
