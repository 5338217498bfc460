//! The IR back to ONNX: what `ort optimize` writes. Functions were inlined at
//! load, so none are written; fused ops keep their own domain, whose opset import
//! the model carries in [`Model::opsets`].

use std::path::Path;

use prost::Message;

use crate::ir::{AttrValue, Graph, Model, Node};
use crate::load::type_proto;
use crate::proto::{
    attribute_proto::AttributeType as T, AttributeProto, GraphProto, ModelProto, NodeProto,
    OperatorSetIdProto, ValueInfoProto,
};
use crate::tensor;

/// `m` as a `ModelProto`.
pub fn to_proto(m: &Model) -> Result<ModelProto, String> {
    Ok(ModelProto {
        ir_version: m.ir_version.max(3),
        opset_import: m
            .opsets
            .iter()
            .map(|(d, &v)| OperatorSetIdProto {
                domain: d.clone(),
                version: v,
            })
            .collect(),
        producer_name: if m.producer.is_empty() {
            "ort".into()
        } else {
            m.producer.clone()
        },
        graph: Some(graph(&m.graph)?),
        ..Default::default()
    })
}

/// Writes `m` to `path` as an ONNX file.
pub fn save(m: &Model, path: &Path) -> Result<(), String> {
    let p = to_proto(m)?;
    let len = p.encoded_len();
    if len > i32::MAX as usize {
        return Err(format!(
            "{}: the model is {len} bytes, over protobuf's 2 GiB limit",
            path.display()
        ));
    }
    std::fs::write(path, p.encode_to_vec()).map_err(|e| format!("{}: {e}", path.display()))
}

fn value_info(name: &str, ty: &ort_core::TypeInfo) -> ValueInfoProto {
    ValueInfoProto {
        name: name.into(),
        r#type: type_proto(ty),
        ..Default::default()
    }
}

fn graph(g: &Graph) -> Result<GraphProto, String> {
    let io: std::collections::HashSet<&str> = g
        .inputs
        .iter()
        .chain(&g.outputs)
        .map(|d| d.name.as_str())
        .chain(g.initializers.iter().map(|(n, _)| n.as_str()))
        .collect();
    let mut produced: Vec<&String> = g.nodes.iter().flat_map(|n| n.outputs.iter()).collect();
    produced.retain(|o| !o.is_empty() && !io.contains(o.as_str()));
    Ok(GraphProto {
        name: g.name.clone(),
        node: g.nodes.iter().map(node).collect::<Result<_, _>>()?,
        initializer: g
            .initializers
            .iter()
            .map(|(n, t)| tensor::encode(t, n).map_err(|e| format!("initializer '{n}': {e}")))
            .collect::<Result<_, _>>()?,
        input: g
            .inputs
            .iter()
            .map(|d| value_info(&d.name, &d.ty))
            .collect(),
        output: g
            .outputs
            .iter()
            .map(|d| value_info(&d.name, &d.ty))
            .collect(),
        value_info: produced
            .into_iter()
            .filter_map(|o| g.types.get(o.as_str()).map(|t| (o, t)))
            .filter(|(_, t)| !matches!(t, ort_core::TypeInfo::Unknown))
            .map(|(o, t)| value_info(o, t))
            .collect(),
        ..Default::default()
    })
}

fn node(n: &Node) -> Result<NodeProto, String> {
    Ok(NodeProto {
        name: n.name.clone(),
        op_type: n.op_type.clone(),
        domain: n.domain.clone(),
        input: n.inputs.clone(),
        output: n.outputs.clone(),
        attribute: n
            .attrs
            .iter()
            .map(|a| {
                attr(&a.name, &a.value)
                    .map_err(|e| format!("{}: attribute '{}': {e}", n.describe(), a.name))
            })
            .collect::<Result<_, _>>()?,
        ..Default::default()
    })
}

fn attr(name: &str, v: &AttrValue) -> Result<AttributeProto, String> {
    let mut a = AttributeProto {
        name: name.into(),
        ..Default::default()
    };
    let enc = |t: &ort_core::Tensor| tensor::encode(t, "").map_err(|e| e.to_string());
    let ty = match v {
        AttrValue::Float(f) => {
            a.f = *f;
            T::Float
        }
        AttrValue::Int(i) => {
            a.i = *i;
            T::Int
        }
        AttrValue::String(s) => {
            a.s.clone_from(s);
            T::String
        }
        AttrValue::Tensor(t) => {
            a.t = Some(enc(t)?);
            T::Tensor
        }
        AttrValue::Graph(g) => {
            a.g = Some(graph(g)?);
            T::Graph
        }
        AttrValue::Type(t) => {
            a.tp = type_proto(t);
            T::TypeProto
        }
        AttrValue::Floats(f) => {
            a.floats.clone_from(f);
            T::Floats
        }
        AttrValue::Ints(i) => {
            a.ints.clone_from(i);
            T::Ints
        }
        AttrValue::Strings(s) => {
            a.strings.clone_from(s);
            T::Strings
        }
        AttrValue::Tensors(ts) => {
            a.tensors = ts.iter().map(enc).collect::<Result<_, _>>()?;
            T::Tensors
        }
        AttrValue::Graphs(gs) => {
            a.graphs = gs.iter().map(graph).collect::<Result<_, _>>()?;
            T::Graphs
        }
        AttrValue::Types(ts) => {
            a.type_protos = ts.iter().filter_map(type_proto).collect();
            T::TypeProtos
        }
    };
    a.r#type = ty as i32;
    Ok(a)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Clears the type maps (hash order differs run to run) everywhere.
    fn strip(g: &mut Graph) {
        g.types.clear();
        for n in &mut g.nodes {
            for a in &mut n.attrs {
                match &mut a.value {
                    AttrValue::Graph(sg) => strip(sg),
                    AttrValue::Graphs(gs) => gs.iter_mut().for_each(strip),
                    _ => {}
                }
            }
        }
    }

    /// Every tensor's bytes: initializers and tensor attributes, subgraphs included.
    fn tensor_bytes(g: &Graph) -> Vec<Vec<u8>> {
        let mut out: Vec<Vec<u8>> = g
            .initializers
            .iter()
            .map(|(_, t)| t.bytes().unwrap_or_default().to_vec())
            .collect();
        for n in &g.nodes {
            for a in &n.attrs {
                match &a.value {
                    AttrValue::Tensor(t) => out.push(t.bytes().unwrap_or_default().to_vec()),
                    AttrValue::Graph(sg) => out.extend(tensor_bytes(sg)),
                    AttrValue::Graphs(gs) => gs.iter().for_each(|sg| out.extend(tensor_bytes(sg))),
                    _ => {}
                }
            }
        }
        out
    }

    #[test]
    fn a_loaded_model_round_trips() {
        let dir = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR"))
            .join("../../../shared/onnx-tests/node");
        // If with subgraphs, Loop, Scan, tensors in attributes, strings.
        for case in [
            "test_if_seq",
            "test_loop11",
            "test_scan9_sum",
            "test_constant",
            "test_string_split_basic",
        ] {
            let path = dir.join(case).join("model.onnx");
            if !dir.exists() {
                return; // the shared suite is not on this machine
            }
            let mut m = crate::load(&path).unwrap();
            let bytes = to_proto(&m).unwrap().encode_to_vec();
            let mut back = crate::load_bytes(&bytes, case, None).unwrap();
            assert_eq!(m.opsets, back.opsets);
            assert_eq!(tensor_bytes(&m.graph), tensor_bytes(&back.graph), "{case}");
            strip(&mut m.graph);
            strip(&mut back.graph);
            assert_eq!(
                format!("{:?}", m.graph),
                format!("{:?}", back.graph),
                "{case}"
            );
        }
    }
}
