//! What the CUDA provider runs, one file per op (or op family): which nodes it
//! accepts (and why not), how a node lowers to steps, the output shape at run
//! time, and the launches.
//!
//! A node lowers to one or more [`Lowered`] steps, each a [`Kernel`] reading
//! device operands and host integers ([`Ints`]: shapes, axes, indices, which
//! the host reads at run time). Device operands are float32, float16 or
//! bfloat16, stored as such and computed in float32; Where's condition is bytes.

pub mod attention;
pub mod batchnorm;
pub mod binary;
pub mod cast;
pub mod concat;
pub mod conv;
pub mod gather;
pub mod layernorm;
pub mod matmul;
pub mod pool;
pub mod reduce;
pub mod select;
pub mod slice;
pub mod softmax;
pub mod transpose;
pub mod unary;
pub mod view;

use std::fmt::Debug;

use cudarc::driver::{CudaFunction, LaunchArgs, LaunchConfig};
use ort_core::kit::lower;
use ort_core::{ElemType, Error, GraphView, NodeView};

pub use ort_core::kit::Ints;

/// A step's operands, host integers and output.
pub type Io<'a> = ort_core::kit::Io<'a, Operand>;

use crate::driver::{Gpu, Lane};
pub use crate::memory::Operand;

/// What a step launches with: the device and the run's lane.
pub struct Cx<'a> {
    pub gpu: &'a Gpu,
    pub lane: &'a Lane,
    /// Scratch blocks kept until the stream is synchronized, so no other run
    /// is handed them while a launch may still read them.
    pub temps: &'a std::cell::RefCell<Vec<Operand>>,
}

impl Cx<'_> {
    pub fn keep(&self, op: Operand) {
        self.temps.borrow_mut().push(op);
    }

    /// The kernel `<base>_<f32|f16|bf16>` for a float type.
    pub fn float_fn(&self, base: &str, elem: ElemType) -> Result<&CudaFunction, Error> {
        let t = match elem {
            ElemType::F32 => "f32",
            ElemType::F16 => "f16",
            ElemType::BF16 => "bf16",
            e => return Err(Error::invalid(format!("no CUDA {base} kernel for {e}"))),
        };
        self.gpu
            .function(&format!("{base}_{t}"))
            .map_err(Error::fail)
    }

    /// The kernel `<base>_b<size>` that moves elements of `elem`'s size.
    pub fn move_fn(&self, base: &str, elem: ElemType) -> Result<&CudaFunction, Error> {
        self.gpu
            .function(&format!("{base}_b{}", elem.size()))
            .map_err(Error::fail)
    }

    pub fn alloc(&self, shape: &[i64], elem: ElemType) -> Result<Operand, Error> {
        crate::memory::alloc(self.gpu, shape, elem)
    }

    pub fn args<'a>(&'a self, f: &'a CudaFunction) -> LaunchArgs<'a> {
        self.lane.stream.launch_builder(f)
    }
}

/// A grid-stride launch over `n` elements, 256 threads a block.
pub fn elementwise(n: usize) -> LaunchConfig {
    let blocks = n.div_ceil(256).clamp(1, 1 << 20) as u32;
    LaunchConfig {
        grid_dim: (blocks, 1, 1),
        block_dim: (256, 1, 1),
        shared_mem_bytes: 0,
    }
}

/// One 256-thread block per row (grid-stride past 2^20 rows).
pub fn per_row(rows: usize) -> LaunchConfig {
    LaunchConfig {
        grid_dim: (rows.clamp(1, 1 << 20) as u32, 1, 1),
        block_dim: (256, 1, 1),
        shared_mem_bytes: 0,
    }
}

/// Launches what `args` holds.
pub fn launch(mut args: LaunchArgs<'_>, cfg: LaunchConfig, what: &str) -> Result<(), Error> {
    // SAFETY: each kernel bounds its loops by the element counts passed with it,
    // and every pointer passed is a live device block at least that long (the
    // operands hold their blocks until the lane's stream is synchronized).
    unsafe { args.launch(cfg) }
        .map(|_| ())
        .map_err(|e| Error::fail(format!("CUDA {what} launch: {e:?}")))
}

/// One step of a lowered node.
pub trait Kernel: Debug + Send + Sync {
    /// The output shape for these operand shapes and host integers.
    fn shape(&self, inputs: &[&[i64]], ints: &[Ints]) -> Result<Vec<i64>, Error>;
    /// The output element type; the first operand's unless said otherwise.
    fn elem(&self, inputs: &[ElemType]) -> ElemType {
        inputs[0]
    }
    /// Launches the kernels that compute `out` (never called for an empty one).
    fn launch(&self, cx: &Cx<'_>, io: Io<'_>) -> Result<(), Error>;
    /// A view shares its input's memory: nothing is launched.
    fn is_view(&self) -> bool {
        false
    }
}

ort_core::lowering_for!(Kernel);

const FAMILIES: &[ClaimFn] = &[
    matmul::claim,
    attention::claim,
    unary::claim,
    binary::claim,
    softmax::claim,
    layernorm::claim,
    transpose::claim,
    view::claim,
    conv::claim,
    pool::claim,
    batchnorm::claim,
    reduce::claim,
    concat::claim,
    slice::claim,
    gather::claim,
    select::claim,
    cast::claim,
];

pub const FLOATS: [ElemType; 3] = [ElemType::F32, ElemType::F16, ElemType::BF16];

pub use ort_core::FUSED_DOMAIN as FUSED;

/// What `node` becomes, or why the provider declines it. Every device operand
/// and output of a node has one float type (Cast converts between them;
/// Where's condition is boolean).
pub fn claim(node: &NodeView<'_>, graph: &GraphView<'_>) -> Result<Claim, String> {
    let op = node.op_type.as_str();
    let claim = lower::first_claim(node, graph, FAMILIES, "CUDA")?;
    let cast = node.is_onnx("Cast") || node.is_onnx("CastLike");
    let select = node.is_onnx("Where");
    let operand = |k: usize| -> &'static [ElemType] {
        if select && k == 0 {
            &[ElemType::Bool]
        } else {
            &FLOATS
        }
    };
    let ints = [ElemType::I64, ElemType::I32];
    let (read, made) = lower::claim_types(&claim, node, graph, operand, &ints, &FLOATS, refuse)?;
    let mut types: Vec<ElemType> = read
        .into_iter()
        .filter(|&(k, _)| !(cast || select && k == 0))
        .chain(made)
        .map(|(_, e)| e)
        .collect();
    if cast {
        types.clear();
    }
    if types.windows(2).any(|w| w[0] != w[1]) {
        return Err(format!("{op} mixes float types"));
    }
    check_static(node, graph, &claim)?;
    Ok(claim)
}

/// The shape each step makes, from the node's input shapes and host integers:
/// the same `Kernel::shape` calls a run makes. `None` when an input it needs
/// is not known.
pub fn step_shapes(
    steps: &[Lowered],
    shape: &dyn Fn(usize) -> Option<Vec<i64>>,
    ints: &dyn Fn(usize) -> Option<Ints>,
) -> Result<Option<Vec<Vec<i64>>>, Error> {
    let mut made: Vec<Vec<i64>> = Vec::with_capacity(steps.len());
    for step in steps {
        let mut shapes = Vec::with_capacity(step.args.len());
        for a in &step.args {
            shapes.push(match a {
                Arg::Input(k) => match shape(*k) {
                    Some(s) => s,
                    None => return Ok(None),
                },
                Arg::Prev(p) => made[*p].clone(),
                Arg::Tensor(_, s) => s.clone(),
            });
        }
        let mut values = Vec::with_capacity(step.ints.len());
        for &k in &step.ints {
            match ints(k) {
                Some(v) => values.push(v),
                None => return Ok(None),
            }
        }
        let refs: Vec<&[i64]> = shapes.iter().map(Vec::as_slice).collect();
        made.push(step.op.shape(&refs, &values)?);
    }
    Ok(Some(made))
}

/// Where the graph knows a node's shapes and integers, the claim is checked
/// with the shape functions the run calls, and its outputs against the
/// graph's: a node that a run would refuse is declined here instead.
fn check_static(node: &NodeView<'_>, graph: &GraphView<'_>, claim: &Claim) -> Result<(), String> {
    let name = |k: usize| node.inputs.get(k).map(|s| s.as_str()).unwrap_or("");
    let shape = |k: usize| graph.shape_of(name(k));
    let ints = |k: usize| {
        graph
            .constant(name(k))
            .and_then(|t| Ints::from_tensor(t).ok())
    };
    let Some(made) = step_shapes(&claim.steps, &shape, &ints).map_err(|e| e.message.to_string())?
    else {
        return Ok(());
    };
    for (o, &s) in node.outputs.iter().zip(&claim.outputs) {
        if let Some(want) = graph.shape_of(o).filter(|_| !o.is_empty()) {
            if made[s] != want {
                return Err(format!(
                    "the CUDA kernels would make {o} of shape {:?}, the graph says {want:?}",
                    made[s]
                ));
            }
        }
    }
    Ok(())
}

fn refuse(v: &str, e: ElemType, allowed: &[ElemType]) -> String {
    format!("{v} is {e}; the CUDA kernels take {allowed:?} here")
}

/// Whether `node` is `op` in the fused domain (`docs/fused-ops.md`).
pub(crate) fn is_fused(node: &NodeView<'_>, op: &str) -> bool {
    node.op_type.as_str() == op && node.domain.as_str() == FUSED
}

/// The float32 data and shape of input `k` when it is a constant.
pub(crate) fn constant_f32<'g>(
    node: &NodeView<'_>,
    graph: &'g GraphView<'_>,
    k: usize,
) -> Option<(&'g [f32], &'g [i64])> {
    let v = node.inputs.get(k).filter(|v| !v.is_empty())?;
    let t = graph.constant(v)?;
    Some((t.as_slice::<f32>().ok()?, t.shape()))
}

/// `Error::invalid` for a message.
pub(crate) fn invalid(msg: impl Into<String>) -> Error {
    Error::invalid(msg.into())
}
