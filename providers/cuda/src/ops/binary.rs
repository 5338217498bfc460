//! Broadcasting arithmetic (`binary_*` in `kernels/elementwise.cu`).

use cudarc::driver::PushKernelArg;
use ort_core::kit::{broadcast, broadcast_strides};
use ort_core::{Error, GraphView, NodeView};

use super::{elementwise, launch, Claim, Cx, Ints, Io, Kernel, Lower, Lowered};
use crate::kernels::Dims;

/// An op code of `binary_op`.
#[derive(Clone, Copy, Debug)]
pub struct Binary {
    pub code: i32,
}

impl Binary {
    pub const ADD: Binary = Binary { code: 0 };
    pub const MUL: Binary = Binary { code: 2 };
}

pub fn claim(node: &NodeView<'_>, _: &GraphView<'_>) -> Result<Option<Claim>, String> {
    if !matches!(node.domain.as_str(), "" | "ai.onnx") {
        return Ok(None);
    }
    let code = match node.op_type.as_str() {
        "Add" => 0,
        "Sub" => 1,
        "Mul" => 2,
        "Div" => 3,
        "Pow" => 4,
        "Max" => 5,
        "Min" => 6,
        "PRelu" => 7,
        _ => return Ok(None),
    };
    if node.inputs.len() != 2 {
        return Err(format!("{} of {} inputs", node.op_type, node.inputs.len()));
    }
    // Before opset 7 broadcasting was opt-in, with an axis; the CPU takes those.
    if node.opset < 7 {
        return Err(format!("{} before opset 7", node.op_type));
    }
    Ok(Some(Claim::one(Lowered::inputs(Binary { code }, 2))))
}

impl Kernel for Binary {
    fn shape(&self, inputs: &[&[i64]], _: &[Ints]) -> Result<Vec<i64>, Error> {
        broadcast(inputs[0], inputs[1])
    }
    fn launch(&self, cx: &Cx<'_>, io: Io<'_>) -> Result<(), Error> {
        let Io { inputs, out, .. } = io;
        let d = Dims::new(
            &out.shape,
            &[
                &broadcast_strides(&inputs[0].shape, &out.shape),
                &broadcast_strides(&inputs[1].shape, &out.shape),
            ],
        )
        .map_err(Error::invalid)?;
        let f = cx.float_fn("binary", out.elem)?;
        let (a, b, y, n) = (
            inputs[0].ptr(),
            inputs[1].ptr(),
            out.ptr(),
            out.len() as i64,
        );
        let mut args = cx.args(f);
        args.arg(&a).arg(&b).arg(&y).arg(&d).arg(&n).arg(&self.code);
        launch(args, elementwise(out.len()), "binary")
    }
}
