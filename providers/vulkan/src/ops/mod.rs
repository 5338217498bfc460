//! What the Vulkan provider runs: per op family, which nodes it accepts (and why
//! not), the output shape at run time, and the dispatch it records.

pub mod binary;
pub mod matmul;
pub mod unary;

use std::sync::Arc;

use ort_core::{ElemType, Error, GraphView, NodeView};
use vulkano::buffer::Subbuffer;
use vulkano::command_buffer::{AutoCommandBufferBuilder, PrimaryAutoCommandBuffer};
use vulkano::descriptor_set::{DescriptorSet, WriteDescriptorSet};
use vulkano::pipeline::{ComputePipeline, Pipeline, PipelineBindPoint};

use crate::gpu::Gpu;

/// A node the provider took, ready to record.
#[derive(Clone, Debug)]
pub enum Op {
    Unary(unary::Unary),
    Binary(binary::Binary),
    MatMul,
}

/// A device buffer and the shape of the tensor in it.
pub type Operand = (Subbuffer<[f32]>, Vec<i64>);

pub type Builder = AutoCommandBufferBuilder<PrimaryAutoCommandBuffer>;

/// What `node` becomes, or why the provider declines it.
pub fn claim(node: &NodeView<'_>, graph: &GraphView<'_>) -> Result<Op, String> {
    if !node.domain.is_empty() && node.domain.as_str() != "ai.onnx" {
        return Err(format!("no Vulkan kernel for domain {}", node.domain));
    }
    let op = node.op_type.as_str();
    let made = if let Some(u) = unary::claim(node, graph)? {
        Op::Unary(u)
    } else if let Some(b) = binary::claim(node) {
        Op::Binary(b)
    } else if op == "MatMul" {
        matmul::check(node, graph)?;
        Op::MatMul
    } else {
        return Err(format!("no Vulkan kernel for {op}"));
    };
    all_f32(node, graph)?;
    Ok(made)
}

/// Every input and output is float32 (the only type the shaders compute).
fn all_f32(node: &NodeView<'_>, graph: &GraphView<'_>) -> Result<(), String> {
    let values = node.inputs.iter().chain(node.outputs.iter());
    for v in values.filter(|v| !v.is_empty()) {
        let elem = match graph.initializer(v) {
            Some(t) => Some(t.elem()),
            None => graph.value_type(v).and_then(|t| t.elem()),
        };
        match elem {
            Some(ElemType::F32) => {}
            Some(e) => {
                return Err(format!(
                    "{v} is {e}; the Vulkan shaders compute float32 only"
                ))
            }
            None => return Err(format!("the element type of {v} is not known")),
        }
    }
    Ok(())
}

/// The rank of a value, when known.
pub(crate) fn rank(graph: &GraphView<'_>, v: &str) -> Option<usize> {
    if let Some(t) = graph.initializer(v) {
        return Some(t.rank());
    }
    graph.value_type(v)?.shape().map(|s| s.len())
}

impl Op {
    /// The output shape for these input shapes.
    pub fn shape(&self, inputs: &[&[i64]]) -> Result<Vec<i64>, Error> {
        match self {
            Op::Unary(_) => Ok(inputs[0].to_vec()),
            Op::Binary(_) => binary::broadcast(inputs[0], inputs[1]),
            Op::MatMul => matmul::shape(inputs[0], inputs[1]).map(|(s, _)| s),
        }
    }

    /// Records the dispatch that computes `out` from `inputs`.
    pub fn record(
        &self,
        gpu: &Gpu,
        b: &mut Builder,
        inputs: &[Operand],
        out: &Operand,
    ) -> Result<(), Error> {
        match self {
            Op::Unary(u) => u.record(gpu, b, &inputs[0], out),
            Op::Binary(x) => x.record(gpu, b, &inputs[0], &inputs[1], out),
            Op::MatMul => matmul::record(gpu, b, &inputs[0], &inputs[1], out),
        }
    }
}

pub(crate) fn vk(what: &str) -> impl Fn(Box<dyn std::fmt::Display>) -> Error + '_ {
    move |e| Error::fail(format!("Vulkan {what}: {e}"))
}

/// Binds `pipeline` with `buffers` at bindings 0.., pushes `constants` and
/// dispatches `groups` workgroups.
pub(crate) fn dispatch<Pc: vulkano::buffer::BufferContents>(
    gpu: &Gpu,
    b: &mut Builder,
    pipeline: &Arc<ComputePipeline>,
    buffers: &[&Subbuffer<[f32]>],
    constants: Pc,
    groups: [u32; 3],
) -> Result<(), Error> {
    let layout = pipeline.layout().clone();
    let writes = buffers
        .iter()
        .enumerate()
        .map(|(i, buf)| WriteDescriptorSet::buffer(i as u32, (*buf).clone()));
    let set = DescriptorSet::new(
        gpu.descriptors.clone(),
        layout.set_layouts()[0].clone(),
        writes,
        [],
    )
    .map_err(|e| vk("descriptor set")(Box::new(e)))?;
    let fail = |e: Box<vulkano::ValidationError>| vk("command")(Box::new(e));
    b.bind_pipeline_compute(pipeline.clone()).map_err(fail)?;
    b.bind_descriptor_sets(PipelineBindPoint::Compute, layout.clone(), 0, set)
        .map_err(fail)?;
    b.push_constants(layout, 0, constants).map_err(fail)?;
    // SAFETY: every shader bounds-checks its invocation index against the element
    // counts in its push constants, and the buffers bound are at least that long.
    unsafe { b.dispatch(groups) }.map_err(|e| vk("dispatch")(Box::new(e)))?;
    Ok(())
}

/// Workgroups of 256 for `n` elements, as a 2-D grid when one row of 65,535
/// groups is not enough; returns the grid and the elements per grid row.
pub(crate) fn grid(n: usize) -> Result<([u32; 3], u32), Error> {
    let groups = n.div_ceil(256).max(1);
    let x = groups.min(65_535);
    let y = groups.div_ceil(x);
    if y > 65_535 {
        return Err(Error::invalid(format!(
            "{n} elements are too many for one dispatch"
        )));
    }
    Ok(([x as u32, y as u32, 1], (x * 256) as u32))
}

/// Element count of a shape.
pub(crate) fn numel(shape: &[i64]) -> usize {
    shape.iter().product::<i64>().max(0) as usize
}
