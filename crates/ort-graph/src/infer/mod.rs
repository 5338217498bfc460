//! Type and shape inference, keeping symbolic dims. Declared types win; inference
//! fills in what the file leaves out, so the graph view a provider sees has types
//! and shapes wherever they are knowable. Type conflicts between inputs that an op
//! requires to agree are errors.
//!
//! Rules live by op family (`elementwise`, `tensor`, `nn`, `reduce`, `sequence`,
//! `control`, `other`); [`values`] propagates small integer tensors (shapes computed
//! with Shape/Gather/Concat/...) so that Reshape, Expand, Slice and friends downstream
//! of shape arithmetic still get static shapes.

mod control;
mod elementwise;
mod nn;
mod other;
mod reduce;
mod sequence;
mod tensor;
mod util;
mod values;

use ort_core::kit::Attributes;
use std::collections::{BTreeMap, HashMap};

use ort_core::{Dim, ElemType, Tensor, TypeInfo};

use crate::ir::{AttrValue, Graph, Node};

pub(crate) use util::*;

/// Infers types for every node output of `g` and its subgraphs.
pub fn graph(g: &mut Graph, opsets: &BTreeMap<String, i64>, outer: &HashMap<String, TypeInfo>) {
    let _ = try_graph(g, opsets, outer);
}

/// As [`graph`], but reports the first type conflict.
pub fn try_graph(
    g: &mut Graph,
    opsets: &BTreeMap<String, i64>,
    outer: &HashMap<String, TypeInfo>,
) -> Result<(), String> {
    let mut consts: HashMap<String, Tensor> = g.initializers.iter().cloned().collect();
    let mut first_err = None;
    for i in 0..g.nodes.len() {
        // Subgraphs see every type known so far.
        let mut visible = outer.clone();
        visible.extend(g.types.iter().map(|(k, v)| (k.clone(), v.clone())));
        let node = &mut g.nodes[i];
        for a in &mut node.attrs {
            match &mut a.value {
                AttrValue::Graph(sg) => graph(sg, opsets, &visible),
                AttrValue::Graphs(gs) => gs.iter_mut().for_each(|sg| graph(sg, opsets, &visible)),
                _ => {}
            }
        }
        let node = &g.nodes[i];
        let opset = opsets.get(&node.domain).copied().unwrap_or(0);
        let lookup = |name: &str| -> TypeInfo {
            if name.is_empty() {
                return TypeInfo::Unknown;
            }
            g.types
                .get(name)
                .or_else(|| outer.get(name))
                .cloned()
                .unwrap_or(TypeInfo::Unknown)
        };
        let ins: Vec<TypeInfo> = node.inputs.iter().map(|n| lookup(n)).collect();
        let cins: Vec<Option<&Tensor>> = node.inputs.iter().map(|n| consts.get(n)).collect();
        let cx = Cx {
            n: node,
            opset,
            ins: &ins,
            cins: &cins,
            attr_error: Default::default(),
        };
        let computed = values::compute(&cx);
        let types = node_types(&cx);
        let types = match cx.attr_error.take() {
            Some(e) => Err(e),
            None => types,
        };
        match types {
            Ok(outs) => {
                for (name, t) in node.outputs.iter().zip(outs) {
                    if name.is_empty() || matches!(t, TypeInfo::Unknown) {
                        continue;
                    }
                    let e = g.types.entry(name.clone()).or_insert(TypeInfo::Unknown);
                    *e = merge(e, &t);
                }
            }
            Err(e) => {
                if first_err.is_none() {
                    first_err = Some(format!("{}: {e}", node.describe()));
                }
            }
        }
        if let Some(t) = computed {
            consts.insert(node.outputs[0].clone(), t);
        }
    }
    match first_err {
        Some(e) => Err(e),
        None => Ok(()),
    }
}

/// Declared information wins; inferred fills the gaps (unknown rank or dims).
fn merge(declared: &TypeInfo, inferred: &TypeInfo) -> TypeInfo {
    match (declared, inferred) {
        (TypeInfo::Unknown, t) => t.clone(),
        (
            TypeInfo::Tensor { elem, shape },
            TypeInfo::Tensor {
                elem: e2,
                shape: s2,
            },
        ) => {
            let elem = if *elem == ElemType::Undefined {
                *e2
            } else {
                *elem
            };
            let shape = match (shape.as_ref().into_option(), s2.as_ref().into_option()) {
                (None, s) => s.map(|s| s.to_vec()),
                (Some(d), Some(i)) if d.len() == i.len() => Some(
                    d.iter()
                        .zip(i.iter())
                        .map(|(a, b)| {
                            if matches!(a, Dim::Unknown) {
                                b.clone()
                            } else {
                                a.clone()
                            }
                        })
                        .collect(),
                ),
                (Some(d), _) => Some(d.to_vec()),
            };
            TypeInfo::tensor(elem, shape)
        }
        (TypeInfo::Sequence(d), TypeInfo::Sequence(i)) => {
            TypeInfo::Sequence(ort_core::abi::RBox::new(merge(d, i)))
        }
        (TypeInfo::Optional(d), TypeInfo::Optional(i)) => {
            TypeInfo::Optional(ort_core::abi::RBox::new(merge(d, i)))
        }
        (d, _) => d.clone(),
    }
}

/// The output types of one node, by family; ops no rule knows give nothing.
fn node_types(cx: &Cx<'_>) -> Result<Vec<TypeInfo>, String> {
    let families: [fn(&Cx<'_>) -> Rule; 7] = [
        elementwise::infer,
        tensor::infer,
        nn::infer,
        reduce::infer,
        sequence::infer,
        control::infer,
        other::infer,
    ];
    for f in families {
        if let Some(r) = f(cx) {
            return r;
        }
    }
    Ok(vec![])
}

/// One node as inference sees it: its input types and the inputs whose values are
/// known (initializers, constants, propagated shape arithmetic).
pub(crate) struct Cx<'a> {
    pub n: &'a Node,
    pub opset: i64,
    pub ins: &'a [TypeInfo],
    pub cins: &'a [Option<&'a Tensor>],
    /// The first attribute read with the wrong type: the rules read attributes
    /// as plain values, and the node's inference fails with this afterwards.
    pub attr_error: std::cell::RefCell<Option<String>>,
}

static UNKNOWN: TypeInfo = TypeInfo::Unknown;

impl<'a> Cx<'a> {
    pub fn op(&self) -> &str {
        &self.n.op_type
    }
    pub fn domain(&self) -> &str {
        &self.n.domain
    }
    pub fn t(&self, i: usize) -> &TypeInfo {
        self.ins.get(i).unwrap_or(&UNKNOWN)
    }
    pub fn e(&self, i: usize) -> Option<ElemType> {
        elem(self.t(i))
    }
    pub fn s(&self, i: usize) -> Shape {
        shape(self.t(i))
    }
    pub fn rank(&self, i: usize) -> Option<usize> {
        self.t(i).shape().map(|s| s.len())
    }
    pub fn has(&self, i: usize) -> bool {
        self.n.inputs.get(i).is_some_and(|s| !s.is_empty())
    }
    pub fn num_in(&self) -> usize {
        self.n.inputs.len()
    }
    pub fn num_out(&self) -> usize {
        self.n.outputs.len()
    }
    /// Input `i`'s value when known at load time.
    pub fn value(&self, i: usize) -> Option<&'a Tensor> {
        self.cins.get(i).copied().flatten()
    }
    pub fn ints(&self, i: usize) -> Option<Vec<i64>> {
        self.value(i).and_then(|t| t.to_i64_vec().ok())
    }
    pub fn floats(&self, i: usize) -> Option<Vec<f64>> {
        self.value(i).and_then(|t| t.to_f64_vec().ok())
    }
    /// An attribute read through [`Attributes`], a wrong type recorded.
    fn read<T>(&self, r: Result<Option<T>, ort_core::Error>) -> Option<T> {
        r.unwrap_or_else(|e| {
            self.attr_error
                .borrow_mut()
                .get_or_insert_with(|| e.message().to_string());
            None
        })
    }
    pub fn int(&self, name: &str, default: i64) -> i64 {
        self.opt_int(name).unwrap_or(default)
    }
    pub fn opt_int(&self, name: &str) -> Option<i64> {
        self.read(self.n.attr_opt_int(name))
    }
    pub fn attr_ints(&self, name: &str) -> Option<Vec<i64>> {
        self.read(self.n.attr_ints(name))
    }
    pub fn floats_attr(&self, name: &str) -> Option<Vec<f32>> {
        self.read(self.n.attr_floats(name))
    }
    pub fn string(&self, name: &str) -> Option<String> {
        self.read(self.n.attr_string(name))
    }
    /// An element-type attribute (`to`, `dtype`, `output_dtype`...), 0 meaning unset.
    pub fn dtype(&self, name: &str) -> Option<ElemType> {
        self.opt_int(name)
            .filter(|&c| c != 0)
            .and_then(|c| ElemType::from_onnx(c as i32))
    }
    pub fn graph_attr(&self, name: &str) -> Option<&'a Graph> {
        match self.n.attr(name) {
            Some(AttrValue::Graph(g)) => Some(g),
            _ => None,
        }
    }
}
