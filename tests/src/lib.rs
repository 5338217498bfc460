//! Helpers for the integration tests: where the built binaries and plugins are, and
//! small hand-built models.

use std::path::PathBuf;

use ort_graph::proto::{
    attribute_proto::AttributeType, tensor_proto::DataType, type_proto, AttributeProto, GraphProto,
    ModelProto, NodeProto, OperatorSetIdProto, TensorProto, TensorShapeProto, TypeProto,
    ValueInfoProto,
};

/// `target/<profile>` holding `ort`, `providers/` and `test-plugins/` (laid out by
/// `cargo xtask build`; `ORT_TARGET_DIR` overrides).
pub fn target_dir() -> PathBuf {
    if let Ok(d) = std::env::var("ORT_TARGET_DIR") {
        return PathBuf::from(d);
    }
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("..")
        .join("target");
    for p in ["release", "debug"] {
        if root
            .join(p)
            .join("providers")
            .join("libort_provider_cpu.so")
            .exists()
        {
            return root.join(p);
        }
    }
    panic!("no built providers found: run `cargo xtask build` first (or set ORT_TARGET_DIR)");
}

pub fn providers_dir() -> PathBuf {
    target_dir().join("providers")
}

pub fn test_plugins_dir() -> PathBuf {
    target_dir().join("test-plugins")
}

pub fn shared() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("..")
        .join("..")
        .join("shared")
}

/// A float tensor value-info with a fixed shape.
pub fn float_info(name: &str, dims: &[i64]) -> ValueInfoProto {
    use ort_graph::proto::tensor_shape_proto::{dimension::Value, Dimension};
    ValueInfoProto {
        name: name.into(),
        r#type: Some(TypeProto {
            denotation: String::new(),
            value: Some(type_proto::Value::TensorType(type_proto::Tensor {
                elem_type: DataType::Float as i32,
                shape: Some(TensorShapeProto {
                    dim: dims
                        .iter()
                        .map(|&d| Dimension {
                            denotation: String::new(),
                            value: Some(Value::DimValue(d)),
                        })
                        .collect(),
                }),
            })),
        }),
        ..Default::default()
    }
}

pub fn node(op: &str, inputs: &[&str], outputs: &[&str]) -> NodeProto {
    NodeProto {
        name: format!("{op}_{}", outputs[0]),
        op_type: op.into(),
        input: inputs.iter().map(|s| s.to_string()).collect(),
        output: outputs.iter().map(|s| s.to_string()).collect(),
        ..Default::default()
    }
}

pub fn int_attr(name: &str, v: i64) -> AttributeProto {
    AttributeProto {
        name: name.into(),
        i: v,
        r#type: AttributeType::Int as i32,
        ..Default::default()
    }
}

pub fn float_tensor(name: &str, dims: &[i64], data: &[f32]) -> TensorProto {
    TensorProto {
        name: name.into(),
        dims: dims.to_vec(),
        data_type: DataType::Float as i32,
        raw_data: data.iter().flat_map(|v| v.to_le_bytes()).collect(),
        ..Default::default()
    }
}

pub fn model(
    nodes: Vec<NodeProto>,
    inputs: Vec<ValueInfoProto>,
    outputs: Vec<ValueInfoProto>,
    inits: Vec<TensorProto>,
) -> ModelProto {
    ModelProto {
        ir_version: 8,
        opset_import: vec![OperatorSetIdProto {
            domain: String::new(),
            version: 17,
        }],
        producer_name: "ort-tests".into(),
        graph: Some(GraphProto {
            name: "g".into(),
            node: nodes,
            input: inputs,
            output: outputs,
            initializer: inits,
            ..Default::default()
        }),
        ..Default::default()
    }
}

/// `y = softmax(relu(x @ w + b))` with x: [4, 8], w: [8, 5], fixed weights.
pub fn mlp() -> ModelProto {
    let w: Vec<f32> = (0..40)
        .map(|i| ((i * 7 % 11) as f32 - 5.0) / 10.0)
        .collect();
    let b: Vec<f32> = (0..5).map(|i| i as f32 / 10.0 - 0.2).collect();
    model(
        vec![
            node("MatMul", &["x", "w"], &["xw"]),
            node("Add", &["xw", "b"], &["h"]),
            node("Relu", &["h"], &["r"]),
            NodeProto {
                attribute: vec![int_attr("axis", -1)],
                ..node("Softmax", &["r"], &["y"])
            },
        ],
        vec![float_info("x", &[4, 8])],
        vec![float_info("y", &[4, 5])],
        vec![float_tensor("w", &[8, 5], &w), float_tensor("b", &[5], &b)],
    )
}
