//! Cast and CastLike between float32, float16 and bfloat16 (`cast_*_*`).

use cudarc::driver::PushKernelArg;
use ort_core::kit::Attributes;
use ort_core::{ElemType, Error, GraphView, NodeView};

use super::{elementwise, launch, Claim, Cx, Ints, Io, Kernel, Lower, Lowered, FLOATS};

#[derive(Clone, Debug)]
pub struct Cast {
    pub to: ElemType,
}

fn suffix(e: ElemType) -> &'static str {
    match e {
        ElemType::F16 => "f16",
        ElemType::BF16 => "bf16",
        _ => "f32",
    }
}

pub fn claim(node: &NodeView<'_>, graph: &GraphView<'_>) -> Result<Option<Claim>, String> {
    let to = if node.is_onnx("Cast") {
        ElemType::from_onnx(node.attr_int("to", 0)? as i32)
    } else if node.is_onnx("CastLike") {
        node.inputs.get(1).and_then(|v| graph.elem_of(v))
    } else {
        return Ok(None);
    };
    match to {
        Some(to) if FLOATS.contains(&to) => Ok(Some(Claim::one(Lowered::inputs(Cast { to }, 1)))),
        Some(to) => Err(format!("Cast to {to} is left to the CPU")),
        None => Err("Cast target type unknown".into()),
    }
}

impl Kernel for Cast {
    fn shape(&self, inputs: &[&[i64]], _: &[Ints]) -> Result<Vec<i64>, Error> {
        Ok(inputs[0].to_vec())
    }
    fn elem(&self, _: &[ElemType]) -> ElemType {
        self.to
    }
    fn launch(&self, cx: &Cx<'_>, io: Io<'_>) -> Result<(), Error> {
        let Io { inputs, out, .. } = io;
        let name = format!("cast_{}_{}", suffix(inputs[0].elem), suffix(self.to));
        let f = cx.gpu.function(&name).map_err(Error::fail)?;
        let (x, y, n) = (inputs[0].ptr(), out.ptr(), out.len() as i64);
        let mut args = cx.args(f);
        args.arg(&x).arg(&y).arg(&n);
        launch(args, elementwise(out.len()), "cast")
    }
}
