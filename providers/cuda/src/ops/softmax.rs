//! Softmax and LogSoftmax (`softmax_*` in `kernels/rows.cu`): one block per
//! row along the axis. Before opset 13 the input is read as a 2-D matrix cut
//! at the axis, so the row is every trailing axis.

use cudarc::driver::PushKernelArg;
use ort_core::kit::axis;
use ort_core::kit::Attributes;
use ort_core::{Error, GraphView, NodeView};

use super::{launch, per_row, Claim, Cx, Ints, Io, Kernel, Lower, Lowered};

#[derive(Clone, Debug)]
pub struct Softmax {
    pub axis: i64,
    /// Opset < 13: the row is every axis from `axis` on.
    pub flat: bool,
    pub log: bool,
}

pub fn claim(node: &NodeView<'_>, _: &GraphView<'_>) -> Result<Option<Claim>, String> {
    let log = node.is_onnx("LogSoftmax");
    if !(log || node.is_onnx("Softmax")) {
        return Ok(None);
    }
    let flat = node.opset < 13;
    let s = Softmax {
        axis: node.attr_int("axis", if flat { 1 } else { -1 })?,
        flat,
        log,
    };
    Ok(Some(Claim::one(Lowered::inputs(s, 1))))
}

impl Kernel for Softmax {
    fn shape(&self, inputs: &[&[i64]], _: &[Ints]) -> Result<Vec<i64>, Error> {
        Ok(inputs[0].to_vec())
    }
    fn launch(&self, cx: &Cx<'_>, io: Io<'_>) -> Result<(), Error> {
        let Io { inputs, out, .. } = io;
        let s = &out.shape;
        let (outer, n, inner): (i64, i64, i64) = if s.is_empty() {
            (1, 1, 1)
        } else {
            let a = axis(self.axis, s.len())?;
            let outer = s[..a].iter().product();
            if self.flat {
                (outer, s[a..].iter().product(), 1)
            } else {
                (outer, s[a], s[a + 1..].iter().product())
            }
        };
        let f = cx.float_fn("softmax", out.elem)?;
        let (x, y, log) = (inputs[0].ptr(), out.ptr(), self.log as i32);
        let mut args = cx.args(f);
        args.arg(&x)
            .arg(&y)
            .arg(&outer)
            .arg(&n)
            .arg(&inner)
            .arg(&log);
        launch(args, per_row((outer * inner) as usize), "softmax")
    }
}
