//! Where with numpy broadcasting of all three inputs (`where_*`).

use cudarc::driver::PushKernelArg;
use ort_core::kit::{broadcast, broadcast_strides};
use ort_core::{Error, GraphView, NodeView};

use super::{elementwise, launch, Claim, Cx, Ints, Io, Kernel, Lower, Lowered};
use crate::kernels::Dims;

#[derive(Clone, Debug)]
pub struct Where;

pub fn claim(node: &NodeView<'_>, _: &GraphView<'_>) -> Result<Option<Claim>, String> {
    if !node.is_onnx("Where") {
        return Ok(None);
    }
    Ok(Some(Claim::one(Lowered::inputs(Where, 3))))
}

impl Kernel for Where {
    fn shape(&self, inputs: &[&[i64]], _: &[Ints]) -> Result<Vec<i64>, Error> {
        broadcast(&broadcast(inputs[0], inputs[1])?, inputs[2])
    }
    fn elem(&self, inputs: &[ort_core::ElemType]) -> ort_core::ElemType {
        inputs[1]
    }
    fn launch(&self, cx: &Cx<'_>, io: Io<'_>) -> Result<(), Error> {
        let Io { inputs, out, .. } = io;
        let st: Vec<Vec<i64>> = inputs
            .iter()
            .map(|x| broadcast_strides(&x.shape, &out.shape))
            .collect();
        let d = Dims::new(&out.shape, &[&st[0], &st[1], &st[2]]).map_err(Error::invalid)?;
        let f = cx.float_fn("where", out.elem)?;
        let (c, a, b, y, n) = (
            inputs[0].ptr(),
            inputs[1].ptr(),
            inputs[2].ptr(),
            out.ptr(),
            out.len() as i64,
        );
        let mut args = cx.args(f);
        args.arg(&c).arg(&a).arg(&b).arg(&y).arg(&d).arg(&n);
        launch(args, elementwise(out.len()), "where")
    }
}
