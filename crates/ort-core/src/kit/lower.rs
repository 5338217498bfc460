//! The lowering framework device providers share. A provider's GetCapability
//! and Compile turn each node into a [`Claim`]: one or more [`Lowered`] steps,
//! each a kernel of the provider's own kind (`K`, its kernel trait object)
//! reading device operands ([`Arg`]) and host integers. [`Program::lower`] then
//! resolves a whole partition's claims into [`Step`]s that read partition
//! inputs, constants made at compile time, or earlier steps. A provider keeps
//! only what is its own: the kernels, uploading constants, and running steps.

use std::collections::HashMap;
use std::sync::Arc;

use super::Ints;
use crate::abi::{Capability, ElemType, Error, FusedNode, GraphView, NodeView, RVec, Tuple2};

/// Where a lowered step reads a device operand.
#[derive(Clone, Debug)]
pub enum Arg {
    /// The node's k-th input.
    Input(usize),
    /// The output of the node's j-th lowered step.
    Prev(usize),
    /// A float32 tensor made at compile time (a scalar, folded parameters).
    Tensor(Vec<f32>, Vec<i64>),
}

impl Arg {
    /// A float32 scalar made at compile time.
    pub fn scalar(v: f32) -> Arg {
        Arg::Tensor(vec![v], vec![])
    }
}

/// One step of a lowered node.
#[derive(Debug)]
pub struct Lowered<K: ?Sized> {
    pub op: Arc<K>,
    pub args: Vec<Arg>,
    /// Node inputs read on the host as integers.
    pub ints: Vec<usize>,
}

// Not derived: a derive would require `K: Clone`, and `op` is shared.
impl<K: ?Sized> Clone for Lowered<K> {
    fn clone(&self) -> Self {
        Lowered {
            op: self.op.clone(),
            args: self.args.clone(),
            ints: self.ints.clone(),
        }
    }
}

impl<K: ?Sized> Lowered<K> {
    pub fn from_arc(op: Arc<K>, args: Vec<Arg>) -> Lowered<K> {
        Lowered {
            op,
            args,
            ints: vec![],
        }
    }
    pub fn with_ints(mut self, ints: Vec<usize>) -> Lowered<K> {
        self.ints = ints;
        self
    }
}

/// A claimed node: its steps, and per node output the step that makes it.
pub struct Claim<K: ?Sized> {
    pub steps: Vec<Lowered<K>>,
    pub outputs: Vec<usize>,
}

impl<K: ?Sized> Claim<K> {
    /// Steps whose last one makes the node's only output.
    pub fn steps(steps: Vec<Lowered<K>>) -> Claim<K> {
        let last = steps.len() - 1;
        Claim {
            steps,
            outputs: vec![last],
        }
    }
    pub fn one(step: Lowered<K>) -> Claim<K> {
        Claim::steps(vec![step])
    }

    /// This claim's steps, then `next`'s, which read this claim's only
    /// output where they read their node's input 0 (a fused node's second
    /// part: the MaxPool of a ConvMaxPool).
    fn then(mut self, next: Claim<K>) -> Result<Claim<K>, String> {
        let &[out] = &self.outputs[..] else {
            return Err("a claim with several outputs cannot be followed".into());
        };
        let n = self.steps.len();
        for mut step in next.steps {
            if !step.ints.is_empty() {
                return Err("a following step reads host integers".into());
            }
            for a in &mut step.args {
                *a = match a {
                    Arg::Input(0) => Arg::Prev(out),
                    Arg::Input(k) => return Err(format!("a following step reads input {k}")),
                    Arg::Prev(j) => Arg::Prev(*j + n),
                    Arg::Tensor(..) => continue,
                };
            }
            self.steps.push(step);
        }
        self.outputs = next.outputs.iter().map(|o| o + n).collect();
        Ok(self)
    }
}

/// The fused domain's ConvMaxPool (`docs/fused-ops.md`) as the two nodes it
/// fuses: a FusedConv with the node's own attributes, and a MaxPool with its
/// `pool_` ones. The MaxPool view names the node's input 0 as its input,
/// which has the rank and type of the convolution's output it stands for
/// (claims read only those through it; `Claim::then` rewires the data).
fn conv_max_pool_parts<'a>(node: &NodeView<'a>) -> (NodeView<'a>, NodeView<'a>) {
    use crate::abi::{AttrValue, Attribute, RString};
    let copy = |v: &AttrValue<'a>| -> Option<AttrValue<'a>> {
        Some(match v {
            AttrValue::Float(f) => AttrValue::Float(*f),
            AttrValue::Int(i) => AttrValue::Int(*i),
            AttrValue::String(s) => AttrValue::String(s.clone()),
            AttrValue::Floats(f) => AttrValue::Floats(f.clone()),
            AttrValue::Ints(i) => AttrValue::Ints(i.clone()),
            _ => return None,
        })
    };
    let attrs = |pool: bool| -> RVec<Attribute<'a>> {
        let attrs = node.attributes.iter().filter_map(|a| {
            let name = a.name.as_str();
            let own = match name.strip_prefix("pool_") {
                Some(rest) if pool => rest,
                None if !pool => name,
                _ => return None,
            };
            Some(Attribute {
                name: own.into(),
                value: copy(&a.value)?,
            })
        });
        attrs.collect()
    };
    let view = |op: &str, domain: &str, opset: i64, inputs: RVec<RString>, pool: bool| NodeView {
        index: node.index,
        name: node.name.clone(),
        op_type: op.into(),
        domain: domain.into(),
        opset,
        inputs,
        outputs: node.outputs.clone(),
        attributes: attrs(pool),
        assigned: node.assigned.clone(),
    };
    let x: RVec<RString> = node.inputs.iter().take(1).cloned().collect();
    (
        view(
            "FusedConv",
            crate::FUSED_DOMAIN,
            node.opset,
            node.inputs.clone(),
            false,
        ),
        view("MaxPool", "", 12, x, true),
    )
}

/// An op family's claim: `Ok(None)` when the node is not one of its ops.
pub type ClaimFn<K> = fn(&NodeView<'_>, &GraphView<'_>) -> Result<Option<Claim<K>>, String>;

/// The claim of the first family that lowers `node`, which must be in the ONNX
/// or the fused domain; `provider` names the kernels in a refusal.
pub fn first_claim<K: ?Sized>(
    node: &NodeView<'_>,
    graph: &GraphView<'_>,
    families: &[ClaimFn<K>],
    provider: &str,
) -> Result<Claim<K>, String> {
    let (domain, op) = (node.domain.as_str(), node.op_type.as_str());
    if !(domain.is_empty() || domain == "ai.onnx" || domain == crate::FUSED_DOMAIN) {
        return Err(format!("no {provider} kernel for domain {domain}"));
    }
    if domain == crate::FUSED_DOMAIN && op == "ConvMaxPool" {
        let (conv, pool) = conv_max_pool_parts(node);
        let conv = first_claim(&conv, graph, families, provider)?;
        return conv.then(first_claim(&pool, graph, families, provider)?);
    }
    for family in families {
        if let Some(c) = family(node, graph)? {
            return Ok(c);
        }
    }
    Err(match domain {
        crate::FUSED_DOMAIN => format!("no {provider} kernel for {op} (domain {domain})"),
        _ => format!("no {provider} kernel for {op}"),
    })
}

/// The types a claim reads and makes, checked: each device operand's (`operand(k)`
/// lists those input `k` may have), each host integer input's (one of `ints`) and
/// each output's (one of `outputs`, and made by the claim). `refuse` words a type
/// outside the list. Returns the operands' and the outputs' types.
#[allow(clippy::type_complexity)]
pub fn claim_types<K: ?Sized>(
    claim: &Claim<K>,
    node: &NodeView<'_>,
    graph: &GraphView<'_>,
    operand: impl Fn(usize) -> &'static [ElemType],
    ints: &[ElemType],
    outputs: &[ElemType],
    refuse: impl Fn(&str, ElemType, &[ElemType]) -> String + Copy,
) -> Result<(Vec<(usize, ElemType)>, Vec<(usize, ElemType)>), String> {
    let mut read = Vec::new();
    let mut int_inputs = Vec::new();
    for step in &claim.steps {
        for a in &step.args {
            if let Arg::Input(k) = *a {
                read.push((k, node.input_elem_among(graph, k, operand(k), refuse)?));
            }
        }
        int_inputs.extend(step.ints.iter().copied());
    }
    for k in int_inputs {
        node.input_elem_among(graph, k, ints, refuse)?;
    }
    let mut made = Vec::new();
    for (k, o) in node.outputs.iter().enumerate() {
        if o.is_empty() {
            continue;
        }
        if k >= claim.outputs.len() {
            return Err(format!(
                "{}: output {k} is not computed by the kernel",
                node.op_type
            ));
        }
        made.push((k, graph.elem_among(o, outputs, refuse)?));
    }
    Ok((read, made))
}

/// Where a compiled step reads a device operand.
#[derive(Clone, Copy, Debug)]
pub enum Src {
    /// A partition input.
    Input(usize),
    /// A constant the lowering made, by its index among the provider's uploads.
    Const(usize),
    /// Another step's output.
    Step(usize),
}

/// Where a compiled step reads host integers.
#[derive(Clone, Debug)]
pub enum IntSrc {
    Const(Ints),
    Input(usize),
}

/// A lowered step with its operands resolved within the partition.
#[derive(Debug)]
pub struct Step<K: ?Sized> {
    pub op: Arc<K>,
    pub inputs: Vec<Src>,
    pub ints: Vec<IntSrc>,
    /// The node, for messages.
    pub what: String,
}

/// A partition's nodes lowered to steps in order.
#[derive(Debug)]
pub struct Program<K: ?Sized> {
    pub steps: Vec<Step<K>>,
    /// Where each partition output is made.
    pub outputs: Vec<Src>,
    /// Per partition input: whether a step reads it as a device operand (so it
    /// is wanted in device memory).
    pub on_device: Vec<bool>,
}

/// GetCapability for a provider whose partitions are runs of consecutive nodes
/// (in topological order) that `claims` accepts. A run has no path that leaves
/// it and comes back, so each group is convex, and its intermediates stay on
/// the device. A refused node's reason is reported; nodes already assigned to
/// another provider are skipped silently.
pub fn capability_by_runs(
    graph: &GraphView<'_>,
    mut claims: impl FnMut(&NodeView<'_>) -> Result<(), String>,
) -> Capability {
    let mut cap = Capability::default();
    let mut run: Vec<u32> = Vec::new();
    for node in graph.nodes.iter() {
        let verdict = if node.assigned.is_empty() {
            claims(node)
        } else {
            Err(String::new())
        };
        match verdict {
            Ok(()) => run.push(node.index),
            Err(why) => {
                if !run.is_empty() {
                    cap.groups.push(RVec::from(std::mem::take(&mut run)));
                }
                if !why.is_empty() {
                    cap.declined.push(Tuple2(node.index, why.into()));
                }
            }
        }
    }
    if !run.is_empty() {
        cap.groups.push(RVec::from(run));
    }
    cap
}

/// `what: message`, keeping the error's kind.
pub fn context(what: &str) -> impl Fn(Error) -> Error + '_ {
    move |e| Error::new(e.code, format!("{what}: {}", e.message))
}

impl<K: ?Sized> Program<K> {
    /// Lowers each node of `fused` with `claim`. `upload(node, data, shape)`
    /// stores a tensor the lowering made and returns its index among the
    /// provider's constants.
    pub fn lower(
        fused: &FusedNode<'_>,
        mut claim: impl FnMut(&NodeView<'_>) -> Result<Claim<K>, String>,
        mut upload: impl FnMut(&NodeView<'_>, &[f32], &[i64]) -> Result<usize, Error>,
    ) -> Result<Program<K>, Error> {
        let graph = fused.graph;
        let mut values: HashMap<&str, Src> = HashMap::new();
        for (i, name) in fused.inputs.iter().enumerate() {
            // Initializers too: the host transfers them once per session.
            values.insert(name, Src::Input(i));
        }
        let mut steps: Vec<Step<K>> = Vec::new();
        for &idx in fused.nodes.iter() {
            let node = graph
                .nodes
                .get(idx as usize)
                .ok_or_else(|| Error::invalid("node index out of range"))?;
            let what = node.describe();
            let claim = claim(node).map_err(|e| Error::invalid(format!("{what}: {e}")))?;
            let name = |k: usize| node.inputs.get(k).map(|s| s.as_str()).unwrap_or("");
            let first = steps.len();
            for low in claim.steps {
                let mut inputs = Vec::with_capacity(low.args.len());
                for a in &low.args {
                    inputs.push(match a {
                        Arg::Input(k) => *values.get(name(*k)).ok_or_else(|| {
                            Error::invalid(format!("{what}: input {:?} is not available", name(*k)))
                        })?,
                        Arg::Prev(p) => Src::Step(first + p),
                        Arg::Tensor(data, shape) => {
                            Src::Const(upload(node, data, shape).map_err(context(&what))?)
                        }
                    });
                }
                let mut ints = Vec::with_capacity(low.ints.len());
                for &k in &low.ints {
                    let v = name(k);
                    ints.push(match (graph.constant(v), values.get(v)) {
                        (Some(t), _) => {
                            IntSrc::Const(Ints::from_tensor(t).map_err(context(&what))?)
                        }
                        (None, Some(&Src::Input(i))) => IntSrc::Input(i),
                        _ => {
                            return Err(Error::invalid(format!(
                                "{what}: the integers {v:?} are not a host input"
                            )))
                        }
                    });
                }
                steps.push(Step {
                    op: low.op,
                    inputs,
                    ints,
                    what: what.clone(),
                });
            }
            for (o, &s) in node.outputs.iter().zip(&claim.outputs) {
                if !o.is_empty() {
                    values.insert(o, Src::Step(first + s));
                }
            }
        }
        let outputs = fused
            .outputs
            .iter()
            .map(|o| {
                values.get(o.as_str()).copied().ok_or_else(|| {
                    Error::invalid(format!("{}: output {o} is not made here", fused.name))
                })
            })
            .collect::<Result<Vec<_>, _>>()?;
        let mut on_device = vec![false; fused.inputs.len()];
        for s in steps.iter().flat_map(|s| &s.inputs) {
            if let Src::Input(i) = *s {
                on_device[i] = true;
            }
        }
        Ok(Program {
            steps,
            outputs,
            on_device,
        })
    }
}

/// Declares, in a device provider's `ops` module, the lowering types for its
/// kernel trait: `Arg`, `Lowered`, `Claim`, and `Lower`, the constructors that
/// turn a concrete kernel into the trait object (a coercion only the provider's
/// crate can name). `ort_core::lowering_for!(Kernel);`
#[macro_export]
macro_rules! lowering_for {
    ($kernel:ident) => {
        pub use $crate::kit::lower::Arg;

        /// A node's step, of this provider's kernels.
        pub type Lowered = $crate::kit::lower::Lowered<dyn $kernel>;
        /// A claimed node: its steps, and per output the step that makes it.
        pub type Claim = $crate::kit::lower::Claim<dyn $kernel>;

        /// An op family's claim: `Ok(None)` when the node is not one of its ops.
        pub type ClaimFn = $crate::kit::lower::ClaimFn<dyn $kernel>;

        /// Steps made from this provider's kernels.
        pub trait Lower {
            fn new(op: impl $kernel + 'static, args: Vec<Arg>) -> Self;
            /// The node's first `n` inputs, in order.
            fn inputs(op: impl $kernel + 'static, n: usize) -> Self;
        }

        impl Lower for Lowered {
            fn new(op: impl $kernel + 'static, args: Vec<Arg>) -> Self {
                Lowered::from_arc(::std::sync::Arc::new(op), args)
            }
            fn inputs(op: impl $kernel + 'static, n: usize) -> Self {
                Lowered::new(op, (0..n).map(Arg::Input).collect())
            }
        }
    };
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::abi::{AttrValue, Attribute, RString};

    /// Claims FusedConv as a conv and an activation, MaxPool as one step;
    /// each step named with the strides its node carries.
    fn family(node: &NodeView<'_>, _: &GraphView<'_>) -> Result<Option<Claim<str>>, String> {
        let strides = match node.attr("strides") {
            Some(AttrValue::Ints(s)) => format!("{:?}", s.as_slice()),
            _ => "none".into(),
        };
        let step = |name: String, args| Lowered::from_arc(Arc::from(name.as_str()), args);
        Ok(Some(match (node.domain.as_str(), node.op_type.as_str()) {
            (crate::FUSED_DOMAIN, "FusedConv") => Claim::steps(vec![
                step(
                    format!("conv {strides}"),
                    vec![Arg::Input(0), Arg::Input(1)],
                ),
                step("relu".into(), vec![Arg::Prev(0)]),
            ]),
            ("", "MaxPool") => Claim::one(step(format!("pool {strides}"), vec![Arg::Input(0)])),
            _ => return Ok(None),
        }))
    }

    #[test]
    fn conv_max_pool_is_the_conv_then_the_pool_of_its_output() {
        let ints = |name: &str, v: &[i64]| Attribute {
            name: name.into(),
            value: AttrValue::Ints(v.to_vec().into()),
        };
        let names = |v: &[&str]| -> RVec<RString> { v.iter().map(|&s| s.into()).collect() };
        let node = NodeView {
            index: 0,
            name: "n".into(),
            op_type: "ConvMaxPool".into(),
            domain: crate::FUSED_DOMAIN.into(),
            opset: 1,
            inputs: names(&["x", "w"]),
            outputs: names(&["y"]),
            attributes: vec![ints("strides", &[2, 2]), ints("pool_strides", &[1, 1])].into(),
            assigned: RString::new(),
        };
        let graph = GraphView {
            name: "g".into(),
            nodes: RVec::new(),
            inputs: names(&["x", "w"]),
            outputs: names(&["y"]),
            values: RVec::new(),
            initializers: RVec::new(),
            outer_scope: RVec::new(),
        };
        let claim = first_claim(&node, &graph, &[family], "test").unwrap();
        let steps: Vec<String> = claim
            .steps
            .iter()
            .map(|s| format!("{} {:?}", &*s.op, s.args))
            .collect();
        let want = [
            "conv [2, 2] [Input(0), Input(1)]",
            "relu [Prev(0)]",
            "pool [1, 1] [Prev(1)]",
        ];
        assert_eq!(steps, want);
        assert_eq!(claim.outputs, [2]);
    }
}
