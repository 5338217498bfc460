//! What a kernel is: built once per node at compile time from its attributes, then
//! called (possibly from several threads at once) with the node's inputs.

use ort_core::kit::Attributes;
use std::collections::HashMap;

use ort_core::plugin::Host;
use ort_core::{
    AttrValue, ElemType, Error, GraphView, NodeView, PodElement, Tensor, TypeInfo, Value,
};

/// What a kernel returns: one value per declared output (None for an omitted
/// optional one), as a partition does.
pub use ort_core::plugin::Outputs;

/// A compiled node. Stateless: `compute` takes `&self`.
pub trait Kernel: Send + Sync {
    fn compute(&self, inputs: &[Option<&Value>], ctx: &Ctx<'_>) -> Outputs;
}

/// The per-call context: host services (arena allocation) and the intra-op pool size.
pub struct Ctx<'a> {
    pub host: &'a Host<'a>,
    pub threads: usize,
}

impl Ctx<'_> {
    /// A fresh output tensor whose elements `fill` writes (arena memory).
    pub fn tensor<T: PodElement>(
        &self,
        shape: &[i64],
        fill: impl FnOnce(&mut [T]),
    ) -> Result<Tensor, Error> {
        self.host.tensor(shape, fill)
    }
    /// An output tensor copied from a slice.
    pub fn tensor_from<T: PodElement>(&self, shape: &[i64], data: &[T]) -> Result<Tensor, Error> {
        self.host
            .tensor(shape, |o: &mut [T]| o.copy_from_slice(data))
    }
}

/// A node and what the graph knows about it, for building a kernel.
pub struct NodeInfo<'n, 'g> {
    pub node: &'n NodeView<'g>,
    pub graph: &'n GraphView<'g>,
    pub types: &'n HashMap<&'n str, &'n TypeInfo>,
}

impl<'n, 'g> NodeInfo<'n, 'g> {
    pub fn op(&self) -> &str {
        &self.node.op_type
    }
    pub fn opset(&self) -> i64 {
        self.node.opset
    }
    pub fn attr(&self, name: &str) -> Option<&AttrValue<'g>> {
        self.node.attr(name)
    }
    pub fn has(&self, name: &str) -> bool {
        self.attr(name).is_some()
    }
    // The typed getters are ort-core's, shared with every provider.
    pub fn int(&self, name: &str, default: i64) -> Result<i64, Error> {
        self.node.attr_int(name, default)
    }
    pub fn float(&self, name: &str, default: f32) -> Result<f32, Error> {
        self.node.attr_float(name, default)
    }
    pub fn string(&self, name: &str, default: &str) -> Result<String, Error> {
        Ok(self
            .node
            .attr_string(name)?
            .unwrap_or_else(|| default.to_string()))
    }
    pub fn ints(&self, name: &str) -> Result<Option<Vec<i64>>, Error> {
        self.node.attr_ints(name)
    }
    pub fn floats(&self, name: &str) -> Result<Option<Vec<f32>>, Error> {
        self.node.attr_floats(name)
    }
    pub fn strings(&self, name: &str) -> Result<Option<Vec<String>>, Error> {
        self.node.attr_strings(name)
    }
    /// A tensor attribute (cloned: a reference count, not a copy).
    pub fn tensor(&self, name: &str) -> Result<Option<Tensor>, Error> {
        Ok(self.node.attr_tensor(name)?.cloned())
    }
    /// The name of input `i`, or None when absent.
    pub fn input_name(&self, i: usize) -> Option<&str> {
        self.node
            .inputs
            .get(i)
            .map(|s| s.as_str())
            .filter(|s| !s.is_empty())
    }
    pub fn num_inputs(&self) -> usize {
        self.node.inputs.len()
    }
    pub fn num_outputs(&self) -> usize {
        self.node.outputs.len()
    }
    /// The declared element type of input `i`, if known.
    pub fn input_type(&self, i: usize) -> Option<ElemType> {
        self.input_name(i)
            .and_then(|n| self.types.get(n))
            .and_then(|t| t.elem())
            .or_else(|| self.constant_input(i).map(|t| t.elem()))
    }
    /// The declared dimensions of input `i` (None for one not known), when its
    /// rank is known.
    pub fn input_dims(&self, i: usize) -> Option<Vec<Option<usize>>> {
        let shape = self.types.get(self.input_name(i)?)?.shape()?;
        let known = |d: &ort_core::Dim| d.known().and_then(|v| usize::try_from(v).ok());
        Some(shape.iter().map(known).collect())
    }
    /// The declared element type of output `i`, if known.
    pub fn output_type(&self, i: usize) -> Option<ElemType> {
        self.node
            .outputs
            .get(i)
            .and_then(|n| self.types.get(n.as_str()))
            .and_then(|t| t.elem())
    }
    /// Input `i` when it is an initializer (a constant known at compile time).
    pub fn constant_input(&self, i: usize) -> Option<&'g Tensor> {
        self.input_name(i).and_then(|n| self.graph.initializer(n))
    }
    /// Input `i`'s initializer and its identity, for work done once from it (packed
    /// weights, a cached result): see [`ConstId`].
    pub fn constant_with_id(&self, i: usize) -> Option<(&'g Tensor, ConstId)> {
        let t = self.constant_input(i)?;
        Some((t, ConstId::of(t)?))
    }
}

/// Which initializer a kernel prepared something from. A graph input of the same
/// name may replace an initializer at run time, so the kernel checks that the
/// tensor it is given is still that one (same memory, shape and type) before
/// using what it prepared.
#[derive(Clone, Debug, PartialEq)]
pub struct ConstId {
    addr: usize,
    elem: ort_core::ElemType,
    shape: Vec<i64>,
}

impl ConstId {
    pub fn of(t: &Tensor) -> Option<ConstId> {
        Some(ConstId {
            addr: t.bytes()?.as_ptr() as usize,
            elem: t.elem(),
            shape: t.shape().to_vec(),
        })
    }
    /// Whether `t` is the initializer this was taken from.
    pub fn matches(&self, t: &Tensor) -> bool {
        ConstId::of(t).as_ref() == Some(self)
    }
}

/// Input `i` as a tensor, or an error naming the input.
pub fn input<'v>(inputs: &[Option<&'v Value>], i: usize) -> Result<&'v Tensor, Error> {
    match inputs.get(i).copied().flatten() {
        Some(v) => v.tensor(),
        None => Err(Error::invalid(format!("required input {i} is missing"))),
    }
}

/// Optional input `i` as a tensor.
pub fn opt_input<'v>(inputs: &[Option<&'v Value>], i: usize) -> Result<Option<&'v Tensor>, Error> {
    match inputs.get(i).copied().flatten() {
        Some(v) => v.tensor().map(Some),
        None => Ok(None),
    }
}

/// Wraps one output tensor.
pub fn one(t: Tensor) -> Outputs {
    Ok(vec![Some(Value::Tensor(t))])
}
