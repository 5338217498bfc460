//! What real exporters write that the letter of the spec does not: `-1` for a
//! dynamic axis, opset imports of domains no node uses, and inputs fed with
//! another integer type than declared.

use ndarray::{ArrayD, IxDyn};
use ort_runtime::{array, value, ErrorKind, Session};
use ort_tests::*;
use prost::Message;

fn write(m: &ort_graph::proto::ModelProto, tag: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("ort-tests-{}-quirk-{tag}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let p = dir.join("model.onnx");
    std::fs::write(&p, m.encode_to_vec()).unwrap();
    p
}

fn load(m: &ort_graph::proto::ModelProto, tag: &str) -> Session {
    Session::builder()
        .provider_dir(providers_dir())
        .load(write(m, tag))
        .unwrap()
}

fn int64_info(name: &str, dims: &[i64]) -> ort_graph::proto::ValueInfoProto {
    use ort_graph::proto::type_proto::Value;
    let mut v = float_info(name, dims);
    if let Some(Value::TensorType(t)) = v.r#type.as_mut().and_then(|t| t.value.as_mut()) {
        t.elem_type = ort_graph::proto::tensor_proto::DataType::Int64 as i32;
    }
    v
}

#[test]
fn a_negative_dim_is_dynamic_in_inputs_outputs_and_value_info() {
    let mut m = model(
        vec![node("Relu", &["x"], &["r"]), node("Neg", &["r"], &["y"])],
        vec![float_info("x", &[-1, 3])],
        vec![float_info("y", &[-1, -1])],
        vec![],
    );
    m.graph.as_mut().unwrap().value_info = vec![float_info("r", &[-1, 3])];
    let s = load(&m, "negdim");
    for rows in [1usize, 4] {
        let x: Vec<f32> = (0..rows * 3).map(|i| i as f32 - 4.0).collect();
        let want: Vec<f32> = x.iter().map(|&v| -v.max(0.0)).collect();
        let x = ArrayD::from_shape_vec(IxDyn(&[rows, 3]), x).unwrap();
        let out = s.run(&[("x", value(x))], &[]).unwrap();
        let y = array::<f32>(&out[0]).unwrap();
        assert_eq!(y.shape(), &[rows, 3]);
        assert_eq!(y.iter().copied().collect::<Vec<_>>(), want);
    }
}

#[test]
fn an_unused_unknown_domain_import_is_accepted() {
    let mut m = model(
        vec![node("Relu", &["x"], &["y"])],
        vec![float_info("x", &[2])],
        vec![float_info("y", &[2])],
        vec![],
    );
    m.opset_import.push(ort_graph::proto::OperatorSetIdProto {
        domain: "com.example.unused".into(),
        version: 3,
    });
    let s = load(&m, "unuseddomain");
    let x = ArrayD::from_shape_vec(IxDyn(&[2]), vec![-1.0f32, 2.0]).unwrap();
    let y = array::<f32>(&s.run(&[("x", value(x))], &[]).unwrap()[0]).unwrap();
    assert_eq!(y.iter().copied().collect::<Vec<_>>(), vec![0.0, 2.0]);
}

#[test]
fn an_input_of_another_integer_type_names_the_expected_type() {
    let m = model(
        vec![node("Identity", &["x"], &["y"])],
        vec![int64_info("x", &[2])],
        vec![int64_info("y", &[2])],
        vec![],
    );
    let s = load(&m, "inttype");
    let x = ArrayD::from_shape_vec(IxDyn(&[2]), vec![1i32, 2]).unwrap();
    let err = s.run(&[("x", value(x))], &[]).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Input);
    let text = err.to_string();
    assert!(
        text.contains("input 'x'") && text.contains("expected tensor(int64), got tensor(int32)"),
        "{text}"
    );
}
