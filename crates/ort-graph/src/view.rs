//! Builds the ABI's [`GraphView`] over an IR graph, borrowing its tensors.

use std::collections::BTreeMap;

use ort_core::abi::{AttrValue as V, Attribute, GraphView, NodeView, RString, RVec, Tuple2};

use crate::ir::{AttrValue, Graph};

/// A view of `g`. `assigned[i]` names the provider node `i` already belongs to
/// (empty = unassigned); `outer` lists the names `g` reads from enclosing scopes.
pub fn graph_view<'a>(
    g: &'a Graph,
    opsets: &BTreeMap<String, i64>,
    assigned: &[String],
    outer: &[String],
) -> GraphView<'a> {
    let nodes = g
        .nodes
        .iter()
        .enumerate()
        .map(|(i, n)| NodeView {
            index: i as u32,
            name: n.name.as_str().into(),
            op_type: n.op_type.as_str().into(),
            domain: n.domain.as_str().into(),
            opset: opsets.get(&n.domain).copied().unwrap_or(0),
            inputs: n.inputs.iter().map(|s| RString::from(s.as_str())).collect(),
            outputs: n
                .outputs
                .iter()
                .map(|s| RString::from(s.as_str()))
                .collect(),
            attributes: n
                .attrs
                .iter()
                .map(|a| Attribute {
                    name: a.name.as_str().into(),
                    value: attr(&a.value, opsets),
                })
                .collect(),
            assigned: assigned
                .get(i)
                .map(|s| RString::from(s.as_str()))
                .unwrap_or_default(),
        })
        .collect();
    let mut values: Vec<Tuple2<RString, ort_core::TypeInfo>> = g
        .types
        .iter()
        .map(|(k, v)| Tuple2(RString::from(k.as_str()), v.clone()))
        .collect();
    values.sort_by(|a, b| a.0.cmp(&b.0));
    let inits: std::collections::HashSet<&str> =
        g.initializers.iter().map(|(n, _)| n.as_str()).collect();
    GraphView {
        name: g.name.as_str().into(),
        nodes,
        inputs: g
            .inputs
            .iter()
            .filter(|i| !inits.contains(i.name.as_str()))
            .map(|i| RString::from(i.name.as_str()))
            .collect(),
        outputs: g
            .outputs
            .iter()
            .map(|o| RString::from(o.name.as_str()))
            .collect(),
        values: values.into(),
        initializers: g
            .initializers
            .iter()
            .map(|(n, t)| Tuple2(RString::from(n.as_str()), t))
            .collect(),
        outer_scope: outer.iter().map(|s| RString::from(s.as_str())).collect(),
    }
}

fn attr<'a>(v: &'a AttrValue, opsets: &BTreeMap<String, i64>) -> V<'a> {
    let sub = |g: &'a Graph| {
        let outer = g.outer_scope_names();
        graph_view(g, opsets, &[], &outer)
    };
    match v {
        AttrValue::Float(f) => V::Float(*f),
        AttrValue::Int(i) => V::Int(*i),
        AttrValue::String(s) => V::String(s.as_slice().into()),
        AttrValue::Tensor(t) => V::Tensor(t),
        AttrValue::Graph(g) => V::Graph(ort_core::abi::RBox::new(sub(g))),
        AttrValue::Type(t) => V::Type(t.clone()),
        AttrValue::Floats(f) => V::Floats(f.as_slice().into()),
        AttrValue::Ints(i) => V::Ints(i.as_slice().into()),
        AttrValue::Strings(s) => V::Strings(s.iter().map(|x| RVec::from(x.as_slice())).collect()),
        AttrValue::Tensors(ts) => V::Tensors(ts.iter().collect()),
        AttrValue::Graphs(gs) => V::Graphs(gs.iter().map(sub).collect()),
        AttrValue::Types(ts) => V::Types(ts.iter().cloned().collect()),
    }
}
