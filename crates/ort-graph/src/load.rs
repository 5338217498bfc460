//! ModelProto → [`Model`]: convert, inline model-local functions, sort, validate, infer.

use std::collections::{BTreeMap, HashMap};
use std::path::Path;

use prost::Message;

use ort_core::abi::RBox;
use ort_core::{Dim, ElemType, TypeInfo};

use crate::error::GraphError;
use crate::ir::{Attr, AttrValue, Graph, Model, Node, ValueDecl};
use crate::proto::{self, ModelProto};
use crate::{functions, infer, tensor, topo, validate};

/// The oldest and newest `ai.onnx` opsets this runtime accepts.
pub const MIN_OPSET: i64 = 1;
pub const MAX_OPSET: i64 = 28;

/// Loads a model file.
pub fn load(path: &Path) -> Result<Model, GraphError> {
    let file = path.display().to_string();
    let bytes = std::fs::read(path).map_err(|e| GraphError::Io {
        file: file.clone(),
        reason: e.to_string(),
    })?;
    load_bytes(&bytes, &file, path.parent())
}

/// Loads a model from bytes; `file` names it in messages, `dir` holds external data.
pub fn load_bytes(bytes: &[u8], file: &str, dir: Option<&Path>) -> Result<Model, GraphError> {
    let proto = ModelProto::decode(bytes).map_err(|e| GraphError::Decode {
        file: file.into(),
        reason: e.to_string(),
    })?;
    from_proto(&proto, file, dir)
}

pub fn from_proto(m: &ModelProto, file: &str, dir: Option<&Path>) -> Result<Model, GraphError> {
    let g = m.graph.as_ref().ok_or_else(|| GraphError::Decode {
        file: file.into(),
        reason: "the model has no graph".into(),
    })?;
    if m.opset_import.is_empty() && m.ir_version == 0 && g.node.is_empty() {
        return Err(GraphError::Decode {
            file: file.into(),
            reason: "empty model".into(),
        });
    }
    let mut opsets = BTreeMap::new();
    for o in &m.opset_import {
        let d = if o.domain == "ai.onnx" {
            String::new()
        } else {
            o.domain.clone()
        };
        opsets.insert(d, o.version);
    }
    if !opsets.contains_key("") && m.ir_version >= 3 && !opsets.is_empty() {
        // Only custom domains imported: fine if no default-domain node appears (checked below).
    }
    if let Some(&v) = opsets.get("") {
        if !(MIN_OPSET..=MAX_OPSET).contains(&v) {
            return Err(GraphError::invalid(
                file,
                format!(
                "unsupported ai.onnx opset {v} (this runtime supports {MIN_OPSET} to {MAX_OPSET})"
            ),
            ));
        }
    }
    let ctx = Ctx { file, dir };
    let mut graph = ctx.graph(g)?;
    let funcs = functions::collect(&m.functions, &ctx)?;
    if !funcs.is_empty() {
        functions::inline(&mut graph, &funcs, &mut opsets)
            .map_err(|e| GraphError::invalid(file, e))?;
    }
    topo::sort_deep(&mut graph).map_err(|e| GraphError::invalid(file, e))?;
    validate::graph(&graph, &opsets, &[]).map_err(|e| GraphError::invalid(file, e))?;
    infer::try_graph(&mut graph, &opsets, &HashMap::new())
        .map_err(|e| GraphError::invalid(file, e))?;
    Ok(Model {
        ir_version: m.ir_version,
        opsets,
        producer: m.producer_name.clone(),
        graph,
        path: Some(file.into()),
    })
}

pub(crate) struct Ctx<'a> {
    pub file: &'a str,
    pub dir: Option<&'a Path>,
}

impl Ctx<'_> {
    fn err(&self, r: impl Into<String>) -> GraphError {
        GraphError::invalid(self.file, r)
    }

    pub(crate) fn graph(&self, g: &proto::GraphProto) -> Result<Graph, GraphError> {
        let mut out = Graph {
            name: g.name.clone(),
            ..Default::default()
        };
        for t in &g.initializer {
            let v = tensor::decode(t, self.dir)
                .map_err(|e| self.err(format!("initializer '{}': {e}", t.name)))?;
            out.initializers.push((t.name.clone(), v));
        }
        if !g.sparse_initializer.is_empty() {
            return Err(self.err("sparse initializers are not supported"));
        }
        for vi in &g.input {
            let ty = type_info(vi.r#type.as_ref());
            out.types.insert(vi.name.clone(), ty.clone());
            out.inputs.push(ValueDecl {
                name: vi.name.clone(),
                ty,
            });
        }
        for vi in &g.output {
            let ty = type_info(vi.r#type.as_ref());
            out.outputs.push(ValueDecl {
                name: vi.name.clone(),
                ty: ty.clone(),
            });
            if !matches!(ty, TypeInfo::Unknown) {
                out.types.insert(vi.name.clone(), ty);
            }
        }
        for vi in &g.value_info {
            out.types
                .entry(vi.name.clone())
                .or_insert_with(|| type_info(vi.r#type.as_ref()));
        }
        for (n, t) in &out.initializers {
            out.types.insert(
                n.clone(),
                TypeInfo::tensor(
                    t.elem(),
                    Some(t.shape().iter().map(|&d| Dim::Known(d)).collect()),
                ),
            );
        }
        for (i, n) in g.node.iter().enumerate() {
            out.nodes.push(self.node(n, i)?);
        }
        Ok(out)
    }

    pub(crate) fn node(&self, n: &proto::NodeProto, i: usize) -> Result<Node, GraphError> {
        let name = if n.name.is_empty() {
            format!("{}_{i}", n.op_type)
        } else {
            n.name.clone()
        };
        let domain = if n.domain == "ai.onnx" {
            String::new()
        } else {
            n.domain.clone()
        };
        let mut attrs = Vec::with_capacity(n.attribute.len());
        for a in &n.attribute {
            let value = self.attr(a).map_err(|e| {
                self.err(format!(
                    "{} node '{name}': attribute '{}': {e}",
                    n.op_type, a.name
                ))
            })?;
            attrs.push(Attr {
                name: a.name.clone(),
                value,
            });
        }
        Ok(Node {
            name,
            op_type: n.op_type.clone(),
            domain,
            inputs: n.input.clone(),
            outputs: n.output.clone(),
            attrs,
        })
    }

    pub(crate) fn attr(&self, a: &proto::AttributeProto) -> Result<AttrValue, String> {
        use proto::attribute_proto::AttributeType as T;
        let ty = T::try_from(a.r#type).unwrap_or(T::Undefined);
        let tensor = |t: &proto::TensorProto| tensor::decode(t, self.dir);
        let graph = |g: &proto::GraphProto| self.graph(g).map_err(|e| e.to_string());
        Ok(match ty {
            T::Float => AttrValue::Float(a.f),
            T::Int => AttrValue::Int(a.i),
            T::String => AttrValue::String(a.s.clone()),
            T::Tensor => AttrValue::Tensor(tensor(a.t.as_ref().ok_or("missing tensor")?)?),
            T::Graph => AttrValue::Graph(Box::new(graph(a.g.as_ref().ok_or("missing graph")?)?)),
            T::TypeProto => AttrValue::Type(type_info(a.tp.as_ref())),
            T::Floats => AttrValue::Floats(a.floats.clone()),
            T::Ints => AttrValue::Ints(a.ints.clone()),
            T::Strings => AttrValue::Strings(a.strings.clone()),
            T::Tensors => {
                AttrValue::Tensors(a.tensors.iter().map(tensor).collect::<Result<_, _>>()?)
            }
            T::Graphs => AttrValue::Graphs(a.graphs.iter().map(graph).collect::<Result<_, _>>()?),
            T::TypeProtos => {
                AttrValue::Types(a.type_protos.iter().map(|t| type_info(Some(t))).collect())
            }
            T::SparseTensor | T::SparseTensors => {
                return Err("sparse tensor attributes are not supported".into())
            }
            T::Undefined => {
                // Old exporters omit the type; infer it from which field is set.
                if let Some(t) = &a.t {
                    AttrValue::Tensor(tensor(t)?)
                } else if let Some(g) = &a.g {
                    AttrValue::Graph(Box::new(graph(g)?))
                } else if !a.ints.is_empty() {
                    AttrValue::Ints(a.ints.clone())
                } else if !a.floats.is_empty() {
                    AttrValue::Floats(a.floats.clone())
                } else if !a.strings.is_empty() {
                    AttrValue::Strings(a.strings.clone())
                } else if !a.s.is_empty() {
                    AttrValue::String(a.s.clone())
                } else if a.f != 0.0 {
                    AttrValue::Float(a.f)
                } else {
                    AttrValue::Int(a.i)
                }
            }
        })
    }
}

/// `TypeProto` → [`TypeInfo`].
pub fn type_info(t: Option<&proto::TypeProto>) -> TypeInfo {
    use proto::type_proto::Value as V;
    let Some(v) = t.and_then(|t| t.value.as_ref()) else {
        return TypeInfo::Unknown;
    };
    match v {
        V::TensorType(tt) => TypeInfo::tensor(
            ElemType::from_onnx(tt.elem_type).unwrap_or(ElemType::Undefined),
            tt.shape.as_ref().map(shape_dims),
        ),
        V::SparseTensorType(_) | V::OpaqueType(_) => TypeInfo::Unknown,
        V::SequenceType(s) => TypeInfo::Sequence(RBox::new(type_info(s.elem_type.as_deref()))),
        V::OptionalType(o) => TypeInfo::Optional(RBox::new(type_info(o.elem_type.as_deref()))),
        V::MapType(m) => TypeInfo::Map {
            key: ElemType::from_onnx(m.key_type).unwrap_or(ElemType::Undefined),
            value: RBox::new(type_info(m.value_type.as_deref())),
        },
    }
}

fn shape_dims(s: &proto::TensorShapeProto) -> Vec<Dim> {
    use proto::tensor_shape_proto::dimension::Value as D;
    s.dim
        .iter()
        .map(|d| match &d.value {
            // Some exporters (Paddle among them) write -1 for a dynamic axis;
            // like onnxruntime, a negative size reads as unknown.
            Some(D::DimValue(v)) if *v >= 0 => Dim::Known(*v),
            Some(D::DimParam(p)) if !p.is_empty() => Dim::Symbolic(p.as_str().into()),
            _ => Dim::Unknown,
        })
        .collect()
}

/// [`TypeInfo`] → `TypeProto`, for writing models back.
pub fn type_proto(t: &TypeInfo) -> Option<proto::TypeProto> {
    use proto::tensor_shape_proto::{dimension::Value as D, Dimension};
    use proto::type_proto::{self as tp, Value as V};
    let value = match t {
        TypeInfo::Tensor { elem, shape } => V::TensorType(tp::Tensor {
            elem_type: *elem as i32,
            shape: shape
                .as_ref()
                .into_option()
                .map(|s| proto::TensorShapeProto {
                    dim: s
                        .iter()
                        .map(|d| Dimension {
                            denotation: String::new(),
                            value: match d {
                                Dim::Known(v) => Some(D::DimValue(*v)),
                                Dim::Symbolic(p) => Some(D::DimParam(p.to_string())),
                                Dim::Unknown => None,
                            },
                        })
                        .collect(),
                }),
        }),
        TypeInfo::Sequence(e) => V::SequenceType(Box::new(tp::Sequence {
            elem_type: type_proto(e).map(Box::new),
        })),
        TypeInfo::Optional(e) => V::OptionalType(Box::new(tp::Optional {
            elem_type: type_proto(e).map(Box::new),
        })),
        TypeInfo::Map { key, value } => V::MapType(Box::new(tp::Map {
            key_type: *key as i32,
            value_type: type_proto(value).map(Box::new),
        })),
        TypeInfo::Unknown => return None,
    };
    Some(proto::TypeProto {
        denotation: String::new(),
        value: Some(value),
    })
}
