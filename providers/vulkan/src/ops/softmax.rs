//! Softmax and LogSoftmax over rows (`shaders/softmax.wgsl`): one workgroup per
//! row, reductions in workgroup memory.

use ort_core::kit::Attributes;
use ort_core::{Error, GraphView, NodeView};

use super::{dispatch, is, numel, row_grid, Builder, Claim, Ints, Io, Kernel, Lower, Lowered};
use crate::gpu::Gpu;

#[derive(Clone, Debug)]
pub struct Softmax {
    pub log: bool,
    pub axis: i64,
    /// Hide keys past the diagonal (attention): rows are queries of the
    /// second-to-last axis.
    pub causal: bool,
}

/// Before opset 13 the input is coerced to 2-D at `axis`, any axis; from 13 on
/// the op works along one axis, which the shader can do only when it is the last.
pub fn claim(node: &NodeView<'_>, graph: &GraphView<'_>) -> Result<Option<Claim>, String> {
    let log = if is(node, "Softmax") {
        false
    } else if is(node, "LogSoftmax") {
        true
    } else {
        return Ok(None);
    };
    if graph.elem_of(&node.inputs[0]) == Some(ort_core::ElemType::F16) {
        // The ONNX reference rounds the exponentials and their sum to float16; the
        // CPU kernel does too, the shader (float32 throughout) does not.
        return Err(
            "float16 Softmax is left to the CPU, which rounds as the ONNX reference does".into(),
        );
    }
    let old = node.opset < 13;
    let axis = node.attr_int("axis", if old { 1 } else { -1 })?;
    if !old {
        let r = graph
            .rank_of(&node.inputs[0])
            .ok_or("the input rank is not known")? as i64;
        if axis != -1 && axis != r - 1 {
            return Err(format!(
                "Softmax along axis {axis} of {r}: the shader takes the last axis only"
            ));
        }
    }
    let s = Softmax {
        log,
        axis,
        causal: false,
    };
    Ok(Some(Claim::one(Lowered::inputs(s, 1))))
}

impl Kernel for Softmax {
    fn shape(&self, inputs: &[&[i64]], _: &[Ints]) -> Result<Vec<i64>, Error> {
        Ok(inputs[0].to_vec())
    }

    fn record(&self, gpu: &Gpu, b: &mut Builder, io: Io<'_>) -> Result<(), Error> {
        let Io { inputs, out: y, .. } = io;
        let x = &inputs[0];
        let s = &x.1;
        let r = s.len() as i64;
        let a = if self.axis < 0 {
            self.axis + r
        } else {
            self.axis
        };
        if !(0..=r).contains(&a) {
            return Err(Error::invalid(format!(
                "Softmax axis {} out of range for {s:?}",
                self.axis
            )));
        }
        let rows = numel(&s[..a as usize]);
        let len = numel(&s[a as usize..]);
        if rows * len == 0 {
            return Ok(());
        }
        let sq = if self.causal {
            s[s.len() - 2] as u32
        } else {
            1
        };
        if self.causal && (sq as usize) > len {
            return Err(Error::invalid(format!(
                "causal Softmax of {s:?}: more queries than keys"
            )));
        }
        let (groups, gx) = row_grid(rows)?;
        let pc: [u32; 8] = [
            rows as u32,
            len as u32,
            self.log as u32,
            gx,
            self.causal as u32,
            sq,
            0,
            0,
        ];
        dispatch(gpu, b, &gpu.pipelines.softmax, &[&x.0, &y.0], pc, groups)
    }
}
