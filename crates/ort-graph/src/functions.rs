//! Model-local functions: each call is replaced by the function's body, with its
//! values renamed apart and its attribute references resolved.

use std::collections::{BTreeMap, HashMap};

use crate::error::GraphError;
use crate::ir::{Attr, AttrValue, Graph, Node};
use crate::load::Ctx;
use crate::proto::{AttributeProto, FunctionProto};

pub(crate) struct Function {
    proto: FunctionProto,
    defaults: Vec<Attr>,
    opsets: BTreeMap<String, i64>,
}

pub(crate) fn collect(
    fs: &[FunctionProto],
    ctx: &Ctx<'_>,
) -> Result<HashMap<(String, String), Function>, GraphError> {
    let mut out = HashMap::new();
    for f in fs {
        let mut defaults = Vec::new();
        for a in &f.attribute_proto {
            let value = ctx
                .attr(a)
                .map_err(|e| GraphError::invalid(ctx.file, format!("function {}: {e}", f.name)))?;
            defaults.push(Attr {
                name: a.name.clone(),
                value,
            });
        }
        let opsets = f
            .opset_import
            .iter()
            .map(|o| (norm(&o.domain), o.version))
            .collect();
        out.insert(
            (norm(&f.domain), f.name.clone()),
            Function {
                proto: f.clone(),
                defaults,
                opsets,
            },
        );
    }
    // Keep the functions' contexts for converting bodies later.
    Ok(out)
}

fn norm(d: &str) -> String {
    if d == "ai.onnx" {
        String::new()
    } else {
        d.to_string()
    }
}

/// Expands every call of a function in `g` (and its subgraphs), repeatedly, so that
/// functions calling functions are expanded too.
pub(crate) fn inline(
    g: &mut Graph,
    funcs: &HashMap<(String, String), Function>,
    opsets: &mut BTreeMap<String, i64>,
) -> Result<(), String> {
    let ctx = Ctx {
        file: "function body",
        dir: None,
    };
    let mut counter = 0usize;
    inline_graph(g, funcs, opsets, &ctx, &mut counter, 0)
}

fn inline_graph(
    g: &mut Graph,
    funcs: &HashMap<(String, String), Function>,
    opsets: &mut BTreeMap<String, i64>,
    ctx: &Ctx<'_>,
    counter: &mut usize,
    depth: usize,
) -> Result<(), String> {
    if depth > 32 {
        return Err("functions call each other more than 32 levels deep (recursion?)".into());
    }
    let mut out = Vec::with_capacity(g.nodes.len());
    let mut changed = false;
    for mut node in std::mem::take(&mut g.nodes) {
        for a in &mut node.attrs {
            match &mut a.value {
                AttrValue::Graph(sg) => inline_graph(sg, funcs, opsets, ctx, counter, depth)?,
                AttrValue::Graphs(gs) => {
                    for sg in gs {
                        inline_graph(sg, funcs, opsets, ctx, counter, depth)?;
                    }
                }
                _ => {}
            }
        }
        match funcs.get(&(node.domain.clone(), node.op_type.clone())) {
            Some(f) => {
                changed = true;
                *counter += 1;
                for (d, v) in &f.opsets {
                    opsets.entry(d.clone()).or_insert(*v);
                }
                out.extend(expand(&node, f, ctx, *counter)?);
            }
            None => out.push(node),
        }
    }
    g.nodes = out;
    if changed {
        inline_graph(g, funcs, opsets, ctx, counter, depth + 1)?;
    }
    Ok(())
}

fn expand(call: &Node, f: &Function, ctx: &Ctx<'_>, id: usize) -> Result<Vec<Node>, String> {
    let mut rename: HashMap<String, String> = HashMap::new();
    for (i, formal) in f.proto.input.iter().enumerate() {
        rename.insert(
            formal.clone(),
            call.inputs.get(i).cloned().unwrap_or_default(),
        );
    }
    for (i, formal) in f.proto.output.iter().enumerate() {
        rename.insert(
            formal.clone(),
            call.outputs.get(i).cloned().unwrap_or_default(),
        );
    }
    let prefix = format!("{}__{}_{id}", call.name, f.proto.name);
    let mut body = Vec::new();
    for (k, np) in f.proto.node.iter().enumerate() {
        let mut np = np.clone();
        np.attribute = np
            .attribute
            .into_iter()
            .filter_map(|a| resolve_ref(a, call, f))
            .collect();
        let mut n = ctx
            .node(&np, k)
            .map_err(|e| format!("function {}: {e}", f.proto.name))?;
        n.name = format!("{prefix}/{}", n.name);
        for v in n.inputs.iter_mut().chain(n.outputs.iter_mut()) {
            if v.is_empty() {
                continue;
            }
            let new = rename
                .entry(v.clone())
                .or_insert_with(|| format!("{prefix}/{v}"))
                .clone();
            *v = new;
        }
        body.push(n);
    }
    Ok(body)
}

/// An attribute that refers to the caller's attribute (`ref_attr_name`) takes the
/// caller's value, else the function's default, else is dropped.
fn resolve_ref(a: AttributeProto, call: &Node, f: &Function) -> Option<AttributeProto> {
    if a.ref_attr_name.is_empty() {
        return Some(a);
    }
    let value = call
        .attrs
        .iter()
        .find(|c| c.name == a.ref_attr_name)
        .or_else(|| f.defaults.iter().find(|d| d.name == a.ref_attr_name))?;
    Some(to_proto(&a.name, &value.value))
}

fn to_proto(name: &str, v: &AttrValue) -> AttributeProto {
    use crate::proto::attribute_proto::AttributeType as T;
    let mut p = AttributeProto {
        name: name.to_string(),
        ..Default::default()
    };
    match v {
        AttrValue::Float(x) => {
            p.f = *x;
            p.r#type = T::Float as i32
        }
        AttrValue::Int(x) => {
            p.i = *x;
            p.r#type = T::Int as i32
        }
        AttrValue::String(x) => {
            p.s = x.clone();
            p.r#type = T::String as i32
        }
        AttrValue::Floats(x) => {
            p.floats = x.clone();
            p.r#type = T::Floats as i32
        }
        AttrValue::Ints(x) => {
            p.ints = x.clone();
            p.r#type = T::Ints as i32
        }
        AttrValue::Strings(x) => {
            p.strings = x.clone();
            p.r#type = T::Strings as i32
        }
        AttrValue::Tensor(t) => {
            p.t = crate::tensor::encode(t, "").ok();
            p.r#type = T::Tensor as i32
        }
        AttrValue::Type(t) => {
            p.tp = crate::load::type_proto(t);
            p.r#type = T::TypeProto as i32
        }
        // Graph-valued attribute references do not occur in practice; keep the type only.
        AttrValue::Graph(_)
        | AttrValue::Graphs(_)
        | AttrValue::Tensors(_)
        | AttrValue::Types(_) => {}
    }
    p
}
