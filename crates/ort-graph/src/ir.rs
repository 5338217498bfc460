//! The graph IR: an owned, validated form of an ONNX model.

use std::collections::{BTreeMap, HashMap};
use std::path::PathBuf;

use ort_core::kit::{AttrRef, Attributes};
use ort_core::{Tensor, TypeInfo};

/// A loaded model.
#[derive(Clone, Debug)]
pub struct Model {
    pub ir_version: i64,
    /// Opset version per domain (`""` is `ai.onnx`).
    pub opsets: BTreeMap<String, i64>,
    pub producer: String,
    pub graph: Graph,
    /// The file it came from, for messages and external data.
    pub path: Option<PathBuf>,
}

/// A graph: the main graph, or a subgraph of If / Loop / Scan.
#[derive(Clone, Debug, Default)]
pub struct Graph {
    pub name: String,
    /// In topological order once loaded.
    pub nodes: Vec<Node>,
    /// Declared inputs, including any that an initializer gives a default to.
    pub inputs: Vec<ValueDecl>,
    pub outputs: Vec<ValueDecl>,
    pub initializers: Vec<(String, Tensor)>,
    /// What is known of every value's type: declared and inferred.
    pub types: HashMap<String, TypeInfo>,
}

/// A declared graph input or output.
#[derive(Clone, Debug)]
pub struct ValueDecl {
    pub name: String,
    pub ty: TypeInfo,
}

#[derive(Clone, Debug)]
pub struct Node {
    pub name: String,
    pub op_type: String,
    /// `""` for `ai.onnx`.
    pub domain: String,
    /// `""` marks an optional input left out.
    pub inputs: Vec<String>,
    pub outputs: Vec<String>,
    pub attrs: Vec<Attr>,
}

#[derive(Clone, Debug)]
pub struct Attr {
    pub name: String,
    pub value: AttrValue,
}

#[derive(Clone, Debug)]
pub enum AttrValue {
    Float(f32),
    Int(i64),
    String(Vec<u8>),
    Tensor(Tensor),
    Graph(Box<Graph>),
    Type(TypeInfo),
    Floats(Vec<f32>),
    Ints(Vec<i64>),
    Strings(Vec<Vec<u8>>),
    Tensors(Vec<Tensor>),
    Graphs(Vec<Graph>),
    Types(Vec<TypeInfo>),
}

impl Attributes for Node {
    fn attr_ref(&self, name: &str) -> Option<AttrRef<'_>> {
        Some(match self.attr(name)? {
            AttrValue::Int(v) => AttrRef::Int(*v),
            AttrValue::Float(v) => AttrRef::Float(*v),
            AttrValue::Ints(v) => AttrRef::Ints(v),
            AttrValue::Floats(v) => AttrRef::Floats(v),
            AttrValue::String(v) => AttrRef::String(v),
            AttrValue::Strings(v) => AttrRef::Strings(v.iter().map(|s| s.as_slice()).collect()),
            AttrValue::Tensor(t) => AttrRef::Tensor(t),
            _ => AttrRef::Other,
        })
    }
}

impl Node {
    pub fn attr(&self, name: &str) -> Option<&AttrValue> {
        self.attrs.iter().find(|a| a.name == name).map(|a| &a.value)
    }
    /// Subgraphs held in attributes (If branches, Loop/Scan bodies).
    pub fn subgraphs(&self) -> impl Iterator<Item = &Graph> {
        self.attrs.iter().flat_map(|a| match &a.value {
            AttrValue::Graph(g) => vec![g.as_ref()],
            AttrValue::Graphs(gs) => gs.iter().collect(),
            _ => vec![],
        })
    }
    /// `Relu node 'r1'`, for messages.
    pub fn describe(&self) -> String {
        let domain = if self.domain.is_empty() {
            "ai.onnx"
        } else {
            &self.domain
        };
        format!("{} node '{}' (domain {domain})", self.op_type, self.name)
    }
    /// Present (non-empty) input names.
    pub fn present_inputs(&self) -> impl Iterator<Item = &str> {
        self.inputs
            .iter()
            .map(|s| s.as_str())
            .filter(|s| !s.is_empty())
    }
}

impl Graph {
    pub fn initializer(&self, name: &str) -> Option<&Tensor> {
        self.initializers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, t)| t)
    }
    /// Declared inputs that no initializer provides: what a caller must feed.
    pub fn runtime_inputs(&self) -> Vec<&ValueDecl> {
        let inits: std::collections::HashSet<&str> =
            self.initializers.iter().map(|(n, _)| n.as_str()).collect();
        self.inputs
            .iter()
            .filter(|i| !inits.contains(i.name.as_str()))
            .collect()
    }
    /// Names a graph reads from an enclosing scope: used by its nodes (or their
    /// subgraphs) but defined neither here nor as an input or initializer.
    pub fn outer_scope_names(&self) -> Vec<String> {
        let mut defined: std::collections::HashSet<&str> =
            self.inputs.iter().map(|i| i.name.as_str()).collect();
        defined.extend(self.initializers.iter().map(|(n, _)| n.as_str()));
        for n in &self.nodes {
            defined.extend(n.outputs.iter().map(|s| s.as_str()));
        }
        let mut out: Vec<String> = Vec::new();
        let mut push = |s: &str| {
            if !s.is_empty() && !defined.contains(s) && !out.iter().any(|o| o == s) {
                out.push(s.to_string());
            }
        };
        for n in &self.nodes {
            n.present_inputs().for_each(&mut push);
            for g in n.subgraphs() {
                g.outer_scope_names().iter().for_each(|s| push(s));
            }
        }
        out
    }
    /// Counts nodes here and in every subgraph.
    pub fn node_count_deep(&self) -> usize {
        self.nodes
            .iter()
            .map(|n| 1 + n.subgraphs().map(|g| g.node_count_deep()).sum::<usize>())
            .sum()
    }
}
