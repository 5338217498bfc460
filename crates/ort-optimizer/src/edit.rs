//! Helpers that every pass shares: who reads a value, who makes it, constant
//! initializers as numbers, and rewriting a matched pattern into one node.

use std::collections::{HashMap, HashSet};

use ort_core::{ElemType, Tensor};
use ort_graph::{Attr, AttrValue, Graph, Node};

/// Who reads each value of one graph level. A node whose subgraph reads a value
/// from the enclosing scope counts as a reader; so does the graph's output list.
pub struct Uses {
    readers: HashMap<String, Vec<usize>>,
    outputs: HashSet<String>,
    producer: HashMap<String, usize>,
}

impl Uses {
    pub fn new(g: &Graph) -> Uses {
        let mut readers: HashMap<String, Vec<usize>> = HashMap::new();
        let mut producer = HashMap::new();
        for (i, n) in g.nodes.iter().enumerate() {
            for v in n.present_inputs() {
                readers.entry(v.to_string()).or_default().push(i);
            }
            for sg in n.subgraphs() {
                for v in sg.outer_scope_names() {
                    readers.entry(v).or_default().push(i);
                }
            }
            for o in n.outputs.iter().filter(|o| !o.is_empty()) {
                producer.insert(o.clone(), i);
            }
        }
        Uses {
            readers,
            outputs: g.outputs.iter().map(|o| o.name.clone()).collect(),
            producer,
        }
    }
    /// Indices of the nodes that read `v` (a node reading it twice appears twice).
    pub fn readers(&self, v: &str) -> &[usize] {
        self.readers.get(v).map(|r| r.as_slice()).unwrap_or(&[])
    }
    pub fn is_graph_output(&self, v: &str) -> bool {
        self.outputs.contains(v)
    }
    /// The one node that reads `v`, when exactly one input slot of one node reads
    /// it and it is not a graph output: the condition for fusing its producer away.
    pub fn only_reader(&self, v: &str) -> Option<usize> {
        match self.readers(v) {
            [one] if !self.is_graph_output(v) => Some(*one),
            _ => None,
        }
    }
    /// The node that makes `v` (None for graph inputs and initializers).
    pub fn producer(&self, v: &str) -> Option<usize> {
        self.producer.get(v).copied()
    }
}

/// Offers each node position in turn to `rewrite`, which returns true when it
/// changed the graph there; the same position is then offered again, since a
/// different node now sits there. `Uses` is rebuilt only after a change.
/// Returns the number of changes.
pub fn rewrite_each(
    g: &mut Graph,
    mut rewrite: impl FnMut(&mut Graph, &Uses, usize) -> bool,
) -> usize {
    let (mut changes, mut i) = (0, 0);
    let mut uses = Uses::new(g);
    while i < g.nodes.len() {
        if rewrite(g, &uses, i) {
            changes += 1;
            uses = Uses::new(g);
        } else {
            i += 1;
        }
    }
    changes
}

/// The type of a tensor whose shape is fully known (a constant).
pub fn known_type(t: &Tensor) -> ort_core::TypeInfo {
    ort_core::TypeInfo::tensor(
        t.elem(),
        Some(t.shape().iter().map(|&d| ort_core::Dim::Known(d)).collect()),
    )
}

/// The initializer named `v`, if `v` is a constant. A graph input of the same name
/// lets the caller override it, so it is not a constant.
pub fn constant<'g>(g: &'g Graph, v: &str) -> Option<&'g Tensor> {
    if g.inputs.iter().any(|i| i.name == v) {
        return None;
    }
    g.initializer(v)
}

/// A constant's elements as f64 (any numeric type).
pub fn constant_f64(g: &Graph, v: &str) -> Option<Vec<f64>> {
    constant(g, v).and_then(|t| t.to_f64_vec().ok())
}

/// A constant holding a single element (any shape of one element), as f64.
pub fn scalar(g: &Graph, v: &str) -> Option<f64> {
    match constant_f64(g, v)?.as_slice() {
        [x] => Some(*x),
        _ => None,
    }
}

/// The element type of a value, when known.
pub fn elem_type(g: &Graph, v: &str) -> Option<ElemType> {
    if let Some(t) = constant(g, v) {
        return Some(t.elem());
    }
    match g.types.get(v) {
        Some(ort_core::TypeInfo::Tensor { elem, .. }) if *elem != ElemType::Undefined => {
            Some(*elem)
        }
        _ => None,
    }
}

/// The static shape of a value, when every dim is known.
pub fn static_shape(g: &Graph, v: &str) -> Option<Vec<i64>> {
    if let Some(t) = constant(g, v) {
        return Some(t.shape().to_vec());
    }
    match g.types.get(v) {
        Some(ort_core::TypeInfo::Tensor { shape, .. }) => {
            let s = shape.as_ref().into_option()?;
            s.iter()
                .map(|d| match d {
                    ort_core::Dim::Known(k) => Some(*k),
                    _ => None,
                })
                .collect()
        }
        _ => None,
    }
}

/// True when both values have the same known shape: equal dims, or the same
/// symbolic name (e.g. `batch`) where a dim is not a number.
pub fn same_shape(g: &Graph, a: &str, b: &str) -> bool {
    let dims = |v: &str| -> Option<Vec<ort_core::Dim>> {
        if let Some(t) = constant(g, v) {
            return Some(t.shape().iter().map(|&d| ort_core::Dim::Known(d)).collect());
        }
        match g.types.get(v) {
            Some(ort_core::TypeInfo::Tensor { shape, .. }) => {
                shape.as_ref().into_option().map(|s| s.to_vec())
            }
            _ => None,
        }
    };
    match (dims(a), dims(b)) {
        (Some(x), Some(y)) => {
            x.len() == y.len()
                && x.iter().zip(&y).all(|(p, q)| match (p, q) {
                    (ort_core::Dim::Known(p), ort_core::Dim::Known(q)) => p == q,
                    (ort_core::Dim::Symbolic(p), ort_core::Dim::Symbolic(q)) => p == q,
                    _ => false,
                })
        }
        _ => false,
    }
}

/// The rank of a value, when known.
pub fn rank(g: &Graph, v: &str) -> Option<usize> {
    if let Some(t) = constant(g, v) {
        return Some(t.rank());
    }
    match g.types.get(v) {
        Some(ort_core::TypeInfo::Tensor { shape, .. }) => {
            shape.as_ref().into_option().map(|s| s.len())
        }
        _ => None,
    }
}

/// A name not used anywhere in `g` yet, built from `base`.
pub fn fresh_name(g: &Graph, base: &str) -> String {
    let taken = |s: &str| {
        g.initializers.iter().any(|(n, _)| n == s)
            || g.inputs.iter().any(|i| i.name == s)
            || g.nodes
                .iter()
                .any(|n| n.name == s || n.outputs.iter().any(|o| o == s))
    };
    if !taken(base) {
        return base.to_string();
    }
    (1..)
        .map(|i| format!("{base}_{i}"))
        .find(|s| !taken(s))
        .expect("some suffix is free")
}

/// Adds a constant initializer under a fresh name built from `base`; returns the name.
pub fn add_initializer(g: &mut Graph, base: &str, t: Tensor) -> String {
    let name = fresh_name(g, base);
    g.types.insert(name.clone(), known_type(&t));
    g.initializers.push((name.clone(), t));
    name
}

/// Replaces the pattern `matched` (node indices; the last in graph order is the
/// one whose outputs the new node takes over) with `fused`, which is put at the
/// last matched node's position so the order stays topological. The other matched
/// nodes are removed: the caller has checked nobody else reads their outputs.
pub fn replace(g: &mut Graph, matched: &[usize], fused: Node) {
    let last = *matched.iter().max().expect("a pattern has nodes");
    g.nodes[last] = fused;
    let drop: HashSet<usize> = matched.iter().copied().filter(|&i| i != last).collect();
    let mut i = 0;
    g.nodes.retain(|_| {
        let keep = !drop.contains(&i);
        i += 1;
        keep
    });
}

/// Makes every reader of `from` (node inputs here and in subgraphs that read it
/// from this scope) read `to` instead. Graph outputs are not touched.
pub fn redirect(g: &mut Graph, from: &str, to: &str) {
    for n in &mut g.nodes {
        redirect_node(n, from, to);
    }
}

fn redirect_node(n: &mut Node, from: &str, to: &str) {
    for i in &mut n.inputs {
        if i == from {
            *i = to.to_string();
        }
    }
    for a in &mut n.attrs {
        match &mut a.value {
            AttrValue::Graph(sg) => redirect_sub(sg, from, to),
            AttrValue::Graphs(gs) => gs.iter_mut().for_each(|sg| redirect_sub(sg, from, to)),
            _ => {}
        }
    }
}

/// Inside a subgraph, `from` is an outer name unless the subgraph shadows it.
fn redirect_sub(g: &mut Graph, from: &str, to: &str) {
    let shadowed = g.inputs.iter().any(|i| i.name == from)
        || g.initializers.iter().any(|(n, _)| n == from)
        || g.nodes.iter().any(|n| n.outputs.iter().any(|o| o == from));
    if shadowed {
        return;
    }
    for n in &mut g.nodes {
        redirect_node(n, from, to);
    }
    for o in &mut g.outputs {
        if o.name == from {
            o.name = to.to_string();
        }
    }
}

/// Builds a node.
pub fn node(
    op: &str,
    domain: &str,
    name: &str,
    inputs: &[&str],
    outputs: &[&str],
    attrs: Vec<Attr>,
) -> Node {
    Node {
        name: name.to_string(),
        op_type: op.to_string(),
        domain: domain.to_string(),
        inputs: inputs.iter().map(|s| s.to_string()).collect(),
        outputs: outputs.iter().map(|s| s.to_string()).collect(),
        attrs,
    }
}

pub fn attr_int(name: &str, v: i64) -> Attr {
    Attr {
        name: name.into(),
        value: AttrValue::Int(v),
    }
}
pub fn attr_float(name: &str, v: f32) -> Attr {
    Attr {
        name: name.into(),
        value: AttrValue::Float(v),
    }
}
pub fn attr_str(name: &str, v: &str) -> Attr {
    Attr {
        name: name.into(),
        value: AttrValue::String(v.as_bytes().to_vec()),
    }
}
pub fn attr_floats(name: &str, v: Vec<f32>) -> Attr {
    Attr {
        name: name.into(),
        value: AttrValue::Floats(v),
    }
}
pub fn attr_ints(name: &str, v: Vec<i64>) -> Attr {
    Attr {
        name: name.into(),
        value: AttrValue::Ints(v),
    }
}

/// A node's float attribute (ints are accepted, as ONNX files sometimes hold them).
pub fn float_attr(n: &Node, name: &str) -> Option<f32> {
    match n.attr(name) {
        Some(AttrValue::Float(v)) => Some(*v),
        Some(AttrValue::Int(v)) => Some(*v as f32),
        _ => None,
    }
}

/// A node's string attribute.
pub fn str_attr<'n>(n: &'n Node, name: &str) -> Option<&'n str> {
    match n.attr(name) {
        Some(AttrValue::String(v)) => std::str::from_utf8(v).ok(),
        _ => None,
    }
}

/// True when `n` is op `op` of the default ONNX domain.
pub fn is(n: &Node, op: &str) -> bool {
    n.op_type == op && (n.domain.is_empty() || n.domain == "ai.onnx")
}

/// A test graph: input `x` (float32, [4]), the named outputs of the same type,
/// `nodes`, and the constants `inits` (scalars of any type).
#[cfg(test)]
pub fn scalar_graph(nodes: Vec<Node>, outputs: &[&str], inits: &[(&str, Tensor)]) -> Graph {
    let ty = ort_core::TypeInfo::tensor(ElemType::F32, Some(vec![ort_core::Dim::Known(4)]));
    let d = |n: &str| ort_graph::ValueDecl {
        name: n.into(),
        ty: ty.clone(),
    };
    let mut g = Graph {
        inputs: vec![d("x")],
        outputs: outputs.iter().map(|o| d(o)).collect(),
        nodes,
        initializers: inits
            .iter()
            .map(|(n, t)| (n.to_string(), t.clone()))
            .collect(),
        ..Graph::default()
    };
    g.types.insert("x".into(), ty);
    g
}
