//! Malformed models give a clear error naming the problem, never a panic.

use ort_graph::proto::{ModelProto, NodeProto};
use ort_runtime::Session;
use ort_tests::*;
use prost::Message;

fn load_err(bytes: &[u8], name: &str) -> String {
    let dir = std::env::temp_dir().join(format!("ort-tests-{}-bad-{name}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let p = dir.join("model.onnx");
    std::fs::write(&p, bytes).unwrap();
    let err = Session::builder()
        .provider_dir(providers_dir())
        .load(&p)
        .err()
        .expect("must fail")
        .to_string();
    assert!(
        err.contains(&p.display().to_string()),
        "the error names the file: {err}"
    );
    err
}

#[test]
fn truncated_file() {
    let bytes = mlp().encode_to_vec();
    let err = load_err(&bytes[..bytes.len() / 2], "truncated");
    assert!(err.contains("not a valid ONNX model"), "{err}");
}

#[test]
fn not_protobuf() {
    let err = load_err(
        b"this is plainly not an ONNX model, just some text\n",
        "text",
    );
    assert!(err.contains("not a valid ONNX model"), "{err}");
}

#[test]
fn cycle() {
    let m = model(
        vec![
            node("Relu", &["x"], &["a"]),
            node("Add", &["a", "c"], &["b"]),
            node("Neg", &["b"], &["c"]),
        ],
        vec![float_info("x", &[2])],
        vec![float_info("c", &[2])],
        vec![],
    );
    let err = load_err(&m.encode_to_vec(), "cycle");
    assert!(err.contains("cycle"), "{err}");
    assert!(
        err.contains("Add") || err.contains("Neg"),
        "names a node: {err}"
    );
}

#[test]
fn undefined_input() {
    let m = model(
        vec![node("Add", &["x", "ghost"], &["y"])],
        vec![float_info("x", &[2])],
        vec![float_info("y", &[2])],
        vec![],
    );
    let err = load_err(&m.encode_to_vec(), "undefined");
    assert!(err.contains("'ghost'") && err.contains("Add"), "{err}");
}

#[test]
fn initializer_shorter_than_its_shape() {
    let mut w = float_tensor("w", &[2, 3], &[1.0; 6]);
    w.raw_data.truncate(20);
    let m = model(
        vec![node("Add", &["x", "w"], &["y"])],
        vec![float_info("x", &[2, 3])],
        vec![float_info("y", &[2, 3])],
        vec![w],
    );
    let err = load_err(&m.encode_to_vec(), "short");
    assert!(
        err.contains("initializer 'w'") && err.contains("24 bytes"),
        "{err}"
    );
}

#[test]
fn duplicate_output_name() {
    let m = model(
        vec![node("Relu", &["x"], &["y"]), node("Neg", &["x"], &["y"])],
        vec![float_info("x", &[2])],
        vec![float_info("y", &[2])],
        vec![],
    );
    let err = load_err(&m.encode_to_vec(), "dup");
    assert!(err.contains("produced more than once"), "{err}");
}

#[test]
fn missing_opset_import() {
    let mut m: ModelProto = mlp();
    m.opset_import.clear();
    m.opset_import.push(ort_graph::proto::OperatorSetIdProto {
        domain: "com.example".into(),
        version: 1,
    });
    let err = load_err(&m.encode_to_vec(), "noopset");
    assert!(
        err.contains("does not import an opset for domain ai.onnx"),
        "{err}"
    );
}

#[test]
fn unsupported_opset() {
    let mut m = mlp();
    m.opset_import[0].version = 99;
    let err = load_err(&m.encode_to_vec(), "opset99");
    assert!(err.contains("unsupported ai.onnx opset 99"), "{err}");
}

#[test]
fn type_mismatch() {
    let mut m = model(
        vec![node("Add", &["x", "k"], &["y"])],
        vec![float_info("x", &[2])],
        vec![float_info("y", &[2])],
        vec![],
    );
    let k = ort_graph::proto::TensorProto {
        name: "k".into(),
        dims: vec![2],
        data_type: 7,
        int64_data: vec![1, 2],
        ..Default::default()
    };
    m.graph.as_mut().unwrap().initializer.push(k);
    let err = load_err(&m.encode_to_vec(), "types");
    assert!(
        err.contains("input types differ") && err.contains("float") && err.contains("int64"),
        "{err}"
    );
}

#[test]
fn unknown_op_names_node_op_domain_and_opset() {
    let m = model(
        vec![NodeProto {
            name: "mystery".into(),
            ..node("NoSuchOp", &["x"], &["y"])
        }],
        vec![float_info("x", &[2])],
        vec![float_info("y", &[2])],
        vec![],
    );
    let err = load_err(&m.encode_to_vec(), "unknown");
    assert!(
        err.contains("NoSuchOp")
            && err.contains("'mystery'")
            && err.contains("ai.onnx")
            && err.contains("opset 17"),
        "{err}"
    );
}

/// An attribute of the wrong type is an error naming it, wherever it is read
/// (inference, the optimizer's patterns, every provider), not a silent default.
#[test]
fn attribute_of_the_wrong_type() {
    let mut n = node("Softmax", &["x"], &["y"]);
    n.attribute.push(ort_graph::proto::AttributeProto {
        name: "axis".into(),
        r#type: 1, // FLOAT
        f: 1.0,
        ..Default::default()
    });
    let m = model(
        vec![n],
        vec![float_info("x", &[2, 3])],
        vec![float_info("y", &[2, 3])],
        vec![],
    );
    let err = load_err(&m.encode_to_vec(), "attrtype");
    assert!(
        err.contains("attribute axis must be an int") && err.contains("Softmax"),
        "{err}"
    );
}
