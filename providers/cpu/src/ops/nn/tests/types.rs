//! Other element types (int8 pooling, float16 softmax, float64 Gelu, int32 MatMul) and inputs that must be errors.

#![allow(clippy::excessive_precision, clippy::type_complexity)]

use super::*;

#[test]
fn maxpool_indices() {
    let attrs = || {
        vec![
            ints("kernel_shape", &[3, 2]),
            ints("strides", &[2, 2]),
            ints("pads", &[1, 1, 1, 0]),
            int("ceil_mode", 1),
        ]
    };
    let outs = run_node("MaxPool", 12, &[seq(&[1, 2, 5, 6], 1)], attrs(), 2).unwrap();
    let want = [
        0, 2, 4, 5, 18, 8, 15, 11, 18, 20, 21, 23, 30, 32, 40, 35, 36, 43, 40, 41, 48, 49, 52, 53,
    ];
    assert_eq!(tensor::<i64>(&outs, 1), want);
    let mut a = attrs();
    a.push(int("storage_order", 1));
    let outs = run_node("MaxPool", 12, &[seq(&[1, 2, 5, 6], 1)], a, 2).unwrap();
    let want = [
        0, 10, 20, 25, 3, 11, 17, 26, 3, 13, 18, 28, 30, 40, 51, 55, 31, 37, 51, 56, 33, 38, 53, 58,
    ];
    assert_eq!(tensor::<i64>(&outs, 1), want);
    let a = vec![
        ints("kernel_shape", &[2, 2, 3]),
        ints("strides", &[1, 2, 2]),
        int("storage_order", 1),
    ];
    let outs = run_node("MaxPool", 12, &[seq(&[1, 2, 3, 4, 5], 1)], a, 2).unwrap();
    assert_eq!(
        tensor::<i64>(&outs, 1),
        [13, 49, 9, 45, 2, 38, 32, 32, 84, 84, 67, 103, 88, 88, 92, 92]
    );
}

#[test]
fn maxpool_int8() {
    let x = Tensor::from_vec(&[1, 1, 2, 3], vec![-5i8, 3, -128, 7, 0, 1]).unwrap();
    let outs = run_node(
        "MaxPool",
        12,
        &[Some(x.into())],
        vec![ints("kernel_shape", &[2, 2])],
        1,
    )
    .unwrap();
    assert_eq!(tensor::<i8>(&outs, 0), [7, 3]);
}

#[test]
fn dropout_mask_and_training() {
    let outs = run_node("Dropout", 13, &[seq(&[2, 3], 1)], vec![], 2).unwrap();
    assert_eq!(out_f32(&outs, 0).1, seq_data(6, 1));
    assert_eq!(tensor::<bool>(&outs, 1), [true; 6]);
    let outs = run_node(
        "Dropout",
        7,
        &[seq(&[2, 3], 1)],
        vec![float("ratio", 0.3)],
        2,
    )
    .unwrap();
    assert_eq!(out_f32(&outs, 1).1, [1.0; 6]);
    // Training: every element is either dropped or scaled by 1 / (1 - ratio).
    let ratio = Some(Tensor::scalar(0.25f32).into());
    let train = Some(Tensor::scalar(true).into());
    let outs = run_node(
        "Dropout",
        13,
        &[seq(&[40, 50], 1), ratio, train],
        vec![int("seed", 7)],
        2,
    )
    .unwrap();
    let (y, mask) = (out_f32(&outs, 0).1, tensor::<bool>(&outs, 1));
    let x = seq_data(2000, 1);
    for i in 0..2000 {
        assert!((y[i] - if mask[i] { x[i] / 0.75 } else { 0.0 }).abs() < 1e-6);
    }
    let kept = mask.iter().filter(|&&m| m).count();
    assert!((1300..1700).contains(&kept), "kept {kept} of 2000");
}

#[test]
fn softmax_f16() {
    let x: Vec<f16> = seq_data(24, 1).iter().map(|&v| f16::from_f32(v)).collect();
    let outs = run_node(
        "Softmax",
        13,
        &[Some(Tensor::from_vec(&[2, 3, 4], x).unwrap().into())],
        vec![],
        1,
    )
    .unwrap();
    let got: Vec<f32> = tensor::<f16>(&outs, 0).iter().map(|v| v.to_f32()).collect();
    let want = [
        0.017578125,
        0.12200928,
        0.8466797,
        0.013687134,
        0.113220215,
        0.7861328,
        0.012702942,
        0.0881958,
        0.52441406,
        0.008476257,
        0.05883789,
        0.40844727,
        0.0025596619,
        0.01777649,
        0.12335205,
        0.8564453,
        0.017578125,
        0.12200928,
        0.8466797,
        0.013687134,
        0.113220215,
        0.7861328,
        0.012702942,
        0.0881958,
    ];
    assert_close(&got, &want, 2e-3);
}

#[test]
fn gelu_f64() {
    let x: Vec<f64> = seq_data(10, 1).iter().map(|&v| v as f64).collect();
    let outs = run_node(
        "Gelu",
        20,
        &[Some(Tensor::from_vec(&[2, 5], x).unwrap().into())],
        vec![],
        1,
    )
    .unwrap();
    let want = [
        -0.051037870460211632,
        0.0,
        1.8864621295397883,
        -0.031397234769253587,
        -0.10032341857926907,
        1.6102907578770618,
        -0.018024354832771684,
        -0.15426876936299344,
        1.3292735195321415,
        -0.0096735356199767544,
    ];
    for (g, w) in tensor::<f64>(&outs, 0).iter().zip(want) {
        assert!((g - w).abs() < 1e-14, "got {g}, want {w}");
    }
}

#[test]
fn matmul_int32() {
    let a = Tensor::from_vec(&[2, 3], (0..6).map(|v| v - 2).collect::<Vec<i32>>()).unwrap();
    let b = Tensor::from_vec(&[3, 4], (0..12).map(|v| v - 5).collect::<Vec<i32>>()).unwrap();
    let outs = run_node("MatMul", 13, &[Some(a.into()), Some(b.into())], vec![], 1).unwrap();
    assert_eq!(tensor::<i32>(&outs, 0), [11, 8, 5, 2, 2, 8, 14, 20]);
}

#[test]
fn bad_inputs_are_errors() {
    assert!(run_node("MatMul", 13, &[seq(&[2, 3], 1), seq(&[4, 2], 2)], vec![], 1).is_err());
    assert!(run_node(
        "Conv",
        11,
        &[seq(&[1, 3, 5, 5], 1), seq(&[2, 2, 3, 3], 2)],
        vec![],
        1
    )
    .is_err());
    assert!(run_node(
        "Conv",
        11,
        &[seq(&[1, 1, 2, 2], 1), seq(&[1, 1, 3, 3], 2)],
        vec![],
        1
    )
    .is_err());
    assert!(run_node("MaxPool", 12, &[seq(&[1, 1, 4, 4], 1)], vec![], 1).is_err());
    assert!(run_node(
        "Gemm",
        13,
        &[seq(&[2, 3], 1), seq(&[3, 4], 2), seq(&[3], 3)],
        vec![],
        1
    )
    .is_err());
    assert!(run_node("Softmax", 13, &[seq(&[2, 3], 1)], vec![int("axis", 2)], 1).is_err());
}
