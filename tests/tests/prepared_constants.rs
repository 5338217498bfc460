//! Kernels prepare work from initializers once (packed MatMul and Conv weights, a cached
//! DequantizeLinear of a weight). An initializer that is also a graph input may be
//! replaced at run time; the result must then follow the value given, not what
//! was prepared. Checked against plain loops over the same numbers.

use ndarray::{ArrayD, IxDyn};
use ort_graph::proto::tensor_proto::DataType;
use ort_graph::proto::{ModelProto, TensorProto};
use ort_runtime::{array, value, Level, Session, Value};
use ort_tests::*;
use prost::Message;

fn session(m: &ModelProto, tag: &str) -> Session {
    let dir = std::env::temp_dir().join(format!("ort-prepared-{}-{tag}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("model.onnx");
    std::fs::write(&path, m.encode_to_vec()).unwrap();
    Session::builder()
        .provider_dir(providers_dir())
        .optimization_level(Level::Disable)
        .load(&path)
        .unwrap()
}

fn arr<T: Clone>(dims: &[usize], v: Vec<T>) -> ArrayD<T> {
    ArrayD::from_shape_vec(IxDyn(dims), v).unwrap()
}

fn matmul(x: &[f32], w: &[f32], (m, k, n): (usize, usize, usize)) -> Vec<f32> {
    let mut y = vec![0f32; m * n];
    for i in 0..m {
        for j in 0..n {
            y[i * n + j] = (0..k).map(|p| x[i * k + p] * w[p * n + j]).sum();
        }
    }
    y
}

fn close(got: &[f32], want: &[f32]) {
    assert_eq!(got.len(), want.len());
    for (i, (g, w)) in got.iter().zip(want).enumerate() {
        assert!(
            (g - w).abs() <= 1e-4 * (1.0 + w.abs()),
            "at {i}: {g} vs {w}"
        );
    }
}

#[test]
fn an_overridden_matmul_weight_is_used_instead_of_the_packed_one() {
    // Large enough for the packed path: m ≥ 8 rows, whole column panels.
    let (m, k, n) = (16, 40, 96);
    let x: Vec<f32> = (0..m * k)
        .map(|i| ((i * 7) % 13) as f32 / 6.0 - 1.0)
        .collect();
    let w: Vec<f32> = (0..k * n)
        .map(|i| ((i * 5) % 11) as f32 / 5.0 - 1.0)
        .collect();
    let w2: Vec<f32> = w.iter().map(|v| 0.5 - v).collect();
    let model = model(
        vec![node("MatMul", &["x", "w"], &["y"])],
        vec![
            float_info("x", &[m as i64, k as i64]),
            float_info("w", &[k as i64, n as i64]),
        ],
        vec![float_info("y", &[m as i64, n as i64])],
        vec![float_tensor("w", &[k as i64, n as i64], &w)],
    );
    let s = session(&model, "matmul");
    let xv = value(arr(&[m, k], x.clone()));
    let y = |out: &[Value]| {
        array::<f32>(&out[0])
            .unwrap()
            .iter()
            .copied()
            .collect::<Vec<_>>()
    };
    for _ in 0..2 {
        close(
            &y(&s.run(&[("x", xv.clone())], &[]).unwrap()),
            &matmul(&x, &w, (m, k, n)),
        );
        let with_w2 = [("x", xv.clone()), ("w", value(arr(&[k, n], w2.clone())))];
        close(
            &y(&s.run(&with_w2, &[]).unwrap()),
            &matmul(&x, &w2, (m, k, n)),
        );
    }
}

#[test]
fn an_overridden_quantized_weight_is_dequantized_afresh() {
    let q: Vec<i8> = (0..24).map(|i| (i * 11 % 255 - 127) as i8).collect();
    let q2: Vec<i8> = q.iter().map(|v| v.wrapping_neg()).collect();
    let mut info = float_info("q", &[4, 6]);
    if let Some(ort_graph::proto::type_proto::Value::TensorType(t)) =
        info.r#type.as_mut().and_then(|t| t.value.as_mut())
    {
        t.elem_type = DataType::Int8 as i32;
    }
    let int8 = |name: &str, dims: &[i64], v: &[i8]| TensorProto {
        name: name.into(),
        dims: dims.to_vec(),
        data_type: DataType::Int8 as i32,
        raw_data: v.iter().map(|&b| b as u8).collect(),
        ..Default::default()
    };
    let model = model(
        vec![node("DequantizeLinear", &["q", "s", "z"], &["y"])],
        vec![info],
        vec![float_info("y", &[4, 6])],
        vec![
            int8("q", &[4, 6], &q),
            float_tensor("s", &[], &[0.25]),
            int8("z", &[], &[3]),
        ],
    );
    let s = session(&model, "dequantize");
    let want = |q: &[i8]| {
        q.iter()
            .map(|&v| (v as f32 - 3.0) * 0.25)
            .collect::<Vec<_>>()
    };
    let y = |out: &[Value]| {
        array::<f32>(&out[0])
            .unwrap()
            .iter()
            .copied()
            .collect::<Vec<_>>()
    };
    for _ in 0..2 {
        close(&y(&s.run(&[], &[]).unwrap()), &want(&q));
        let with_q2 = [("q", value(arr(&[4, 6], q2.clone())))];
        close(&y(&s.run(&with_q2, &[]).unwrap()), &want(&q2));
    }
}

#[test]
fn an_overridden_conv_weight_is_used_instead_of_the_packed_one() {
    // 8 output channels over a 4×4 output: enough for the packed GEMM path.
    let (c, m, h, k) = (2, 8, 6, 3);
    let o = h - k + 1;
    let x: Vec<f32> = (0..c * h * h)
        .map(|i| ((i * 7) % 13) as f32 / 6.0 - 1.0)
        .collect();
    let w: Vec<f32> = (0..m * c * k * k)
        .map(|i| ((i * 5) % 11) as f32 / 5.0 - 1.0)
        .collect();
    let w2: Vec<f32> = w.iter().map(|v| 0.5 - v).collect();
    let conv = |w: &[f32]| {
        let mut y = vec![0f32; m * o * o];
        for oc in 0..m {
            for i in 0..o {
                for j in 0..o {
                    let mut s = 0.0;
                    for ic in 0..c {
                        for a in 0..k {
                            for b in 0..k {
                                s += x[(ic * h + i + a) * h + j + b]
                                    * w[((oc * c + ic) * k + a) * k + b];
                            }
                        }
                    }
                    y[(oc * o + i) * o + j] = s;
                }
            }
        }
        y
    };
    let wd = [m as i64, c as i64, k as i64, k as i64];
    let model = model(
        vec![node("Conv", &["x", "w"], &["y"])],
        vec![
            float_info("x", &[1, c as i64, h as i64, h as i64]),
            float_info("w", &wd),
        ],
        vec![float_info("y", &[1, m as i64, o as i64, o as i64])],
        vec![float_tensor("w", &wd, &w)],
    );
    let s = session(&model, "conv");
    let xv = value(arr(&[1, c, h, h], x.clone()));
    let y = |out: &[Value]| {
        array::<f32>(&out[0])
            .unwrap()
            .iter()
            .copied()
            .collect::<Vec<_>>()
    };
    for _ in 0..2 {
        close(&y(&s.run(&[("x", xv.clone())], &[]).unwrap()), &conv(&w));
        let with_w2 = [
            ("x", xv.clone()),
            ("w", value(arr(&[m, c, k, k], w2.clone()))),
        ];
        close(&y(&s.run(&with_w2, &[]).unwrap()), &conv(&w2));
    }
}
