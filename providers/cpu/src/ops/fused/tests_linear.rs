//! FusedConv, FusedGemm and FusedMatMul against the unfused ops they replace, run
//! through the same provider: the optimizer's rewrite must not change results.

use ort_core::abi::{AttrValue, Attribute};
use ort_core::Value;

use crate::testing::{assert_close, attr, f32s, out_f32, run_node, run_node_consts, run_node_in};

const FUSED: &str = "ai.ort_rs.fused";

fn data(n: usize, seed: usize) -> Vec<f32> {
    (0..n)
        .map(|i| ((i * 37 + seed * 11) % 101) as f32 / 25.0 - 2.0)
        .collect()
}

fn t(shape: &[i64], seed: usize) -> Option<Value> {
    f32s(shape, &data(shape.iter().product::<i64>() as usize, seed))
}

fn act(name: &str, params: &[f32]) -> Vec<Attribute<'static>> {
    let mut a = vec![attr(
        "activation",
        AttrValue::String(name.as_bytes().to_vec().into()),
    )];
    if !params.is_empty() {
        a.push(attr(
            "activation_params",
            AttrValue::Floats(params.to_vec().into()),
        ));
    }
    a
}

/// Runs the activation as its own ONNX node (Gelu at opset 20).
fn unfused_act(name: &str, params: &[f32], x: Option<Value>) -> Option<Value> {
    let f = |n: &str, v: f32| attr(n, AttrValue::Float(v));
    let (op, attrs, ins): (&str, Vec<Attribute<'static>>, Vec<Option<Value>>) = match name {
        "LeakyRelu" => ("LeakyRelu", vec![f("alpha", params[0])], vec![x]),
        "HardSigmoid" => (
            "HardSigmoid",
            vec![f("alpha", params[0]), f("beta", params[1])],
            vec![x],
        ),
        "Clip" => (
            "Clip",
            vec![],
            vec![x, f32s(&[], &[params[0]]), f32s(&[], &[params[1]])],
        ),
        "Gelu" => ("Gelu", vec![], vec![x]),
        "GeluTanh" => (
            "Gelu",
            vec![attr(
                "approximate",
                AttrValue::String(b"tanh".to_vec().into()),
            )],
            vec![x],
        ),
        other => (other, vec![], vec![x]),
    };
    run_node(op, 20, &ins, attrs, 1).unwrap().remove(0)
}

const ACTS: &[(&str, &[f32])] = &[
    ("Relu", &[]),
    ("Sigmoid", &[]),
    ("Tanh", &[]),
    ("LeakyRelu", &[0.1]),
    ("Clip", &[-0.5, 1.5]),
    ("HardSigmoid", &[0.2, 0.5]),
    ("HardSwish", &[]),
    ("Gelu", &[]),
    ("GeluTanh", &[]),
];

#[test]
fn fused_conv_matches_conv_add_activation() {
    for &(c, m, hw, group) in &[(3, 4, 5, 1), (4, 4, 7, 4), (1, 3, 1, 1), (6, 6, 17, 2)] {
        let x = t(&[2, c, hw, hw], 1);
        let w = t(&[m, c / group, 3, 3], 2);
        let b = t(&[m], 3);
        let z = t(&[2, m, hw, hw], 4);
        let conv_attrs = || {
            vec![
                attr("pads", AttrValue::Ints(vec![1, 1, 1, 1].into())),
                attr("group", AttrValue::Int(group)),
            ]
        };
        for &(name, params) in ACTS {
            let conv = run_node(
                "Conv",
                11,
                &[x.clone(), w.clone(), b.clone()],
                conv_attrs(),
                1,
            )
            .unwrap();
            let sum = run_node("Add", 14, &[conv[0].clone(), z.clone()], vec![], 1).unwrap();
            let want = unfused_act(name, params, sum[0].clone());
            let mut attrs = conv_attrs();
            attrs.extend(act(name, params));
            let got = run_node_in(
                FUSED,
                "FusedConv",
                1,
                &[x.clone(), w.clone(), b.clone(), z.clone()],
                attrs,
                1,
            )
            .unwrap();
            let (gs, gv) = out_f32(&got, 0);
            let (ws, wv) = out_f32(&[want], 0);
            assert_eq!(gs, ws);
            assert_close(&gv, &wv, 1e-5);
        }
    }
}

#[test]
fn fused_gemm_matches_gemm_activation() {
    for &(m, k, n) in &[(1, 3, 17), (3, 17, 1), (17, 5, 9)] {
        let (a, b, c) = (t(&[k, m], 5), t(&[n, k], 6), t(&[n], 7));
        let gemm_attrs = || {
            vec![
                attr("transA", AttrValue::Int(1)),
                attr("transB", AttrValue::Int(1)),
                attr("alpha", AttrValue::Float(0.5)),
            ]
        };
        for &(name, params) in ACTS {
            let g = run_node(
                "Gemm",
                13,
                &[a.clone(), b.clone(), c.clone()],
                gemm_attrs(),
                1,
            )
            .unwrap();
            let want = unfused_act(name, params, g[0].clone());
            let mut attrs = gemm_attrs();
            attrs.extend(act(name, params));
            let got = run_node_in(
                FUSED,
                "FusedGemm",
                1,
                &[a.clone(), b.clone(), c.clone()],
                attrs,
                1,
            )
            .unwrap();
            assert_close(&out_f32(&got, 0).1, &out_f32(&[want], 0).1, 1e-5);
        }
    }
}

#[test]
fn fused_matmul_matches_transpose_matmul_scale_bias_activation() {
    // A stored [2, 1, k, m] with transA, B stored [3, n, k] with transB: batches broadcast.
    for &(m, k, n) in &[(1, 3, 17), (3, 17, 1), (17, 5, 9)] {
        let (a, b, bias) = (t(&[2, 1, k, m], 8), t(&[3, n, k], 9), t(&[n], 10));
        let perm = |p: Vec<i64>| vec![attr("perm", AttrValue::Ints(p.into()))];
        let at = run_node(
            "Transpose",
            13,
            std::slice::from_ref(&a),
            perm(vec![0, 1, 3, 2]),
            1,
        )
        .unwrap();
        let bt = run_node(
            "Transpose",
            13,
            std::slice::from_ref(&b),
            perm(vec![0, 2, 1]),
            1,
        )
        .unwrap();
        let mm = run_node("MatMul", 13, &[at[0].clone(), bt[0].clone()], vec![], 1).unwrap();
        let scaled = run_node("Mul", 14, &[mm[0].clone(), f32s(&[], &[0.25])], vec![], 1).unwrap();
        let biased = run_node("Add", 14, &[scaled[0].clone(), bias.clone()], vec![], 1).unwrap();
        for &(name, params) in ACTS {
            let want = unfused_act(name, params, biased[0].clone());
            let mut attrs = vec![
                attr("transA", AttrValue::Int(1)),
                attr("transB", AttrValue::Int(1)),
                attr("alpha", AttrValue::Float(0.25)),
            ];
            attrs.extend(act(name, params));
            let got = run_node_in(
                FUSED,
                "FusedMatMul",
                1,
                &[a.clone(), b.clone(), bias.clone()],
                attrs,
                1,
            )
            .unwrap();
            let (gs, gv) = out_f32(&got, 0);
            let (ws, wv) = out_f32(&[want], 0);
            assert_eq!(gs, ws, "{m}x{k}x{n}");
            assert_close(&gv, &wv, 1e-5);
        }
    }
}

#[test]
fn bad_activations_are_refused() {
    let (a, b) = (t(&[2, 3], 1), t(&[3, 2], 2));
    let e = run_node_in(
        FUSED,
        "FusedMatMul",
        1,
        &[a.clone(), b.clone()],
        act("Swoosh", &[]),
        1,
    )
    .unwrap_err();
    assert!(
        e.message().contains("unknown activation 'Swoosh'"),
        "{}",
        e.message()
    );
    let e = run_node_in(FUSED, "FusedMatMul", 1, &[a, b], act("LeakyRelu", &[]), 1).unwrap_err();
    assert!(
        e.message().contains("takes 1 activation_params"),
        "{}",
        e.message()
    );
}

#[test]
fn conv_max_pool_matches_conv_then_max_pool() {
    let ints = |v: &[i64]| AttrValue::Ints(v.to_vec().into());
    // (channels in, out, input side, conv kernel, stride, pad; pool stride,
    // pad, ceil mode; activation): small and large enough to split over
    // threads, several bands per thread, pool strides 1 and 2, an activation
    // applied after the bias, none, and pooled rows too narrow for the
    // banded kernel (its fallback).
    let cases: &[([i64; 9], &str)] = &[
        ([2, 4, 60, 3, 2, 1, 2, 1, 0], "Relu"),
        ([3, 16, 64, 3, 2, 0, 2, 0, 1], "Relu"),
        ([3, 8, 70, 7, 2, 3, 2, 1, 0], "Relu"),
        ([3, 128, 200, 3, 2, 0, 2, 0, 1], "Relu"),
        ([4, 12, 61, 3, 2, 1, 1, 1, 0], "HardSwish"),
        ([3, 40, 90, 3, 2, 1, 2, 1, 1], ""),
        ([3, 4, 20, 3, 2, 1, 2, 1, 0], "Relu"),
    ];
    for &([c, m, hw, k, s, pad, ps, pp, ceil], name) in cases {
        let (x, w, b) = (t(&[1, c, hw, hw], 1), t(&[m, c, k, k], 2), t(&[m], 3));
        let conv_attrs = || {
            vec![
                attr("kernel_shape", ints(&[k, k])),
                attr("strides", ints(&[s, s])),
                attr("pads", ints(&[pad; 4])),
            ]
        };
        let pool = |prefix: &str| {
            vec![
                attr(&format!("{prefix}kernel_shape"), ints(&[3, 3])),
                attr(&format!("{prefix}strides"), ints(&[ps, ps])),
                attr(&format!("{prefix}pads"), ints(&[pp; 4])),
                attr(&format!("{prefix}ceil_mode"), AttrValue::Int(ceil)),
            ]
        };
        let conv = run_node(
            "Conv",
            11,
            &[x.clone(), w.clone(), b.clone()],
            conv_attrs(),
            1,
        );
        let mut y = conv.unwrap().remove(0);
        if !name.is_empty() {
            y = unfused_act(name, &[], y);
        }
        let want = run_node("MaxPool", 12, &[y], pool(""), 1).unwrap();
        let attrs = || {
            let mut a = conv_attrs();
            if !name.is_empty() {
                a.extend(act(name, &[]));
            }
            a.extend(pool("pool_"));
            a
        };
        let ins = [x, w, b];
        // Weights as given on each run, and as a constant packed at build.
        for consts in [&[][..], &[1]] {
            let got = run_node_consts(FUSED, "ConvMaxPool", 1, &ins, consts, attrs(), 1);
            let (gs, gv) = out_f32(&got.unwrap(), 0);
            let (ws, wv) = out_f32(&want, 0);
            assert_eq!(gs, ws, "case {c} {m} {hw} {k}");
            assert_close(&gv, &wv, 1e-5);
        }
    }
}
