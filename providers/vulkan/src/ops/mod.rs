//! What the Vulkan provider runs, one file per op (or op family): which nodes it
//! accepts (and why not), how a node lowers to dispatches, the output shape at run
//! time, and the dispatch it records.
//!
//! A node lowers to one or more [`Lowered`] steps, each a [`Kernel`] reading
//! float operands (device buffers) and host integers ([`Ints`]: shapes, axes,
//! indices, conditions, which live on the host and are read there at run time).

pub mod attention;
pub mod batchnorm;
pub mod binary;
pub mod cast;
pub mod concat;
pub mod conv;
pub mod copy;
pub mod expand;
pub mod gather;
pub mod layernorm;
pub mod linear;
pub mod matmul;
pub mod pool;
pub mod reduce;
pub mod select;
pub mod slice;
pub mod softmax;
pub mod split;
pub mod transpose;
pub mod unary;
pub mod view;

use std::fmt::Debug;
use std::sync::Arc;

use ort_core::kit::lower;
use ort_core::{ElemType, Error, GraphView, NodeView};
use vulkano::buffer::Subbuffer;
use vulkano::command_buffer::{AutoCommandBufferBuilder, PrimaryAutoCommandBuffer};
use vulkano::descriptor_set::{DescriptorSet, WriteDescriptorSet};
use vulkano::pipeline::{ComputePipeline, Pipeline, PipelineBindPoint};

use crate::gpu::Gpu;

/// A device buffer and the shape of the tensor in it. Buffers hold 32-bit words:
/// floats, or u32 where a shader reads indices or flags.
pub type Operand = (Subbuffer<[f32]>, Vec<i64>);

pub type Builder = AutoCommandBufferBuilder<PrimaryAutoCommandBuffer>;

pub use ort_core::kit::{axis, numel, strides, Ints};

/// A step's operands, host integers and output.
pub type Io<'a> = ort_core::kit::Io<'a, Operand>;

/// One step of a lowered node: a dispatch (or, for a view, none).
pub trait Kernel: Debug + Send + Sync {
    /// The output shape for these float operand shapes and host integers.
    fn shape(&self, inputs: &[&[i64]], ints: &[Ints]) -> Result<Vec<i64>, Error>;
    /// Records the dispatches that compute `out`.
    fn record(&self, gpu: &Gpu, b: &mut Builder, io: Io<'_>) -> Result<(), Error>;
    /// A view shares its input's buffer: nothing is recorded.
    fn is_view(&self) -> bool {
        false
    }
    /// Whether the output holds only values of the inputs (moved, not computed),
    /// so float16 values need no rounding afterwards.
    fn exact(&self) -> bool {
        false
    }
}

ort_core::lowering_for!(Kernel);

const FAMILIES: &[ClaimFn] = &[
    linear::claim,
    attention::claim,
    unary::claim,
    binary::claim,
    matmul::claim,
    softmax::claim,
    transpose::claim,
    view::claim,
    conv::claim,
    pool::claim,
    batchnorm::claim,
    layernorm::claim,
    reduce::claim,
    concat::claim,
    split::claim,
    slice::claim,
    expand::claim,
    gather::claim,
    select::claim,
    cast::claim,
];

/// What `node` becomes, or why the provider declines it. Float tensors are
/// float32, or with `f16` also float16: stored and computed as float32 on the
/// device, with each node's float16 results rounded to float16 as the CPU's are.
pub fn claim(node: &NodeView<'_>, graph: &GraphView<'_>, f16: bool) -> Result<Claim, String> {
    let op = node.op_type.as_str();
    let mut claim = lower::first_claim(node, graph, FAMILIES, "Vulkan")?;
    let floats: &'static [ElemType] = if f16 {
        &[ElemType::F32, ElemType::F16]
    } else {
        &[ElemType::F32]
    };
    let ints = [ElemType::I64, ElemType::I32, ElemType::Bool];
    let (read, outputs) =
        lower::claim_types(&claim, node, graph, |_| floats, &ints, floats, refuse)?;
    let operands: Vec<ElemType> = read.into_iter().map(|(_, e)| e).collect();
    // One float type per node; Cast converts between them.
    let cast = is(node, "Cast") || is(node, "CastLike");
    let mut all = outputs
        .iter()
        .map(|o| o.1)
        .chain(operands.into_iter().filter(|_| !cast));
    if let Some(first) = all.next() {
        if all.any(|e| e != first) {
            return Err(format!("{op} mixes float16 and float32"));
        }
    }
    let moves_only = claim.steps.iter().all(|s| s.op.exact());
    for (k, e) in outputs {
        if e == ElemType::F16 && !moves_only {
            let s = claim.outputs[k];
            claim
                .steps
                .push(Lowered::new(unary::Unary::ROUND_F16, vec![Arg::Prev(s)]));
            claim.outputs[k] = claim.steps.len() - 1;
        }
    }
    Ok(claim)
}

pub use ort_core::FUSED_DOMAIN as FUSED;

/// Whether `node` is `op` in the ONNX domain.
pub(crate) fn is(node: &NodeView<'_>, op: &str) -> bool {
    node.is_onnx(op)
}

/// Whether `node` is `op` in the fused domain (`docs/fused-ops.md`).
pub(crate) fn is_fused(node: &NodeView<'_>, op: &str) -> bool {
    node.op_type.as_str() == op && node.domain.as_str() == FUSED
}

fn refuse(v: &str, e: ElemType, allowed: &[ElemType]) -> String {
    if allowed.contains(&ElemType::F32) {
        format!(
            "{v} is {e}; the Vulkan shaders compute float32 (and float16 with the option f16=1)"
        )
    } else {
        format!("{v} is {e}, not an integer the host can read")
    }
}

/// The float32 data of input `k` when it is a constant.
pub(crate) fn constant_f32<'g>(
    node: &NodeView<'_>,
    graph: &'g GraphView<'_>,
    k: usize,
) -> Option<(&'g [f32], &'g [i64])> {
    let v = node.inputs.get(k).filter(|v| !v.is_empty())?;
    let t = graph.constant(v)?;
    Some((t.as_slice::<f32>().ok()?, t.shape()))
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
    if y > 65_535 || n > u32::MAX as usize {
        return Err(Error::invalid(format!(
            "{n} elements are too many for one dispatch"
        )));
    }
    Ok(([x as u32, y as u32, 1], (x * 256) as u32))
}

/// One workgroup per row, as a 2-D grid when there are more than 65,535 rows;
/// returns the grid and the rows per grid row.
pub(crate) fn row_grid(rows: usize) -> Result<([u32; 3], u32), Error> {
    let x = rows.clamp(1, 65_535);
    let y = rows.div_ceil(x).max(1);
    if y > 65_535 {
        return Err(Error::invalid(format!(
            "{rows} rows are too many for one dispatch"
        )));
    }
    Ok(([x as u32, y as u32, 1], x as u32))
}
