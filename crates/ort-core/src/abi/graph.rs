//! The read-only view of a graph that a provider sees in GetCapability and Compile.

use abi_stable::std_types::{RBox, RString, RVec, Tuple2};
use abi_stable::StableAbi;

use super::types::TypeInfo;
use super::value::Tensor;

/// A graph (the main graph or a control-flow subgraph), borrowed from the host for the
/// duration of one call. Copy out (or clone: tensors are reference counted) anything
/// kept after the call returns.
#[repr(C)]
#[derive(StableAbi)]
pub struct GraphView<'a> {
    pub name: RString,
    /// Nodes in topological order; a node's `index` is its position here.
    pub nodes: RVec<NodeView<'a>>,
    /// Graph inputs (initializers excluded) and outputs, by value name.
    pub inputs: RVec<RString>,
    pub outputs: RVec<RString>,
    /// Every value whose type is known: graph inputs/outputs, node outputs.
    pub values: RVec<Tuple2<RString, TypeInfo>>,
    /// Constant tensors, borrowed: the same memory the host holds.
    pub initializers: RVec<Tuple2<RString, &'a Tensor>>,
    /// Values a subgraph reads from enclosing graphs (empty for the main graph).
    pub outer_scope: RVec<RString>,
}

/// One node.
#[repr(C)]
#[derive(StableAbi)]
pub struct NodeView<'a> {
    pub index: u32,
    pub name: RString,
    pub op_type: RString,
    /// `""` for the default ONNX domain (`ai.onnx`).
    pub domain: RString,
    /// The opset version the model imports for this node's domain.
    pub opset: i64,
    /// Input value names; `""` marks an optional input left out.
    pub inputs: RVec<RString>,
    pub outputs: RVec<RString>,
    pub attributes: RVec<Attribute<'a>>,
    /// The provider this node already belongs to, or `""` when unassigned.
    pub assigned: RString,
}

#[repr(C)]
#[derive(StableAbi)]
pub struct Attribute<'a> {
    pub name: RString,
    pub value: AttrValue<'a>,
}

/// An attribute value. Strings are bytes (ONNX does not promise UTF-8).
#[repr(u8)]
#[derive(StableAbi)]
pub enum AttrValue<'a> {
    Float(f32),
    Int(i64),
    String(RVec<u8>),
    Tensor(&'a Tensor),
    Graph(RBox<GraphView<'a>>),
    Type(TypeInfo),
    Floats(RVec<f32>),
    Ints(RVec<i64>),
    Strings(RVec<RVec<u8>>),
    Tensors(RVec<&'a Tensor>),
    Graphs(RVec<GraphView<'a>>),
    Types(RVec<TypeInfo>),
}

impl<'a> NodeView<'a> {
    pub fn attr(&self, name: &str) -> Option<&AttrValue<'a>> {
        self.attributes
            .iter()
            .find(|a| a.name.as_str() == name)
            .map(|a| &a.value)
    }

    /// A short description for messages: `Relu node 'relu_1' (ai.onnx opset 17)`.
    pub fn describe(&self) -> String {
        let domain = if self.domain.is_empty() {
            "ai.onnx"
        } else {
            self.domain.as_str()
        };
        format!(
            "{} node '{}' ({} opset {})",
            self.op_type, self.name, domain, self.opset
        )
    }
}

impl<'a> GraphView<'a> {
    pub fn value_type(&self, name: &str) -> Option<&TypeInfo> {
        self.values
            .iter()
            .find(|t| t.0.as_str() == name)
            .map(|t| &t.1)
    }
    pub fn initializer(&self, name: &str) -> Option<&'a Tensor> {
        self.initializers
            .iter()
            .find(|t| t.0.as_str() == name)
            .map(|t| t.1)
    }
}
