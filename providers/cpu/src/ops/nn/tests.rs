#![allow(clippy::excessive_precision, clippy::type_complexity)]
// Reference values are pasted at full printed precision from numpy / onnxruntime.
//! Expected values come from ONNX Runtime 1.31 (small cases, inputs from `seq`)
//! or from naive reference loops here (large cases that take the parallel and
//! fast paths).

use half::f16;
use ort_core::abi::{AttrValue, Attribute};
use ort_core::{Tensor, Value};

use crate::testing::{assert_close, attr, out_f32, run_node};

/// Deterministic inputs, multiples of 1/16 in [-3, 3) with no repeats in any 97
/// consecutive elements; the generator script mirrors this exactly.
fn seq_data(n: usize, seed: usize) -> Vec<f32> {
    (0..n)
        .map(|i| ((i * 31 + seed * 17) % 97) as f32 / 16.0 - 3.0)
        .collect()
}

fn seq(shape: &[i64], seed: usize) -> Option<Value> {
    let n = shape.iter().product::<i64>() as usize;
    Some(Tensor::from_vec(shape, seq_data(n, seed)).unwrap().into())
}

/// Positive inputs (|seq| + 0.5), for scales and variances.
fn pos(shape: &[i64], seed: usize) -> Option<Value> {
    let n = shape.iter().product::<i64>() as usize;
    Some(
        Tensor::from_vec(
            shape,
            seq_data(n, seed).iter().map(|v| v.abs() + 0.5).collect(),
        )
        .unwrap()
        .into(),
    )
}

fn int(name: &str, v: i64) -> Attribute<'static> {
    attr(name, AttrValue::Int(v))
}
fn float(name: &str, v: f32) -> Attribute<'static> {
    attr(name, AttrValue::Float(v))
}
fn ints(name: &str, v: &[i64]) -> Attribute<'static> {
    attr(name, AttrValue::Ints(v.to_vec().into()))
}
fn string(name: &str, v: &str) -> Attribute<'static> {
    attr(name, AttrValue::String(v.as_bytes().to_vec().into()))
}

/// Runs a node and compares every output's shape and values.
#[track_caller]
fn check(
    op: &str,
    opset: i64,
    inputs: &[Option<Value>],
    attrs: Vec<Attribute<'static>>,
    want: &[(&[i64], &[f32])],
) {
    let outs = run_node(op, opset, inputs, attrs, want.len()).unwrap();
    for (i, (shape, data)) in want.iter().enumerate() {
        let (s, d) = out_f32(&outs, i);
        assert_eq!(&s[..], *shape, "output {i} shape");
        assert_close(&d, data, 1e-4);
    }
}

fn tensor<T: ort_core::Element>(outs: &[Option<Value>], i: usize) -> Vec<T> {
    outs[i]
        .as_ref()
        .unwrap()
        .as_tensor()
        .unwrap()
        .to_vec::<T>()
        .unwrap()
}

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

/// Direct 2-D convolution, for checking the fast paths on larger shapes.
#[allow(clippy::too_many_arguments)]
fn naive_conv(
    x: &[f32],
    xs: [usize; 4],
    w: &[f32],
    ws: [usize; 4],
    b: &[f32],
    group: usize,
    s: [usize; 2],
    p: [usize; 4],
    d: [usize; 2],
) -> (Vec<i64>, Vec<f32>) {
    let [n, c, h, wd] = xs;
    let [m, cg, kh, kw] = ws;
    let oh = (h + p[0] + p[2] - (kh - 1) * d[0] - 1) / s[0] + 1;
    let ow = (wd + p[1] + p[3] - (kw - 1) * d[1] - 1) / s[1] + 1;
    let mg = m / group;
    let mut y = vec![0f32; n * m * oh * ow];
    for ni in 0..n {
        for mi in 0..m {
            let g = mi / mg;
            for r in 0..oh {
                for q in 0..ow {
                    let mut acc = b[mi];
                    for ci in 0..cg {
                        for i in 0..kh {
                            for j in 0..kw {
                                let y0 = (r * s[0] + i * d[0]) as isize - p[0] as isize;
                                let x0 = (q * s[1] + j * d[1]) as isize - p[1] as isize;
                                if y0 < 0 || x0 < 0 || y0 >= h as isize || x0 >= wd as isize {
                                    continue;
                                }
                                let xi =
                                    ((ni * c + g * cg + ci) * h + y0 as usize) * wd + x0 as usize;
                                acc += x[xi] * w[((mi * cg + ci) * kh + i) * kw + j];
                            }
                        }
                    }
                    y[((ni * m + mi) * oh + r) * ow + q] = acc;
                }
            }
        }
    }
    (vec![n as i64, m as i64, oh as i64, ow as i64], y)
}

#[test]
fn conv_large_matches_naive() {
    // (input, weights, group, strides, pads, dilations)
    let cases: &[(
        [usize; 4],
        [usize; 4],
        usize,
        [usize; 2],
        [usize; 4],
        [usize; 2],
    )] = &[
        (
            [2, 16, 20, 19],
            [32, 16, 3, 3],
            1,
            [1, 1],
            [1, 1, 1, 1],
            [1, 1],
        ),
        (
            [1, 64, 14, 15],
            [96, 64, 1, 1],
            1,
            [1, 1],
            [0, 0, 0, 0],
            [1, 1],
        ),
        (
            [1, 64, 15, 14],
            [32, 64, 1, 1],
            1,
            [2, 2],
            [0, 0, 0, 0],
            [1, 1],
        ),
        (
            [2, 32, 30, 29],
            [32, 1, 3, 3],
            32,
            [2, 2],
            [1, 1, 1, 1],
            [1, 1],
        ),
        (
            [1, 24, 17, 16],
            [48, 1, 5, 5],
            24,
            [1, 1],
            [2, 2, 2, 2],
            [1, 1],
        ),
        (
            [1, 32, 12, 13],
            [64, 4, 3, 3],
            8,
            [1, 1],
            [1, 0, 1, 2],
            [2, 1],
        ),
        (
            [1, 8, 40, 40],
            [16, 4, 3, 3],
            2,
            [1, 1],
            [1, 1, 1, 1],
            [1, 1],
        ),
    ];
    for &(xs, ws, group, s, p, d) in cases {
        let xd = seq_data(xs.iter().product(), 1);
        let wd: Vec<f32> = seq_data(ws.iter().product(), 2)
            .iter()
            .map(|v| v / 8.0)
            .collect();
        let bd = seq_data(ws[0], 3);
        let (shape, want) = naive_conv(&xd, xs, &wd, ws, &bd, group, s, p, d);
        let t = |s: [usize; 4], v: Vec<f32>| {
            Some(Value::from(
                Tensor::from_vec(&s.map(|d| d as i64), v).unwrap(),
            ))
        };
        let attrs = vec![
            int("group", group as i64),
            ints("strides", &s.map(|v| v as i64)),
            ints("pads", &p.map(|v| v as i64)),
            ints("dilations", &d.map(|v| v as i64)),
        ];
        let bias = Some(Value::from(Tensor::from_vec(&[ws[0] as i64], bd).unwrap()));
        let outs = run_node("Conv", 11, &[t(xs, xd), t(ws, wd), bias], attrs, 1).unwrap();
        let (gs, got) = out_f32(&outs, 0);
        assert_eq!(gs, shape, "{xs:?} {ws:?}");
        assert_close(&got, &want, 1e-4);
    }
}

fn naive_matmul(a: &[f32], b: &[f32], m: usize, k: usize, n: usize) -> Vec<f32> {
    let mut c = vec![0f32; m * n];
    for i in 0..m {
        for j in 0..n {
            c[i * n + j] = (0..k).map(|p| a[i * k + p] * b[p * n + j]).sum();
        }
    }
    c
}

#[test]
fn matmul_large_matches_naive() {
    // Batched with a batch per call, and B shared across a folded batch.
    let (a, b) = (seq_data(4 * 70 * 90, 1), seq_data(4 * 90 * 80, 2));
    let t = |s: &[i64], v: &[f32]| Some(Value::from(Tensor::from_vec(s, v.to_vec()).unwrap()));
    let outs = run_node(
        "MatMul",
        13,
        &[t(&[4, 70, 90], &a), t(&[4, 90, 80], &b)],
        vec![],
        1,
    )
    .unwrap();
    let want: Vec<f32> = (0..4)
        .flat_map(|i| naive_matmul(&a[i * 6300..][..6300], &b[i * 7200..][..7200], 70, 90, 80))
        .collect();
    assert_close(&out_f32(&outs, 0).1, &want, 1e-4);
    let b = seq_data(90 * 120, 3);
    let outs = run_node(
        "MatMul",
        13,
        &[t(&[2, 140, 90], &a[..2 * 140 * 90]), t(&[90, 120], &b)],
        vec![],
        1,
    )
    .unwrap();
    assert_close(
        &out_f32(&outs, 0).1,
        &naive_matmul(&a[..2 * 140 * 90], &b, 280, 90, 120),
        1e-4,
    );
    // Gemm with both operands transposed.
    let (at, bt) = (seq_data(90 * 130, 4), seq_data(110 * 90, 5));
    let tr = |v: &[f32], r: usize, c: usize| {
        (0..c * r)
            .map(|i| v[(i % r) * c + i / r])
            .collect::<Vec<_>>()
    };
    let want = naive_matmul(&tr(&at, 90, 130), &tr(&bt, 110, 90), 130, 90, 110);
    let attrs = vec![int("transA", 1), int("transB", 1)];
    let outs = run_node(
        "Gemm",
        13,
        &[t(&[90, 130], &at), t(&[110, 90], &bt)],
        attrs,
        1,
    )
    .unwrap();
    assert_close(&out_f32(&outs, 0).1, &want, 1e-4);
}

#[test]
fn softmax_large_rows() {
    let x = seq_data(64 * 1000, 1);
    let t = Some(Value::from(
        Tensor::from_vec(&[64, 1000], x.clone()).unwrap(),
    ));
    let outs = run_node("Softmax", 13, &[t], vec![], 1).unwrap();
    let got = out_f32(&outs, 0).1;
    for (r, row) in x.chunks(1000).enumerate() {
        let m = row.iter().fold(f32::MIN, |a, &b| a.max(b));
        let s: f32 = row.iter().map(|v| (v - m).exp()).sum();
        let want: Vec<f32> = row.iter().map(|v| (v - m).exp() / s).collect();
        assert_close(&got[r * 1000..(r + 1) * 1000], &want, 1e-5);
    }
}

// Generated from ONNX Runtime.

#[test]
fn fast_exp_is_accurate() {
    use super::Flt;
    let mut worst = 0f64;
    for i in -870_000..880_000 {
        let x = i as f32 * 1e-4;
        let (got, want) = (x.fast_exp() as f64, (x as f64).exp());
        worst = worst.max(((got - want) / want).abs());
    }
    assert!(worst < 5e-7, "relative error {worst}");
    assert_eq!(f32::NEG_INFINITY.fast_exp(), 0.0);
    assert_eq!(f32::INFINITY.fast_exp(), f32::INFINITY);
    assert!(f32::NAN.fast_exp().is_nan());
}

#[test]
fn matmul_2d() {
    check(
        "MatMul",
        13,
        &[seq(&[3, 5], 1), seq(&[5, 4], 2)],
        vec![],
        &[(
            &[3, 4],
            &[
                10.6875, -5.78125, -8.9882812, 11.296875, -6.8984375, -8.7109375, 17.515625,
                -6.2734375, -4.0234375, 8.8203125, -9.0273438, -3.3828125,
            ],
        )],
    );
}

#[test]
fn matmul_1d_left() {
    check(
        "MatMul",
        13,
        &[seq(&[5], 1), seq(&[2, 5, 3], 2)],
        vec![],
        &[(
            &[2, 3],
            &[
                3.0546875, -1.6679688, -6.390625, 4.5859375, 1.3789062, -3.34375,
            ],
        )],
    );
}

#[test]
fn matmul_1d_right() {
    check(
        "MatMul",
        13,
        &[seq(&[2, 4, 5], 1), seq(&[5], 2)],
        vec![],
        &[(
            &[2, 4],
            &[
                9.765625, -9.3671875, -5.0078125, -5.953125, -1.59375, 9.5859375, -9.546875,
                -5.1875,
            ],
        )],
    );
}

#[test]
fn matmul_1d_both() {
    check(
        "MatMul",
        13,
        &[seq(&[5], 1), seq(&[5], 2)],
        vec![],
        &[(&[], &[9.765625])],
    );
}

#[test]
fn matmul_broadcast() {
    check(
        "MatMul",
        13,
        &[seq(&[2, 1, 3, 4], 1), seq(&[3, 4, 2], 2)],
        vec![],
        &[(
            &[2, 3, 3, 2],
            &[
                6.2773438, 2.0390625, 3.9882812, -9.1484375, -11.5625, 3.15625, -12.851562,
                7.9179688, 3.4726562, 5.1132812, 6.5351562, -10.953125, 4.7734375, -11.210938,
                -7.2734375, 4.5976562, 4.171875, 7.1445312, -3.6210938, 2.1992188, 7.3515625,
                4.2734375, 5.0625, -6.9140625, -3.6640625, -3.5273438, -10.832031, 6.9296875,
                5.4921875, 4.125, 2.3554688, -3.5703125, 3.5703125, -11.253906, -8.4765625,
                4.5546875,
            ],
        )],
    );
}

#[test]
fn matmul_shared_b() {
    check(
        "MatMul",
        13,
        &[seq(&[2, 3, 4], 1), seq(&[4, 5], 2)],
        vec![],
        &[(
            &[2, 3, 5],
            &[
                6.9492188,
                2.7109375,
                -13.273438,
                7.4960938,
                3.2578125,
                5.1601562,
                -7.9765625,
                3.8945312,
                5.5351562,
                -7.6015625,
                -11.40625,
                3.3125,
                6.2851562,
                -11.203125,
                3.515625,
                -5.9960938,
                -0.17578125,
                -6.1015625,
                -5.9648438,
                -0.14453125,
                6.9921875,
                3.9140625,
                -10.910156,
                6.8515625,
                3.7734375,
                5.203125,
                -6.7734375,
                6.2578125,
                4.890625,
                -7.0859375,
            ],
        )],
    );
}

#[test]
fn matmul_shared_a() {
    check(
        "MatMul",
        13,
        &[seq(&[3, 4], 1), seq(&[2, 4, 5], 2)],
        vec![],
        &[(
            &[2, 3, 5],
            &[
                6.9492188, 2.7109375, -13.273438, 7.4960938, 3.2578125, 5.1601562, -7.9765625,
                3.8945312, 5.5351562, -7.6015625, -11.40625, 3.3125, 6.2851562, -11.203125,
                3.515625, 1.7539062, -2.484375, 6.5390625, 2.3007812, -1.9375, -8.6328125,
                4.7539062, 4.8789062, -8.2578125, 5.1289062, 2.9570312, -2.7851562, -11.558594,
                3.1601562, -2.5820312,
            ],
        )],
    );
}

#[test]
fn gemm_vector_times_matrix_splits_columns() {
    // M = 1 and enough work for the column split over both threads.
    let (k, n) = (600usize, 300usize);
    let (a, b) = (seq_data(k, 1), seq_data(k * n, 2));
    let want: Vec<f32> = (0..n)
        .map(|j| {
            (0..k)
                .map(|p| a[p] as f64 * b[p * n + j] as f64)
                .sum::<f64>() as f32
        })
        .collect();
    let out = run_node(
        "Gemm",
        13,
        &[seq(&[1, k as i64], 1), seq(&[k as i64, n as i64], 2)],
        vec![],
        1,
    )
    .unwrap();
    let (shape, got) = out_f32(&out, 0);
    assert_eq!(shape, [1, n as i64]);
    assert_close(&got, &want, 1e-3);
}

#[test]
fn gemm_trans_alpha_beta() {
    check(
        "Gemm",
        13,
        &[seq(&[4, 3], 1), seq(&[5, 4], 2), seq(&[5], 3)],
        vec![
            int("transA", 1),
            int("transB", 1),
            float("alpha", 0.5),
            float("beta", 2.0),
        ],
        &[(
            &[3, 5],
            &[
                -2.0839844, 1.375, -8.0488281, 2.0410156, 5.5, -0.0859375, 4.0390625, -4.71875,
                0.1640625, 4.2890625, 1.9121094, 6.703125, -1.3886719, -1.7128906, 3.078125,
            ],
        )],
    );
}

#[test]
fn gemm_c_column() {
    check(
        "Gemm",
        13,
        &[seq(&[3, 4], 1), seq(&[4, 5], 2), seq(&[3, 1], 3)],
        vec![float("alpha", 1.5)],
        &[(
            &[3, 5],
            &[
                10.611328, 4.2539062, -19.722656, 11.431641, 5.0742188, 9.8652344, -9.8398438,
                7.9667969, 10.427734, -9.2773438, -19.109375, 2.96875, 7.4277344, -18.804688,
                3.2734375,
            ],
        )],
    );
}

#[test]
fn gemm_c_scalar() {
    check(
        "Gemm",
        11,
        &[seq(&[3, 4], 1), seq(&[4, 2], 2), seq(&[], 3)],
        vec![float("beta", -1.0)],
        &[(
            &[3, 2],
            &[6.0898438, 1.8515625, 3.8007812, -9.3359375, -11.75, 2.96875],
        )],
    );
}

#[test]
fn gemm_no_c() {
    check(
        "Gemm",
        13,
        &[seq(&[2, 3], 1), seq(&[3, 4], 2)],
        vec![int("transB", 0)],
        &[(
            &[2, 4],
            &[
                6.5390625, -5.2070312, -5.2070312, 6.5390625, 5.9296875, -5.7539062, -5.6914062,
                6.1171875,
            ],
        )],
    );
}

#[test]
fn conv_basic() {
    check(
        "Conv",
        11,
        &[seq(&[1, 2, 5, 5], 1), seq(&[3, 2, 3, 3], 2), seq(&[3], 3)],
        vec![],
        &[(
            &[1, 3, 3, 3],
            &[
                -3.8164062, -4.4726562, -5.1289062, -28.316406, 18.011719, -6.1367188, -26.292969,
                -3.4570312, 19.378906, 3.015625, 3.09375, 3.171875, 0.75390625, 11.0625,
                -12.351562, -11.738281, 11.832031, -1.3515625, 11.742188, -12.453125, 0.10546875,
                16.941406, 2.9765625, -7.9570312, 11.910156, 11.207031, -26.25,
            ],
        )],
    );
}

#[test]
fn conv_pads_strides() {
    check(
        "Conv",
        11,
        &[seq(&[2, 3, 7, 6], 1), seq(&[4, 3, 3, 2], 2)],
        vec![ints("pads", &[1, 0, 2, 1]), ints("strides", &[2, 3])],
        &[(
            &[2, 4, 4, 2],
            &[
                -13.867188,
                -4.3203125,
                -9.6679688,
                6.5507812,
                5.9492188,
                -8.9023438,
                -5.2070312,
                -12.074219,
                -0.921875,
                1.0,
                6.5078125,
                15.835938,
                3.65625,
                18.667969,
                11.816406,
                -4.1914062,
                18.464844,
                12.761719,
                -1.1875,
                -0.265625,
                8.1835938,
                14.789062,
                -5.2617188,
                6.34375,
                7.5390625,
                -5.7890625,
                12.335938,
                3.3359375,
                -8.8867188,
                -12.203125,
                -1.5,
                0.96484375,
                0.23828125,
                -2.3398438,
                5.0234375,
                -6.796875,
                1.6953125,
                4.6523438,
                12.90625,
                7.5546875,
                -5.8359375,
                -6.9453125,
                -12.066406,
                5.9765625,
                -6.203125,
                -10.136719,
                20.761719,
                6.2695312,
                -5.46875,
                -5.109375,
                -6.421875,
                3.2148438,
                2.5703125,
                -9.7695312,
                -5.484375,
                7.6367188,
                1.3398438,
                3.1679688,
                -6.4609375,
                -6.7460938,
                -0.40234375,
                14.089844,
                -10.890625,
                -6.9101562,
            ],
        )],
    );
}

#[test]
fn conv_dilations() {
    check(
        "Conv",
        11,
        &[seq(&[1, 2, 7, 7], 1), seq(&[2, 2, 3, 3], 2), seq(&[2], 4)],
        vec![ints("dilations", &[2, 2]), ints("pads", &[1, 1, 1, 1])],
        &[(
            &[1, 2, 5, 5],
            &[
                -1.2929688,
                1.0585938,
                -11.0,
                12.558594,
                2.3554688,
                -3.7070312,
                -1.4140625,
                9.6757812,
                -14.472656,
                3.7890625,
                1.984375,
                5.7382812,
                -4.390625,
                16.929688,
                -2.34375,
                -1.4179688,
                11.753906,
                -0.6484375,
                -13.050781,
                4.7851562,
                10.417969,
                0.73828125,
                5.4804688,
                11.738281,
                -3.421875,
                -5.3242188,
                -12.019531,
                0.9140625,
                3.6171875,
                -10.285156,
                -3.1445312,
                8.6914062,
                -16.238281,
                -2.8984375,
                10.003906,
                -5.140625,
                -15.769531,
                -6.5976562,
                15.457031,
                -5.3320312,
                -7.1367188,
                -4.234375,
                -15.902344,
                9.1835938,
                -7.40625,
                -0.83203125,
                -11.421875,
                0.125,
                3.7148438,
                2.484375,
            ],
        )],
    );
}

#[test]
fn conv_groups() {
    check(
        "Conv",
        11,
        &[seq(&[1, 4, 5, 5], 1), seq(&[6, 2, 3, 3], 2), seq(&[6], 3)],
        vec![int("group", 2), ints("pads", &[1, 1, 1, 1])],
        &[(
            &[1, 6, 5, 5],
            &[
                -11.460938,
                6.28125,
                5.96875,
                -17.835938,
                0.75,
                -8.1992188,
                -3.8164062,
                -4.4726562,
                -5.1289062,
                2.8398438,
                -9.9257812,
                -28.316406,
                18.011719,
                -6.1367188,
                -12.691406,
                11.839844,
                -26.292969,
                -3.4570312,
                19.378906,
                -4.7304688,
                8.953125,
                -12.726562,
                10.203125,
                9.640625,
                -6.9453125,
                -1.0859375,
                10.257812,
                -1.8164062,
                -0.62890625,
                8.8203125,
                1.0507812,
                3.015625,
                3.09375,
                3.171875,
                4.84375,
                -11.363281,
                0.75390625,
                11.0625,
                -12.351562,
                7.8007812,
                -0.28515625,
                -11.738281,
                11.832031,
                -1.3515625,
                -2.5039062,
                -2.046875,
                -1.0273438,
                10.140625,
                -2.1835938,
                1.3476562,
                13.078125,
                -6.2265625,
                -18.316406,
                19.609375,
                -5.0859375,
                -0.6875,
                11.742188,
                -12.453125,
                0.10546875,
                7.2265625,
                -1.8125,
                16.941406,
                2.9765625,
                -7.9570312,
                13.894531,
                -16.199219,
                11.910156,
                11.207031,
                -26.25,
                7.3007812,
                -19.109375,
                5.3671875,
                4.7734375,
                -19.3125,
                4.3359375,
                10.0,
                -14.914062,
                9.734375,
                10.890625,
                -12.320312,
                0.3203125,
                -26.089844,
                23.957031,
                0.49609375,
                -11.261719,
                24.882812,
                -25.175781,
                -1.6523438,
                24.902344,
                -15.660156,
                -0.5703125,
                2.2617188,
                2.2929688,
                2.3242188,
                3.4335938,
                9.234375,
                10.46875,
                -15.148438,
                9.25,
                2.0,
                -11.46875,
                7.2265625,
                6.8515625,
                -17.015625,
                2.5546875,
                -8.2617188,
                11.777344,
                12.542969,
                -23.445312,
                4.7382812,
                5.234375,
                5.375,
                16.371094,
                -6.3554688,
                -10.347656,
                5.46875,
                -11.257812,
                13.0,
                0.50390625,
                -1.9414062,
                17.921875,
                -14.988281,
                -3.8671875,
                20.515625,
                -4.5,
                -5.65625,
                5.875,
                -6.2617188,
                -5.1367188,
                4.546875,
                -3.5820312,
                6.4492188,
                -17.058594,
                -3.8125,
                0.65625,
                -15.550781,
                7.5078125,
                -5.7695312,
                -16.015625,
                4.0585938,
                -4.0273438,
                -1.6640625,
                -1.6796875,
                -1.6953125,
                -5.8007812,
                -5.9765625,
                -5.2070312,
                5.8984375,
                -6.4882812,
                -2.2851562,
            ],
        )],
    );
}

#[test]
fn conv_depthwise() {
    check(
        "Conv",
        11,
        &[seq(&[2, 3, 6, 5], 1), seq(&[3, 1, 3, 3], 2), seq(&[3], 3)],
        vec![int("group", 3), ints("pads", &[1, 1, 1, 1])],
        &[(
            &[2, 3, 6, 5],
            &[
                -6.53125,
                2.7539062,
                2.4101562,
                -9.6796875,
                -1.0429688,
                -4.65625,
                -3.203125,
                -3.8125,
                -4.421875,
                -0.0625,
                -4.1835938,
                -14.585938,
                8.296875,
                -4.0585938,
                -6.4921875,
                8.0351562,
                -12.707031,
                -1.5703125,
                9.5664062,
                -1.1757812,
                5.0976562,
                2.4335938,
                1.8242188,
                1.2148438,
                0.73046875,
                5.9804688,
                4.4335938,
                -7.78125,
                3.4960938,
                4.5585938,
                -0.65234375,
                -5.9375,
                5.8398438,
                5.8710938,
                1.46875,
                -3.6171875,
                -11.605469,
                11.839844,
                0.046875,
                -4.0742188,
                5.9296875,
                -11.460938,
                0.23828125,
                11.9375,
                -1.4296875,
                4.8671875,
                1.9453125,
                1.8984375,
                1.8515625,
                2.3515625,
                2.2890625,
                1.7109375,
                1.6640625,
                1.6171875,
                4.6171875,
                -3.828125,
                5.1757812,
                5.0820312,
                -6.7578125,
                3.1289062,
                -4.0234375,
                -2.7382812,
                -2.3320312,
                -13.671875,
                -5.2695312,
                -1.6757812,
                -6.3398438,
                -5.8242188,
                -5.3085938,
                -7.1835938,
                -0.86328125,
                -3.7617188,
                -3.2460938,
                -2.7304688,
                -1.5273438,
                -1.5664062,
                -1.1835938,
                -0.66796875,
                -0.15234375,
                2.6132812,
                -3.7851562,
                7.4570312,
                -3.7734375,
                -15.003906,
                5.2382812,
                -4.6992188,
                0.0,
                0.28125,
                -11.183594,
                -1.109375,
                4.0273438,
                -6.5859375,
                4.8164062,
                4.4726562,
                -2.8359375,
                3.09375,
                1.0625,
                0.453125,
                -0.15625,
                0.90625,
                -1.359375,
                -1.984375,
                -2.59375,
                -3.203125,
                1.296875,
                -7.328125,
                10.125,
                -2.2304688,
                -14.585938,
                0.171875,
                -6.8554688,
                0.2578125,
                11.394531,
                -12.707031,
                -6.2578125,
                -0.0546875,
                7.7148438,
                7.2460938,
                -4.96875,
                -2.0820312,
                6.2617188,
                5.5898438,
                -6.125,
                5.6523438,
                7.7773438,
                1.1289062,
                1.6054688,
                1.5585938,
                1.5117188,
                5.6367188,
                -2.9648438,
                11.980469,
                0.1875,
                -11.605469,
                6.3867188,
                -5.1640625,
                0.37890625,
                12.078125,
                -11.460938,
                -2.7148438,
                4.3828125,
                2.0390625,
                1.9921875,
                1.9453125,
                -0.0703125,
                3.5429688,
                -5.9140625,
                5.7382812,
                5.6445312,
                -1.8515625,
                -4.921875,
                4.2695312,
                4.6757812,
                -0.6015625,
                -0.7109375,
                -4.1015625,
                8.6171875,
                -2.6132812,
                -6.265625,
                2.9335938,
                -8.9726562,
                -4.71875,
                7.5429688,
                -6.3398438,
                -7.3242188,
                -2.0976562,
                -4.7929688,
                -4.2773438,
                -3.7617188,
                -4.6992188,
                -1.2851562,
                -2.2148438,
                -1.6992188,
                -1.1835938,
                0.95703125,
                2.0585938,
                2.1992188,
                -9.265625,
                2.7617188,
                5.0429688,
            ],
        )],
    );
}

#[test]
fn conv_depthwise_strided() {
    check(
        "Conv",
        11,
        &[seq(&[1, 3, 7, 7], 1), seq(&[6, 1, 3, 3], 2), seq(&[6], 3)],
        vec![
            int("group", 3),
            ints("pads", &[0, 1, 1, 0]),
            ints("strides", &[2, 2]),
            ints("dilations", &[1, 2]),
        ],
        &[(
            &[1, 6, 3, 2],
            &[
                -3.9335938,
                -14.695312,
                3.3007812,
                -0.11328125,
                -7.2734375,
                -0.30859375,
                -3.5429688,
                -12.242188,
                4.3945312,
                1.1210938,
                -5.4765625,
                -0.29296875,
                -3.6015625,
                7.8984375,
                -2.1601562,
                -3.4492188,
                3.4492188,
                5.6640625,
                1.5234375,
                -0.734375,
                -0.87890625,
                2.234375,
                5.4335938,
                -11.089844,
                5.4375,
                -9.6835938,
                0.70703125,
                3.8125,
                7.7226562,
                -9.2148438,
                -7.4375,
                3.1835938,
                5.9648438,
                -3.8632812,
                -5.640625,
                3.8671875,
            ],
        )],
    );
}

#[test]
fn conv_same_upper() {
    check(
        "Conv",
        11,
        &[seq(&[1, 2, 5, 6], 1), seq(&[2, 2, 4, 3], 2)],
        vec![string("auto_pad", "SAME_UPPER"), ints("strides", &[2, 2])],
        &[(
            &[1, 2, 3, 3],
            &[
                8.4648438, -4.2265625, 0.6640625, -13.144531, 14.902344, -4.78125, -14.976562,
                7.640625, -1.796875, -0.90625, -1.15625, 1.921875, 17.8125, -26.46875, 21.90625,
                -4.359375, -17.527344, 15.757812,
            ],
        )],
    );
}

#[test]
fn conv_same_lower() {
    check(
        "Conv",
        11,
        &[seq(&[1, 2, 5, 6], 1), seq(&[2, 2, 4, 3], 2)],
        vec![string("auto_pad", "SAME_LOWER"), ints("strides", &[2, 1])],
        &[(
            &[1, 2, 3, 6],
            &[
                -11.960938,
                8.71875,
                8.78125,
                -7.0703125,
                4.7382812,
                3.2890625,
                -16.417969,
                -1.421875,
                13.359375,
                0.1015625,
                -12.019531,
                0.3359375,
                -0.66015625,
                -14.886719,
                14.578125,
                14.109375,
                -21.597656,
                -2.890625,
                3.2890625,
                10.617188,
                -13.84375,
                7.1640625,
                -5.5507812,
                -2.0195312,
                -6.2929688,
                14.25,
                -7.1328125,
                -19.800781,
                17.546875,
                7.6132812,
                -8.4101562,
                18.183594,
                23.746094,
                -25.253906,
                0.76953125,
                18.199219,
            ],
        )],
    );
}

#[test]
fn conv_valid() {
    check(
        "Conv",
        11,
        &[seq(&[1, 1, 5, 6], 1), seq(&[2, 1, 2, 3], 2)],
        vec![string("auto_pad", "VALID"), ints("strides", &[2, 2])],
        &[(
            &[1, 2, 2, 2],
            &[
                13.796875, -10.632812, 1.3515625, -4.890625, 14.546875, -9.3828125, 2.0703125,
                -6.703125,
            ],
        )],
    );
}

/// NaN in an input pixel is NaN in every output channel there, with a bias
/// and no activation (the bias is added as each GEMM tile is stored, where a
/// clamp to ±inf would have turned NaN into -inf).
#[test]
fn conv_pointwise_bias_keeps_nan() {
    let (c, m, hw) = (4, 16, 64);
    let mut x = seq_data(c * hw, 1);
    x[5] = f32::NAN;
    let x = Some(Tensor::from_vec(&[1, c as i64, 8, 8], x).unwrap().into());
    let ins = [x, seq(&[m as i64, c as i64, 1, 1], 2), seq(&[m as i64], 3)];
    let outs = run_node("Conv", 11, &ins, vec![], 1).unwrap();
    let (_, y) = out_f32(&outs, 0);
    for (i, v) in y.iter().enumerate() {
        assert_eq!(v.is_nan(), i % hw == 5, "output {i} is {v}");
    }
}

#[test]
fn conv_pointwise() {
    check(
        "Conv",
        11,
        &[seq(&[2, 3, 3, 4], 1), seq(&[5, 3, 1, 1], 2), seq(&[5], 3)],
        vec![],
        &[(
            &[2, 5, 3, 4],
            &[
                5.1367188,
                -6.875,
                -0.69921875,
                10.78125,
                -7.671875,
                -1.4960938,
                9.984375,
                -8.46875,
                -2.2929688,
                9.1875,
                -9.265625,
                -3.0898438,
                7.7617188,
                -4.1875,
                0.53515625,
                12.078125,
                -4.796875,
                -0.07421875,
                11.46875,
                -5.40625,
                -0.68359375,
                10.859375,
                -6.015625,
                -1.2929688,
                4.3242188,
                -7.5625,
                -4.2929688,
                7.3125,
                -7.984375,
                -4.7148438,
                6.890625,
                -8.40625,
                -5.1367188,
                6.46875,
                -8.828125,
                -5.5585938,
                6.9492188,
                -4.875,
                -3.0585938,
                8.609375,
                -5.109375,
                -3.2929688,
                8.375,
                -5.34375,
                -3.5273438,
                8.140625,
                -5.578125,
                -3.7617188,
                9.5742188,
                -2.1875,
                -1.8242188,
                9.90625,
                -2.234375,
                -1.8710938,
                9.859375,
                -2.28125,
                -1.9179688,
                9.8125,
                -2.328125,
                -1.9648438,
                -3.2890625,
                8.1914062,
                7.9257812,
                -4.0859375,
                2.0898438,
                7.1289062,
                -4.8828125,
                1.2929688,
                6.3320312,
                -5.6796875,
                0.49609375,
                5.5351562,
                -1.4453125,
                10.097656,
                9.8945312,
                -2.0546875,
                2.6679688,
                9.2851562,
                -2.6640625,
                2.0585938,
                8.6757812,
                -3.2734375,
                1.4492188,
                8.0664062,
                -5.6640625,
                5.9414062,
                5.8007812,
                -6.0859375,
                -2.8164062,
                5.3789062,
                -6.5078125,
                -3.2382812,
                4.9570312,
                -6.9296875,
                -3.6601562,
                4.5351562,
                -3.8203125,
                7.8476562,
                7.7695312,
                -4.0546875,
                -2.2382812,
                7.5351562,
                -4.2890625,
                -2.4726562,
                7.3007812,
                -4.5234375,
                -2.7070312,
                7.0664062,
                -1.9765625,
                9.7539062,
                9.7382812,
                -2.0234375,
                -1.6601562,
                9.6914062,
                -2.0703125,
                -1.7070312,
                9.6445312,
                -2.1171875,
                -1.7539062,
                9.5976562,
            ],
        )],
    );
}

#[test]
fn conv_1d() {
    check(
        "Conv",
        11,
        &[seq(&[2, 3, 9], 1), seq(&[4, 3, 3], 2), seq(&[4], 3)],
        vec![
            ints("pads", &[2, 1]),
            ints("strides", &[2]),
            ints("dilations", &[2]),
        ],
        &[(
            &[2, 4, 4],
            &[
                7.59375,
                -3.3085938,
                0.3984375,
                10.925781,
                8.359375,
                -0.29296875,
                -0.0078125,
                11.644531,
                3.0625,
                -3.3398438,
                -6.4765625,
                6.3007812,
                3.828125,
                -12.449219,
                14.714844,
                -11.167969,
                -5.0859375,
                -0.05859375,
                10.46875,
                -14.242188,
                -3.2890625,
                -0.04296875,
                11.609375,
                -11.976562,
                -7.5546875,
                -6.0898438,
                6.6875,
                -15.773438,
                -5.7578125,
                14.386719,
                -11.496094,
                0.890625,
            ],
        )],
    );
}

#[test]
fn conv_1d_depthwise() {
    check(
        "Conv",
        11,
        &[seq(&[1, 2, 9], 1), seq(&[2, 1, 3], 2)],
        vec![int("group", 2), ints("pads", &[1, 1])],
        &[(
            &[1, 2, 9],
            &[
                -2.0585938, 7.5078125, -4.5039062, -4.7695312, 6.7109375, -5.3007812, -5.5664062,
                5.9140625, 1.9648438, -4.2460938, 5.6796875, -6.2695312, -6.4726562, 5.0703125,
                9.7929688, -2.15625, -2.359375, 1.9648438,
            ],
        )],
    );
}

#[test]
fn conv_3d() {
    check(
        "Conv",
        11,
        &[
            seq(&[1, 2, 4, 5, 3], 1),
            seq(&[3, 2, 2, 3, 2], 2),
            seq(&[3], 3),
        ],
        vec![
            ints("pads", &[1, 0, 1, 0, 1, 1]),
            ints("strides", &[2, 1, 1]),
        ],
        &[(
            &[1, 3, 2, 4, 4],
            &[
                -1.2148438,
                -4.65625,
                -6.109375,
                -2.5273438,
                -1.0585938,
                -4.46875,
                -5.921875,
                -2.4960938,
                -0.90234375,
                -4.28125,
                -5.734375,
                -2.4648438,
                9.0820312,
                -1.5117188,
                -9.0195312,
                -1.4453125,
                3.5117188,
                -1.2617188,
                -9.59375,
                -1.8671875,
                3.0742188,
                11.253906,
                -8.8242188,
                -2.5546875,
                13.246094,
                -0.859375,
                5.2070312,
                -3.2421875,
                -11.886719,
                21.152344,
                0.625,
                -3.328125,
                0.515625,
                0.140625,
                -0.828125,
                2.71875,
                0.640625,
                0.265625,
                -0.703125,
                2.71875,
                0.765625,
                0.390625,
                -0.578125,
                2.71875,
                0.09375,
                -10.402344,
                -1.9257812,
                8.5820312,
                5.703125,
                -10.835938,
                5.671875,
                2.0507812,
                5.203125,
                -9.0546875,
                -4.2929688,
                2.8164062,
                3.1875,
                -7.2734375,
                -0.99609375,
                3.5820312,
                14.871094,
                -4.4960938,
                6.5664062,
                -0.30078125,
                -0.78515625,
                -4.15625,
                -4.640625,
                -4.1601562,
                -0.69140625,
                -4.09375,
                -4.578125,
                -4.1914062,
                -0.59765625,
                -4.03125,
                -4.515625,
                -4.2226562,
                -11.925781,
                3.8203125,
                4.7890625,
                -8.2929688,
                -9.5351562,
                9.9023438,
                -10.511719,
                -3.8828125,
                -8.5820312,
                -0.56640625,
                4.0273438,
                -4.6953125,
                -21.269531,
                13.59375,
                -4.9257812,
                -5.5078125,
                -8.0078125,
                -4.7578125,
                2.65625,
                -0.3046875,
            ],
        )],
    );
}

#[test]
fn conv_3d_depthwise() {
    check(
        "Conv",
        11,
        &[seq(&[1, 2, 3, 4, 4], 1), seq(&[2, 1, 2, 2, 2], 2)],
        vec![int("group", 2)],
        &[(
            &[1, 2, 2, 3, 3],
            &[
                0.65625,
                13.390625,
                -10.25,
                12.1875,
                -11.453125,
                -1.75,
                -12.65625,
                -2.953125,
                2.9609375,
                0.5546875,
                8.3632812,
                -11.867188,
                -1.1757812,
                -13.070312,
                1.5585938,
                -9.3476562,
                0.35546875,
                13.089844,
                -0.57421875,
                -2.2148438,
                -3.0976562,
                -2.5898438,
                -3.4726562,
                -1.3242188,
                -3.8476562,
                11.941406,
                -1.4453125,
                -12.046875,
                10.183594,
                -2.0664062,
                9.8085938,
                -2.4414062,
                -0.29296875,
                -2.8164062,
                -0.66796875,
                -2.3085938,
            ],
        )],
    );
}

#[test]
fn convt_basic() {
    check(
        "ConvTranspose",
        11,
        &[seq(&[1, 2, 3, 3], 1), seq(&[2, 3, 3, 3], 2), seq(&[3], 3)],
        vec![],
        &[(
            &[1, 3, 5, 5],
            &[
                -6.0117188,
                -0.8828125,
                -4.9570312,
                0.2734375,
                6.890625,
                -11.570312,
                -1.09375,
                -10.960938,
                -1.140625,
                11.875,
                1.4453125,
                -7.3945312,
                -12.902344,
                -3.8046875,
                15.265625,
                6.5039062,
                -7.0898438,
                -8.1484375,
                -3.140625,
                8.9375,
                10.546875,
                -8.3945312,
                -3.6601562,
                -1.7265625,
                3.953125,
                -0.60546875,
                5.0859375,
                -1.3320312,
                0.4296875,
                6.484375,
                -2.3203125,
                9.65625,
                -4.5234375,
                -2.015625,
                9.5,
                10.367188,
                4.3398438,
                -7.0742188,
                -4.9609375,
                11.296875,
                11.957031,
                0.61328125,
                -4.0078125,
                -2.515625,
                7.3125,
                12.15625,
                -5.4726562,
                -2.3320312,
                -0.0703125,
                4.296875,
                -1.2617188,
                4.9921875,
                -3.7695312,
                -5.4765625,
                0.015625,
                0.8671875,
                14.34375,
                -4.1484375,
                -8.953125,
                1.0625,
                13.226562,
                -6.28125,
                -11.855469,
                -4.9804688,
                1.265625,
                11.347656,
                -15.554688,
                -11.992188,
                -2.2695312,
                -0.375,
                7.703125,
                8.8164062,
                -14.644531,
                -0.30859375,
                -1.421875,
            ],
        )],
    );
}

#[test]
fn convt_strides_pads() {
    check(
        "ConvTranspose",
        11,
        &[seq(&[1, 2, 3, 4], 1), seq(&[2, 2, 3, 3], 2)],
        vec![
            ints("strides", &[2, 2]),
            ints("pads", &[1, 0, 1, 1]),
            ints("output_padding", &[1, 0]),
        ],
        &[(
            &[1, 2, 6, 8],
            &[
                9.890625, 0.4453125, -6.375, 0.6875, -5.890625, 0.9296875, 1.4140625, -3.7539062,
                14.296875, 1.9453125, -10.640625, 2.4296875, -4.3671875, -3.5273438, 1.1484375,
                -3.8007812, 3.5625, 0.65625, -5.953125, 0.8984375, 1.3515625, -3.7851562, 1.078125,
                0.625, 1.640625, 2.3671875, -4.4921875, -3.5898438, 1.0234375, -3.8632812,
                -4.828125, 2.3046875, -2.765625, 0.8671875, 1.2890625, -3.8164062, 1.015625,
                0.59375, -6.078125, 0.8359375, -3.234375, 0.3984375, 0.8984375, -3.7382812,
                1.71875, 1.21875, -5.796875, 0.4921875, -4.2617188, 4.1015625, -8.03125, 1.4375,
                -1.6132812, -1.2265625, 16.171875, -4.2695312, -6.3085938, 6.7265625, -8.7851562,
                1.3984375, 13.902344, -5.8242188, 8.171875, -2.8164062, -2.890625, 1.78125,
                -2.4414062, -0.8828125, 15.34375, -3.9257812, -6.65625, 2.125, -3.5664062,
                2.0859375, 12.246094, -5.1367188, 6.515625, -2.1289062, -10.582031, 2.7734375,
                -1.5195312, -0.5390625, 14.515625, -3.5820312, -7.484375, 2.46875, -4.0976562,
                -0.1953125, -1.9882812, -1.0078125, 14.125, -3.5039062, -6.78125, 3.09375,
                -3.8164062, -0.5390625,
            ],
        )],
    );
}

#[test]
fn convt_groups_dil() {
    check(
        "ConvTranspose",
        11,
        &[seq(&[1, 4, 3, 3], 1), seq(&[4, 1, 2, 3], 2), seq(&[2], 3)],
        vec![
            int("group", 2),
            ints("dilations", &[2, 1]),
            ints("strides", &[1, 2]),
        ],
        &[(
            &[1, 2, 5, 7],
            &[
                5.578125,
                -3.3828125,
                -11.3125,
                -0.234375,
                -5.015625,
                2.9140625,
                8.96875,
                6.140625,
                -3.7890625,
                -12.125,
                -0.640625,
                -5.828125,
                2.5078125,
                7.59375,
                4.9140625,
                -3.1992188,
                -7.9375,
                -1.28125,
                -12.4375,
                4.046875,
                14.21875,
                7.421875,
                -2.5078125,
                -10.53125,
                -0.328125,
                -6.171875,
                1.8515625,
                6.9375,
                -1.7421875,
                -0.89453125,
                2.546875,
                -0.609375,
                -6.734375,
                1.5703125,
                5.6875,
                -7.25,
                1.46875,
                18.34375,
                3.015625,
                -4.328125,
                2.2890625,
                2.53125,
                -6.1875,
                1.5625,
                18.53125,
                3.109375,
                -4.140625,
                2.3828125,
                1.65625,
                -15.625,
                -0.125,
                34.75,
                5.03125,
                -9.5,
                2.609375,
                1.15625,
                -7.1875,
                0.5625,
                18.59375,
                4.171875,
                -2.984375,
                2.4765625,
                1.75,
                -6.0,
                0.78125,
                19.03125,
                4.390625,
                -2.546875,
                2.6953125,
                1.0,
            ],
        )],
    );
}

#[test]
fn convt_output_shape() {
    check(
        "ConvTranspose",
        11,
        &[seq(&[1, 1, 3, 3], 1), seq(&[1, 2, 3, 3], 2)],
        vec![ints("strides", &[2, 2]), ints("output_shape", &[6, 6])],
        &[(
            &[1, 2, 6, 6],
            &[
                -1.5742188,
                -5.328125,
                0.0,
                -2.1796875,
                1.5742188,
                5.328125,
                -3.4140625,
                -11.1875,
                -0.265625,
                -4.890625,
                2.8828125,
                9.90625,
                -1.7773438,
                -5.734375,
                -0.203125,
                -2.5859375,
                1.3710938,
                4.640625,
                -3.8203125,
                -12.0,
                -0.671875,
                -5.703125,
                2.4765625,
                8.53125,
                -1.9804688,
                -6.140625,
                -0.40625,
                -2.9921875,
                1.1679688,
                3.953125,
                -1.3710938,
                -5.40625,
                -0.28125,
                -3.2265625,
                0.80859375,
                3.59375,
                -0.12109375,
                -3.875,
                0.0,
                -3.6328125,
                0.12109375,
                3.875,
                -0.3203125,
                -7.90625,
                -0.078125,
                -7.421875,
                0.1640625,
                7.1875,
                -0.13671875,
                -3.90625,
                -0.015625,
                -3.6640625,
                0.10546875,
                3.375,
                -0.3515625,
                -7.96875,
                -0.109375,
                -7.484375,
                0.1328125,
                6.1875,
                -0.15234375,
                -3.9375,
                -0.03125,
                -3.6953125,
                0.08984375,
                2.875,
                0.45703125,
                -3.203125,
                0.09375,
                -3.9296875,
                -0.26953125,
                2.515625,
            ],
        )],
    );
}

#[test]
fn convt_same_upper() {
    check(
        "ConvTranspose",
        11,
        &[seq(&[1, 1, 3, 3], 1), seq(&[1, 1, 3, 3], 2)],
        vec![ints("strides", &[2, 2]), string("auto_pad", "SAME_UPPER")],
        &[(
            &[1, 1, 6, 6],
            &[
                1.6953125, -2.0585938, -5.8125, 0.0, -1.6953125, 2.0585938, 2.1796875, -1.5742188,
                -5.328125, 0.0, -2.1796875, 1.5742188, 4.578125, -3.4140625, -11.1875, -0.265625,
                -4.890625, 2.8828125, 2.4609375, -1.7773438, -5.734375, -0.203125, -2.5859375,
                1.3710938, 5.140625, -3.8203125, -12.0, -0.671875, -5.703125, 2.4765625, 2.7421875,
                -1.9804688, -6.140625, -0.40625, -2.9921875, 1.1679688,
            ],
        )],
    );
}

#[test]
fn convt_1d() {
    check(
        "ConvTranspose",
        11,
        &[seq(&[2, 2, 4], 1), seq(&[2, 3, 3], 2)],
        vec![ints("strides", &[3]), ints("pads", &[1, 2])],
        &[(
            &[2, 3, 9],
            &[
                -2.1367188,
                -6.375,
                -2.7421875,
                0.52734375,
                3.796875,
                2.265625,
                1.296875,
                0.328125,
                2.7265625,
                -1.5898438,
                -5.828125,
                -3.1640625,
                0.10546875,
                3.375,
                2.390625,
                1.421875,
                0.453125,
                3.3984375,
                -1.0429688,
                -5.28125,
                -3.5859375,
                -0.31640625,
                2.953125,
                2.515625,
                1.546875,
                0.578125,
                4.0703125,
                0.609375,
                -2.296875,
                3.9765625,
                -3.1679688,
                -10.3125,
                -0.8671875,
                -0.50390625,
                -0.140625,
                -5.7109375,
                0.984375,
                -1.921875,
                4.8984375,
                -2.2460938,
                -9.390625,
                -0.9140625,
                -0.55078125,
                -0.1875,
                -6.7265625,
                1.359375,
                -1.546875,
                5.8203125,
                -1.3242188,
                -8.46875,
                -0.9609375,
                -0.59765625,
                -0.234375,
                -7.7421875,
            ],
        )],
    );
}

#[test]
fn convt_3d() {
    check(
        "ConvTranspose",
        11,
        &[seq(&[1, 2, 2, 3, 2], 1), seq(&[2, 1, 2, 2, 3], 2)],
        vec![ints("strides", &[2, 1, 2])],
        &[(
            &[1, 1, 4, 4, 5],
            &[
                7.203125,
                -2.2421875,
                -9.8125,
                -0.0625,
                -2.0,
                4.96875,
                1.09375,
                -4.1328125,
                -1.9570312,
                -2.5625,
                -1.609375,
                1.0546875,
                -2.6953125,
                -0.48046875,
                5.453125,
                2.9375,
                0.03125,
                -6.234375,
                1.2421875,
                5.84375,
                9.640625,
                0.1953125,
                -6.875,
                0.4375,
                -1.5,
                5.96875,
                2.09375,
                -2.9765625,
                -1.8007812,
                -2.40625,
                -2.296875,
                0.3671875,
                -4.9140625,
                -2.0117188,
                3.921875,
                3.6875,
                0.78125,
                -6.671875,
                0.0546875,
                4.65625,
                -2.7890625,
                -2.4257812,
                1.1875,
                -0.625,
                -4.5,
                -4.9140625,
                -0.91796875,
                4.7265625,
                -2.8320312,
                -7.3125,
                1.390625,
                0.1796875,
                -4.4453125,
                -1.3554688,
                0.703125,
                4.5625,
                -0.28125,
                -6.859375,
                0.9296875,
                3.59375,
                -2.8828125,
                -2.5195312,
                2.09375,
                0.375,
                -3.5,
                -5.9453125,
                -1.9492188,
                4.8515625,
                -1.6757812,
                -6.15625,
                1.703125,
                0.4921875,
                -4.6640625,
                -1.8867188,
                0.171875,
                5.8125,
                0.96875,
                -6.296875,
                0.2421875,
                2.90625,
            ],
        )],
    );
}

#[test]
fn maxpool_basic() {
    check(
        "MaxPool",
        12,
        &[seq(&[1, 2, 5, 5], 1)],
        vec![ints("kernel_shape", &[3, 3]), ints("strides", &[2, 2])],
        &[(
            &[1, 2, 2, 2],
            &[1.9375, 1.9375, 2.875, 2.625, 1.875, 1.875, 2.8125, 2.5625],
        )],
    );
}

#[test]
fn maxpool_pads_ceil() {
    check(
        "MaxPool",
        12,
        &[seq(&[1, 2, 5, 6], 1)],
        vec![
            ints("kernel_shape", &[3, 2]),
            ints("strides", &[2, 2]),
            ints("pads", &[1, 1, 1, 0]),
            int("ceil_mode", 1),
        ],
        &[(
            &[1, 2, 3, 4],
            &[
                -1.9375, 1.9375, -0.25, 1.6875, 2.625, 1.4375, 2.875, 1.1875, 2.625, 0.4375, 2.375,
                0.1875, 1.625, -0.5625, 2.8125, -0.8125, 1.125, 2.5625, 2.8125, -1.3125, 0.125,
                2.0625, 1.8125, -2.3125,
            ],
        )],
    );
}

#[test]
fn maxpool_dilation() {
    check(
        "MaxPool",
        12,
        &[seq(&[1, 1, 7, 7], 1)],
        vec![
            ints("kernel_shape", &[2, 3]),
            ints("dilations", &[2, 2]),
            ints("strides", &[1, 2]),
        ],
        &[(
            &[1, 1, 5, 2],
            &[
                2.625, 2.625, 2.375, 1.875, 2.625, 2.625, 2.375, 1.875, 2.3125, 2.3125,
            ],
        )],
    );
}

#[test]
fn maxpool_same() {
    check(
        "MaxPool",
        12,
        &[seq(&[1, 1, 5, 7], 1)],
        vec![
            ints("kernel_shape", &[3, 3]),
            ints("strides", &[2, 2]),
            string("auto_pad", "SAME_UPPER"),
        ],
        &[(
            &[1, 1, 3, 4],
            &[
                1.4375, 1.9375, 1.6875, 1.6875, 2.875, 2.875, 2.625, 1.875, 2.375, 2.125, 2.125,
                1.875,
            ],
        )],
    );
}

#[test]
fn maxpool_1d() {
    check(
        "MaxPool",
        12,
        &[seq(&[2, 2, 9], 1)],
        vec![
            ints("kernel_shape", &[3]),
            ints("strides", &[2]),
            ints("pads", &[1, 1]),
        ],
        &[(
            &[2, 2, 5],
            &[
                0.0, 1.9375, 1.6875, 1.6875, 1.4375, -0.75, 1.1875, 0.9375, 2.875, 0.6875, 2.625,
                2.375, 2.375, 2.125, -0.0625, 1.875, 1.625, 1.625, 1.375, -0.8125,
            ],
        )],
    );
}

#[test]
fn maxpool_3d() {
    check(
        "MaxPool",
        12,
        &[seq(&[1, 2, 3, 4, 5], 1)],
        vec![
            ints("kernel_shape", &[2, 2, 3]),
            ints("strides", &[1, 2, 2]),
        ],
        &[(
            &[1, 2, 2, 2, 2],
            &[
                2.375, 2.125, 2.875, 2.625, 2.8125, 2.5625, 1.8125, 1.8125, 3.0, 3.0, 2.6875,
                2.4375, 2.9375, 2.9375, 2.875, 2.875,
            ],
        )],
    );
}

#[test]
fn avgpool_basic() {
    check(
        "AveragePool",
        11,
        &[seq(&[1, 2, 5, 5], 1)],
        vec![ints("kernel_shape", &[3, 3]), ints("strides", &[2, 2])],
        &[(
            &[1, 2, 2, 2],
            &[
                -0.41666666,
                -0.58333331,
                0.097222224,
                -0.069444448,
                -0.47916666,
                -0.64583331,
                0.034722224,
                -0.13194445,
            ],
        )],
    );
}

#[test]
fn avgpool_pads() {
    check(
        "AveragePool",
        11,
        &[seq(&[1, 2, 5, 6], 1)],
        vec![
            ints("kernel_shape", &[3, 3]),
            ints("pads", &[1, 1, 1, 1]),
            ints("strides", &[2, 2]),
        ],
        &[(
            &[1, 2, 3, 3],
            &[
                -1.21875,
                -0.33333334,
                -0.5,
                -0.95833331,
                0.2638889,
                0.097222224,
                0.3125,
                0.1875,
                0.020833334,
                -0.6875,
                -0.8125,
                0.03125,
                0.58333331,
                -0.21527778,
                0.29166666,
                0.84375,
                -0.29166666,
                -0.45833334,
            ],
        )],
    );
}

#[test]
fn avgpool_pads_include() {
    check(
        "AveragePool",
        11,
        &[seq(&[1, 2, 5, 6], 1)],
        vec![
            ints("kernel_shape", &[3, 3]),
            ints("pads", &[1, 1, 1, 1]),
            ints("strides", &[2, 2]),
            int("count_include_pad", 1),
        ],
        &[(
            &[1, 2, 3, 3],
            &[
                -0.54166669,
                -0.22222222,
                -0.33333334,
                -0.6388889,
                0.2638889,
                0.097222224,
                0.1388889,
                0.125,
                0.013888889,
                -0.30555555,
                -0.54166669,
                0.020833334,
                0.3888889,
                -0.21527778,
                0.29166666,
                0.375,
                -0.19444445,
                -0.30555555,
            ],
        )],
    );
}

#[test]
fn avgpool_ceil_include() {
    check(
        "AveragePool",
        19,
        &[seq(&[1, 1, 5, 5], 1)],
        vec![
            ints("kernel_shape", &[3, 3]),
            ints("pads", &[1, 1, 1, 1]),
            ints("strides", &[2, 2]),
            int("ceil_mode", 1),
            int("count_include_pad", 1),
        ],
        &[(
            &[1, 1, 3, 3],
            &[
                -0.2986111,
                -0.19444445,
                -0.40972221,
                0.14583333,
                -0.24305555,
                -0.020833334,
                0.49305555,
                0.31944445,
                0.38194445,
            ],
        )],
    );
}

#[test]
fn avgpool_ceil() {
    check(
        "AveragePool",
        19,
        &[seq(&[1, 1, 6, 5], 1)],
        vec![
            ints("kernel_shape", &[2, 2]),
            ints("strides", &[2, 2]),
            int("ceil_mode", 1),
        ],
        &[(
            &[1, 1, 3, 3],
            &[
                -0.671875, 0.171875, -1.46875, 0.515625, -0.15625, -0.28125, 0.1875, -0.484375,
                0.90625,
            ],
        )],
    );
}

#[test]
fn avgpool_same_lower() {
    check(
        "AveragePool",
        11,
        &[seq(&[1, 1, 5, 6], 1)],
        vec![
            ints("kernel_shape", &[2, 3]),
            ints("strides", &[2, 2]),
            string("auto_pad", "SAME_LOWER"),
        ],
        &[(
            &[1, 1, 3, 3],
            &[
                -0.96875,
                -0.083333336,
                -0.25,
                -1.71875,
                0.17708333,
                0.010416667,
                0.3125,
                0.1875,
                0.020833334,
            ],
        )],
    );
}

#[test]
fn avgpool_dilated() {
    check(
        "AveragePool",
        19,
        &[seq(&[1, 1, 6, 6], 1)],
        vec![
            ints("kernel_shape", &[2, 2]),
            ints("dilations", &[2, 2]),
            ints("pads", &[1, 1, 1, 1]),
            int("count_include_pad", 1),
        ],
        &[(
            &[1, 1, 6, 6],
            &[
                -0.125, -0.25, -0.796875, 0.171875, -0.375, -0.1875, -0.25, -0.5, -0.078125,
                0.34375, 0.765625, -0.375, -0.5, 0.515625, -0.578125, -0.15625, 0.265625, -0.625,
                -0.75, 0.015625, 0.4375, -0.65625, 1.28125, -0.875, -1.0, 1.03125, -0.0625,
                -1.15625, 0.78125, -1.125, -0.5, 0.515625, -0.03125, -0.578125, 0.390625, -0.5625,
            ],
        )],
    );
}

#[test]
fn avgpool_1d() {
    check(
        "AveragePool",
        11,
        &[seq(&[1, 2, 7], 1)],
        vec![
            ints("kernel_shape", &[3]),
            ints("strides", &[2]),
            ints("pads", &[1, 0]),
        ],
        &[(
            &[1, 2, 3],
            &[
                -0.96875,
                -0.083333336,
                -0.25,
                0.46875,
                -0.66666669,
                -0.83333331,
            ],
        )],
    );
}

#[test]
fn avgpool_3d() {
    check(
        "AveragePool",
        11,
        &[seq(&[1, 1, 3, 4, 5], 1)],
        vec![
            ints("kernel_shape", &[2, 2, 2]),
            ints("strides", &[1, 2, 2]),
            ints("pads", &[0, 1, 1, 1, 0, 1]),
        ],
        &[(
            &[1, 1, 3, 2, 3],
            &[
                -0.75, 0.640625, -0.03125, 0.140625, -0.7421875, -0.65625, 1.625, -0.015625,
                0.828125, -0.515625, 0.1171875, -0.5546875, 2.8125, -0.34375, 0.5, -0.84375,
                0.546875, -0.125,
            ],
        )],
    );
}

#[test]
fn global_avgpool() {
    check(
        "GlobalAveragePool",
        1,
        &[seq(&[2, 3, 4, 5], 1)],
        vec![],
        &[(
            &[2, 3, 1, 1],
            &[
                -0.203125,
                -0.25312501,
                0.0,
                0.25312501,
                0.203125,
                -0.15000001,
            ],
        )],
    );
}

#[test]
fn global_maxpool() {
    check(
        "GlobalMaxPool",
        1,
        &[seq(&[2, 3, 4, 5], 1)],
        vec![],
        &[(&[2, 3, 1, 1], &[2.875, 2.375, 2.8125, 3.0, 2.9375, 2.875])],
    );
}

#[test]
fn global_avgpool_1d() {
    check(
        "GlobalAveragePool",
        1,
        &[seq(&[2, 3, 7], 1)],
        vec![],
        &[(
            &[2, 3, 1],
            &[
                -0.45535713,
                -0.75,
                0.6875,
                0.39285713,
                -0.76785713,
                -0.19642857,
            ],
        )],
    );
}

#[test]
fn batchnorm() {
    check(
        "BatchNormalization",
        15,
        &[
            seq(&[2, 3, 2, 3], 1),
            pos(&[3], 2),
            seq(&[3], 3),
            seq(&[3], 4),
            pos(&[3], 5),
        ],
        vec![float("epsilon", 0.001)],
        &[(
            &[2, 3, 2, 3],
            &[
                -2.4254401,
                -0.8371824,
                0.75107527,
                -2.6303766,
                -1.0421189,
                0.54613876,
                2.5744312,
                4.5647702,
                6.555109,
                2.3176134,
                4.3079519,
                6.2982912,
                -10.847302,
                -2.2764783,
                6.2943459,
                14.86517,
                -3.382391,
                5.1884332,
                1.3146507,
                -2.0668011,
                -0.47854358,
                1.1097142,
                -2.2717376,
                -0.68348002,
                7.2613583,
                3.0238626,
                5.0142012,
                7.0045404,
                2.7670448,
                4.7573833,
                9.3356056,
                -8.9119549,
                -0.34113097,
                8.2296934,
                -10.017868,
                -1.4470437,
            ],
        )],
    );
}

#[test]
fn batchnorm_2d() {
    check(
        "BatchNormalization",
        9,
        &[
            seq(&[4, 3], 1),
            pos(&[3], 2),
            seq(&[3], 3),
            seq(&[3], 4),
            pos(&[3], 5),
        ],
        vec![],
        &[(
            &[4, 3],
            &[
                -2.4258997, 5.0790377, 10.728065, -2.6308722, 4.822165, 9.6212769, -2.835845,
                4.5652919, 8.5144882, -3.0408173, 4.3084192, 7.4077001,
            ],
        )],
    );
}

#[test]
fn batchnorm_train() {
    check(
        "BatchNormalization",
        15,
        &[
            seq(&[2, 3, 2, 2], 1),
            pos(&[3], 2),
            seq(&[3], 3),
            seq(&[3], 4),
            pos(&[3], 5),
        ],
        vec![int("training_mode", 1), float("momentum", 0.8)],
        &[
            (
                &[2, 3, 2, 2],
                &[
                    -0.97527969,
                    0.39139974,
                    1.7580792,
                    -1.1516254,
                    1.9942995,
                    3.9009891,
                    -0.1584146,
                    1.748275,
                    1.0482433,
                    -8.0448208,
                    -3.7738366,
                    0.49714828,
                    -1.6806628,
                    -0.3139832,
                    1.0526962,
                    2.4193759,
                    1.0102017,
                    2.9168913,
                    4.8235807,
                    0.7641772,
                    -1.156136,
                    3.1148486,
                    -5.9782162,
                    -1.7072309,
                ],
            ),
            (&[3], &[0.94218749, -2.3234375, -0.73906249]),
            (&[3], &[3.0099487, 2.354187, 1.004187]),
        ],
    );
}

#[test]
fn instancenorm() {
    check(
        "InstanceNormalization",
        6,
        &[seq(&[2, 3, 2, 5], 1), seq(&[3], 2), seq(&[3], 3)],
        vec![float("epsilon", 0.0001)],
        &[(
            &[2, 3, 2, 5],
            &[
                0.93915087,
                -0.069558084,
                -1.0782671,
                1.0693069,
                0.060597911,
                -0.94811106,
                1.1994629,
                0.19075391,
                -0.81795508,
                1.3296189,
                1.6263634,
                2.7799258,
                0.32395434,
                1.4775167,
                2.631079,
                3.7846413,
                1.3286699,
                2.4822321,
                3.6357944,
                1.1798232,
                -1.3034681,
                2.2952797,
                -5.3665705,
                -1.7678227,
                1.8309252,
                -5.830925,
                -2.2321773,
                1.3665707,
                -6.2952795,
                -2.6965318,
                -0.95461887,
                1.192955,
                0.18424609,
                -0.82446289,
                1.3231111,
                0.31440207,
                -0.69430691,
                1.4532671,
                0.44455808,
                -0.56415093,
                3.5118587,
                0.90409023,
                2.1289511,
                3.3538122,
                0.74604368,
                1.9709046,
                3.1957655,
                0.58799708,
                1.812858,
                3.037719,
                -4.5770888,
                -1.1186581,
                2.3397727,
                -5.0233378,
                -1.5649071,
                1.8935236,
                -5.4695873,
                -2.0111561,
                1.4472746,
                -5.9158363,
            ],
        )],
    );
}

#[test]
fn layernorm() {
    check(
        "LayerNormalization",
        17,
        &[seq(&[2, 3, 5], 1), seq(&[5], 2), seq(&[5], 3)],
        vec![],
        &[
            (
                &[2, 3, 5],
                &[
                    1.0364618,
                    2.4715898,
                    2.8679385,
                    1.2172159,
                    2.0041218,
                    -0.84816754,
                    1.0111289,
                    -2.0,
                    -1.2418929,
                    0.91330868,
                    0.32655412,
                    3.3336205,
                    -6.867939,
                    0.30447739,
                    2.6633217,
                    -0.84816754,
                    1.0111289,
                    -2.0,
                    -1.2418929,
                    0.91330868,
                    0.32655406,
                    3.3336205,
                    -6.867939,
                    0.30447733,
                    2.6633217,
                    1.0364618,
                    2.4715898,
                    2.8679385,
                    1.2172159,
                    2.0041218,
                ],
            ),
            (
                &[2, 3, 1],
                &[
                    -0.48750001,
                    -0.5,
                    -0.51249999,
                    0.6875,
                    0.67499995,
                    -0.55000001,
                ],
            ),
            (
                &[2, 3, 1],
                &[
                    0.66913247, 0.54108346, 0.66913253, 0.54108346, 0.66913253, 0.66913247,
                ],
            ),
        ],
    );
}

#[test]
fn layernorm_axis1() {
    check(
        "LayerNormalization",
        17,
        &[seq(&[2, 3, 4], 1), seq(&[3, 4], 2)],
        vec![int("axis", 1), float("epsilon", 0.001)],
        &[
            (
                &[2, 3, 4],
                &[
                    0.85088867,
                    0.24797326,
                    4.3176522,
                    1.2690398,
                    0.063208871,
                    3.5299723,
                    1.7649862,
                    -0.043759987,
                    2.8200884,
                    2.3387284,
                    -0.072933316,
                    2.1879995,
                    1.5006864,
                    -0.67525446,
                    1.3320088,
                    -1.713982,
                    -0.62954831,
                    0.83794677,
                    -1.903336,
                    -0.51419461,
                    0.41353214,
                    -2.0230429,
                    -0.32919335,
                    0.058765095,
                ],
            ),
            (&[2, 1, 1], &[-0.375, 0.140625]),
            (&[2, 1, 1], &[0.62236428, 0.55718017]),
        ],
    );
}

#[test]
fn layernorm_no_bias() {
    check(
        "LayerNormalization",
        17,
        &[seq(&[3, 4], 1), seq(&[4], 2)],
        vec![int("axis", -1)],
        &[(
            &[3, 4],
            &[
                0.73055136,
                0.3488588,
                4.4747739,
                1.1081398,
                -0.074858665,
                1.4998465,
                -4.2348604,
                0.096246801,
                -0.8618865,
                -1.5848157,
                -0.98501313,
                -0.93928039,
            ],
        )],
    );
}

#[test]
fn softmax_v13_last() {
    check(
        "Softmax",
        13,
        &[seq(&[2, 3, 4], 1)],
        vec![],
        &[(
            &[2, 3, 4],
            &[
                0.017573806,
                0.12198638,
                0.84675336,
                0.013686493,
                0.11321983,
                0.78590149,
                0.012702914,
                0.088175707,
                0.52433956,
                0.0084751593,
                0.05882927,
                0.40835607,
                0.0025603061,
                0.017772047,
                0.12336245,
                0.85630518,
                0.017573806,
                0.12198638,
                0.84675336,
                0.013686493,
                0.11321983,
                0.78590149,
                0.012702914,
                0.088175707,
            ],
        )],
    );
}

#[test]
fn softmax_v13_axis1() {
    check(
        "Softmax",
        13,
        &[seq(&[2, 3, 4], 1)],
        vec![int("axis", 1)],
        &[(
            &[2, 3, 4],
            &[
                0.028066052,
                0.15446402,
                0.92537838,
                0.028066052,
                0.15172365,
                0.8350246,
                0.011648795,
                0.15172365,
                0.82021028,
                0.010511409,
                0.062972791,
                0.82021028,
                0.028066052,
                0.028066052,
                0.15446402,
                0.92537838,
                0.15172365,
                0.15172365,
                0.8350246,
                0.011648795,
                0.82021028,
                0.82021028,
                0.010511409,
                0.062972791,
            ],
        )],
    );
}

#[test]
fn softmax_v11_axis1() {
    check(
        "Softmax",
        11,
        &[seq(&[2, 3, 4], 1)],
        vec![int("axis", 1)],
        &[(
            &[2, 3, 4],
            &[
                0.0062349713,
                0.043279279,
                0.30041775,
                0.0048558004,
                0.033705939,
                0.23396558,
                0.0037817014,
                0.02625021,
                0.18221258,
                0.0029451919,
                0.020443685,
                0.14190729,
                0.0010456837,
                0.0072584832,
                0.050383858,
                0.34973332,
                0.0056529124,
                0.039238993,
                0.27237257,
                0.0044024927,
                0.030559355,
                0.21212399,
                0.0034286648,
                0.02379965,
            ],
        )],
    );
}

#[test]
fn softmax_v1_default() {
    check(
        "Softmax",
        1,
        &[seq(&[2, 3, 4], 1)],
        vec![],
        &[(
            &[2, 3, 4],
            &[
                0.0062349713,
                0.043279279,
                0.30041775,
                0.0048558004,
                0.033705939,
                0.23396558,
                0.0037817014,
                0.02625021,
                0.18221258,
                0.0029451919,
                0.020443685,
                0.14190729,
                0.0010456837,
                0.0072584832,
                0.050383858,
                0.34973332,
                0.0056529124,
                0.039238993,
                0.27237257,
                0.0044024927,
                0.030559355,
                0.21212399,
                0.0034286648,
                0.02379965,
            ],
        )],
    );
}

#[test]
fn softmax_v11_axis0() {
    check(
        "Softmax",
        11,
        &[seq(&[2, 3, 4], 1)],
        vec![int("axis", 0)],
        &[(
            &[2, 3, 4],
            &[
                0.0019523883,
                0.013552262,
                0.094071336,
                0.0015205215,
                0.010554512,
                0.073262826,
                0.0011841834,
                0.0082198614,
                0.05705715,
                0.00092224294,
                0.0064016348,
                0.044436157,
                0.00071824354,
                0.0049855984,
                0.034606911,
                0.24021958,
                0.0038827879,
                0.02695189,
                0.1870832,
                0.0030239183,
                0.020990152,
                0.14570054,
                0.0023550298,
                0.016347148,
            ],
        )],
    );
}

#[test]
fn logsoftmax_v13_last() {
    check(
        "LogSoftmax",
        13,
        &[seq(&[2, 3, 4], 1)],
        vec![],
        &[(
            &[2, 3, 4],
            &[
                -4.0413456,
                -2.1038458,
                -0.16634579,
                -4.2913456,
                -2.1784239,
                -0.24092382,
                -4.3659239,
                -2.4284239,
                -0.64561582,
                -4.7706156,
                -2.8331158,
                -0.89561582,
                -5.9676285,
                -4.0301285,
                -2.0926285,
                -0.15512843,
                -4.0413456,
                -2.1038458,
                -0.16634579,
                -4.2913456,
                -2.1784239,
                -0.24092382,
                -4.3659239,
                -2.4284239,
            ],
        )],
    );
}

#[test]
fn logsoftmax_v13_axis1() {
    check(
        "LogSoftmax",
        13,
        &[seq(&[2, 3, 4], 1)],
        vec![int("axis", 1)],
        &[(
            &[2, 3, 4],
            &[
                -3.5731945,
                -1.867794,
                -0.077552535,
                -3.5731945,
                -1.8856945,
                -0.18029408,
                -4.4525523,
                -1.8856945,
                -0.19819453,
                -4.555294,
                -2.7650526,
                -0.19819453,
                -3.5731945,
                -3.5731945,
                -1.867794,
                -0.077552535,
                -1.8856945,
                -1.8856945,
                -0.18029408,
                -4.4525523,
                -0.19819453,
                -0.19819453,
                -4.555294,
                -2.7650526,
            ],
        )],
    );
}

#[test]
fn logsoftmax_v11_axis1() {
    check(
        "LogSoftmax",
        11,
        &[seq(&[2, 3, 4], 1)],
        vec![int("axis", 1)],
        &[(
            &[2, 3, 4],
            &[
                -5.0775814, -3.1400814, -1.2025813, -5.3275814, -3.3900814, -1.4525813, -5.5775814,
                -3.6400814, -1.7025813, -5.8275814, -3.8900814, -1.9525813, -6.8630843, -4.9255843,
                -2.9880843, -1.0505843, -5.1755843, -3.2380843, -1.3005843, -5.4255843, -3.4880843,
                -1.5505843, -5.6755843, -3.7380843,
            ],
        )],
    );
}

#[test]
fn logsoftmax_v1_default() {
    check(
        "LogSoftmax",
        1,
        &[seq(&[2, 3, 4], 1)],
        vec![],
        &[(
            &[2, 3, 4],
            &[
                -5.0775814, -3.1400814, -1.2025813, -5.3275814, -3.3900814, -1.4525813, -5.5775814,
                -3.6400814, -1.7025813, -5.8275814, -3.8900814, -1.9525813, -6.8630843, -4.9255843,
                -2.9880843, -1.0505843, -5.1755843, -3.2380843, -1.3005843, -5.4255843, -3.4880843,
                -1.5505843, -5.6755843, -3.7380843,
            ],
        )],
    );
}

#[test]
fn logsoftmax_v11_axis0() {
    check(
        "LogSoftmax",
        11,
        &[seq(&[2, 3, 4], 1)],
        vec![int("axis", 0)],
        &[(
            &[2, 3, 4],
            &[
                -6.2387018, -4.3012018, -2.3637018, -6.4887018, -4.5512018, -2.6137018, -6.7387018,
                -4.8012018, -2.8637018, -6.9887018, -5.0512018, -3.1137018, -7.2387018, -5.3012018,
                -3.3637018, -1.4262018, -5.5512018, -3.6137018, -1.6762018, -5.8012018, -3.8637018,
                -1.9262018, -6.0512018, -4.1137018,
            ],
        )],
    );
}

#[test]
fn hardmax_v13_last() {
    check(
        "Hardmax",
        13,
        &[seq(&[2, 3, 4], 1)],
        vec![],
        &[(
            &[2, 3, 4],
            &[
                0.0, 0.0, 1.0, 0.0, 0.0, 1.0, 0.0, 0.0, 1.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 1.0,
                0.0, 0.0, 1.0, 0.0, 0.0, 1.0, 0.0, 0.0,
            ],
        )],
    );
}

#[test]
fn hardmax_v13_axis1() {
    check(
        "Hardmax",
        13,
        &[seq(&[2, 3, 4], 1)],
        vec![int("axis", 1)],
        &[(
            &[2, 3, 4],
            &[
                0.0, 0.0, 1.0, 0.0, 0.0, 1.0, 0.0, 0.0, 1.0, 0.0, 0.0, 1.0, 0.0, 0.0, 0.0, 1.0,
                0.0, 0.0, 1.0, 0.0, 1.0, 1.0, 0.0, 0.0,
            ],
        )],
    );
}

#[test]
fn hardmax_v11_axis1() {
    check(
        "Hardmax",
        11,
        &[seq(&[2, 3, 4], 1)],
        vec![int("axis", 1)],
        &[(
            &[2, 3, 4],
            &[
                0.0, 0.0, 1.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 1.0,
                0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0,
            ],
        )],
    );
}

#[test]
fn hardmax_v1_default() {
    check(
        "Hardmax",
        1,
        &[seq(&[2, 3, 4], 1)],
        vec![],
        &[(
            &[2, 3, 4],
            &[
                0.0, 0.0, 1.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 1.0,
                0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0,
            ],
        )],
    );
}

#[test]
fn hardmax_v11_axis0() {
    check(
        "Hardmax",
        11,
        &[seq(&[2, 3, 4], 1)],
        vec![int("axis", 0)],
        &[(
            &[2, 3, 4],
            &[
                0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 1.0,
                0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0,
            ],
        )],
    );
}

#[test]
fn gelu() {
    check(
        "Gelu",
        20,
        &[seq(&[3, 7], 1)],
        vec![],
        &[(
            &[3, 7],
            &[
                -0.051037863,
                0.0,
                1.8864621,
                -0.031397268,
                -0.10032342,
                1.6102908,
                -0.018024366,
                -0.15426877,
                1.3292735,
                -0.0096734818,
                -0.16997051,
                1.0479507,
                -0.0048595853,
                -0.15865526,
                0.77413994,
                2.8691921,
                -0.13206221,
                0.51845485,
                2.6136274,
                -0.10021082,
                0.29274246,
            ],
        )],
    );
}

#[test]
fn gelu_tanh() {
    check(
        "Gelu",
        20,
        &[seq(&[3, 7], 1)],
        vec![string("approximate", "tanh")],
        &[(
            &[3, 7],
            &[
                -0.050993748,
                0.0,
                1.8865062,
                -0.031140996,
                -0.10032465,
                1.6101506,
                -0.017608993,
                -0.154286,
                1.3290445,
                -0.009200288,
                -0.17003945,
                1.0477401,
                -0.004426416,
                -0.15880796,
                0.77400935,
                2.8696427,
                -0.13228577,
                0.5184027,
                2.6140962,
                -0.10042843,
                0.29273191,
            ],
        )],
    );
}

#[test]
fn dropout_inference() {
    check(
        "Dropout",
        13,
        &[seq(&[2, 3], 1)],
        vec![],
        &[(&[2, 3], &[-1.9375, 0.0, 1.9375, -2.1875, -0.25, 1.6875])],
    );
}
