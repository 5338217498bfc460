//! Cast to float32 or float16: from a float a copy (`claim` appends the rounding
//! to float16); from int64, int32 or bool (host tensors) the host converts while
//! uploading. Casts to other types are declined (`claim` checks the output type).

use ort_core::{ElemType, Error, GraphView, NodeView};

use super::{copy, is, Builder, Claim, Ints, Io, Kernel, Lower, Lowered};
use crate::gpu::Gpu;

#[derive(Clone, Debug)]
pub struct Cast {
    from_host: bool,
}

pub fn claim(node: &NodeView<'_>, graph: &GraphView<'_>) -> Result<Option<Claim>, String> {
    if !(is(node, "Cast") || is(node, "CastLike")) {
        return Ok(None);
    }
    let x = &node.inputs[0];
    let elem = graph
        .initializer(x)
        .map(|t| t.elem())
        .or_else(|| graph.value_type(x).and_then(|t| t.elem()));
    Ok(Some(match elem {
        Some(ElemType::F32 | ElemType::F16) => {
            Claim::one(Lowered::inputs(Cast { from_host: false }, 1))
        }
        Some(ElemType::I64 | ElemType::I32 | ElemType::Bool) => {
            Claim::one(Lowered::new(Cast { from_host: true }, vec![]).with_ints(vec![0]))
        }
        Some(e) => {
            return Err(format!(
            "Cast from {e}: the Vulkan provider casts from float32, float16, int32, int64 and bool"
        ))
        }
        None => return Err(format!("the element type of {x} is not known")),
    }))
}

impl Kernel for Cast {
    fn shape(&self, inputs: &[&[i64]], ints: &[Ints]) -> Result<Vec<i64>, Error> {
        Ok(if self.from_host {
            ints[0].shape.clone()
        } else {
            inputs[0].to_vec()
        })
    }

    fn record(&self, gpu: &Gpu, b: &mut Builder, io: Io<'_>) -> Result<(), Error> {
        let Io {
            inputs,
            ints,
            out: y,
        } = io;
        if !self.from_host {
            return copy::contiguous(gpu, b, &inputs[0], y);
        }
        let data: Vec<f32> = ints[0].data.iter().map(|&v| v as f32).collect();
        let src = (gpu.upload(&data).map_err(Error::fail)?, y.1.clone());
        copy::contiguous(gpu, b, &src, y)
    }
}
