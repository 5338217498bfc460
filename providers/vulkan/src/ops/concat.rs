//! Concat: each input copied into its region of the output.

use ort_core::kit::Attributes;
use ort_core::{Error, GraphView, NodeView};

use super::{axis, copy, is, strides, Builder, Claim, Ints, Io, Kernel, Lower, Lowered};
use crate::gpu::Gpu;

#[derive(Clone, Debug)]
pub struct Concat {
    axis: i64,
}

pub fn claim(node: &NodeView<'_>, _: &GraphView<'_>) -> Result<Option<Claim>, String> {
    if !is(node, "Concat") {
        return Ok(None);
    }
    if node.inputs.iter().any(|v| v.is_empty()) {
        return Err("Concat with an omitted input".into());
    }
    let c = Concat {
        axis: node.attr_int("axis", 1)?,
    };
    Ok(Some(Claim::one(Lowered::inputs(c, node.inputs.len()))))
}

impl Kernel for Concat {
    fn exact(&self) -> bool {
        true
    }

    fn shape(&self, inputs: &[&[i64]], _: &[Ints]) -> Result<Vec<i64>, Error> {
        let first = inputs[0];
        let a = axis(self.axis, first.len())?;
        let mut out = first.to_vec();
        out[a] = 0;
        for s in inputs {
            let same = s.len() == first.len() && (0..s.len()).all(|k| k == a || s[k] == first[k]);
            if !same {
                return Err(Error::invalid(format!(
                    "Concat of {first:?} and {s:?} along axis {a}"
                )));
            }
            out[a] += s[a];
        }
        Ok(out)
    }

    fn record(&self, gpu: &Gpu, b: &mut Builder, io: Io<'_>) -> Result<(), Error> {
        let Io { inputs, out, .. } = io;
        let a = axis(self.axis, out.1.len())?;
        let dst = strides(&out.1);
        let mut at = 0;
        for x in inputs {
            copy::copy(
                gpu,
                b,
                x,
                out,
                &copy::Region {
                    dims: &x.1,
                    src: 0,
                    src_strides: &strides(&x.1),
                    dst: at * dst[a],
                    dst_strides: &dst,
                },
            )?;
            at += x.1[a];
        }
        Ok(())
    }
}
