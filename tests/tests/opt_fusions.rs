//! Each fusion on a small model through the real runtime and CPU provider: the
//! output at `--level all` equals the unoptimized one, and the fused op is there.

use ndarray::{ArrayD, IxDyn};
use ort_graph::proto::{attribute_proto::AttributeType, AttributeProto, ModelProto, NodeProto};
use ort_runtime::{array, value, Level, Session};
use ort_tests::*;
use prost::Message;

fn seq(n: usize, seed: usize) -> Vec<f32> {
    (0..n)
        .map(|i| ((i * 29 + seed * 13) % 89) as f32 / 30.0 - 1.4)
        .collect()
}

fn ints_attr(name: &str, v: &[i64]) -> AttributeProto {
    AttributeProto {
        name: name.into(),
        ints: v.to_vec(),
        r#type: AttributeType::Ints as i32,
        ..Default::default()
    }
}

fn with(n: NodeProto, attrs: Vec<AttributeProto>) -> NodeProto {
    NodeProto {
        attribute: attrs,
        ..n
    }
}

/// Runs `m` on `x` at `level`; returns the output and the optimized graph's ops.
fn run(m: &ModelProto, tag: &str, x: &[i64], level: Level) -> (Vec<f32>, Vec<String>) {
    let dir = std::env::temp_dir().join(format!("ort-fusion-{}-{tag}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("model.onnx");
    std::fs::write(&path, m.encode_to_vec()).unwrap();
    let builder = || {
        Session::builder()
            .provider_dir(providers_dir())
            .optimization_level(level)
    };
    let s = builder().load(&path).unwrap();
    let n = x.iter().product::<i64>() as usize;
    let dims: Vec<usize> = x.iter().map(|&d| d as usize).collect();
    let input = ArrayD::from_shape_vec(IxDyn(&dims), seq(n, 1)).unwrap();
    let out = s.run(&[("x", value(input))], &[]).unwrap();
    let y = array::<f32>(&out[0]).unwrap().iter().copied().collect();
    let (opt, _) = builder().optimize(ort_graph::load(&path).unwrap()).unwrap();
    let ops = opt.graph.nodes.iter().map(|n| n.op_type.clone()).collect();
    (y, ops)
}

fn check(m: ModelProto, tag: &str, x: &[i64], want_ops: &[&str]) {
    let (base, _) = run(&m, tag, x, Level::Disable);
    let (got, ops) = run(&m, tag, x, Level::All);
    assert_eq!(ops, want_ops, "{tag}");
    assert_eq!(base.len(), got.len());
    for (a, b) in base.iter().zip(&got) {
        assert!((a - b).abs() <= 1e-4 + 1e-4 * a.abs(), "{tag}: {a} vs {b}");
    }
}

#[test]
fn conv_batchnorm_residual_relu() {
    let w = float_tensor("w", &[3, 3, 3, 3], &seq(81, 2));
    let bn: Vec<_> = ["s", "b", "m", "v"]
        .iter()
        .enumerate()
        .map(|(k, n)| {
            float_tensor(
                n,
                &[3],
                &seq(3, k + 3)
                    .iter()
                    .map(|v| v.abs() + 0.1)
                    .collect::<Vec<_>>(),
            )
        })
        .collect();
    let pads = || vec![ints_attr("pads", &[1, 1, 1, 1])];
    let mut inits = vec![w];
    inits.extend(bn);
    let m = model(
        vec![
            with(node("Conv", &["x", "w"], &["c"]), pads()),
            node("BatchNormalization", &["c", "s", "b", "m", "v"], &["n"]),
            with(node("Conv", &["n", "w"], &["c2"]), pads()),
            node("Add", &["c2", "n"], &["r"]),
            node("Relu", &["r"], &["y"]),
        ],
        vec![float_info("x", &[1, 3, 5, 5])],
        vec![float_info("y", &[1, 3, 5, 5])],
        inits,
    );
    check(m, "conv", &[1, 3, 5, 5], &["Conv", "FusedConv"]);
}

#[test]
fn matmul_bias_gelu_and_transposed_operand() {
    let c = |name: &str, v: f32| float_tensor(name, &[], &[v]);
    let m = model(
        vec![
            node("MatMul", &["x", "w"], &["h0"]),
            node("Add", &["h0", "b"], &["h"]),
            node("Div", &["h", "sqrt2"], &["d"]),
            node("Erf", &["d"], &["e"]),
            node("Add", &["e", "one"], &["a"]),
            node("Mul", &["h", "a"], &["g"]),
            node("Mul", &["g", "half"], &["gelu"]),
            with(
                node("Transpose", &["gelu"], &["t"]),
                vec![ints_attr("perm", &[0, 2, 1])],
            ),
            node("MatMul", &["t", "gelu"], &["y"]),
        ],
        vec![float_info("x", &[2, 3, 4])],
        vec![float_info("y", &[2, 5, 5])],
        vec![
            float_tensor("w", &[4, 5], &seq(20, 4)),
            float_tensor("b", &[5], &seq(5, 5)),
            c("sqrt2", std::f32::consts::SQRT_2),
            c("one", 1.0),
            c("half", 0.5),
        ],
    );
    // MatMul + bias + GELU become one node; the Transpose is read in place.
    check(m, "gelu", &[2, 3, 4], &["FusedMatMul", "FusedMatMul"]);
}

#[test]
fn attention_with_run_time_reshape_targets() {
    let perm = |p: &[i64]| vec![ints_attr("perm", p)];
    let mut nodes = Vec::new();
    // Q, K, V = x·W, split into 2 heads of 4 by Reshape targets built from Shape.
    for p in ["q", "k", "v"] {
        let s = |t: &str| format!("{p}_{t}");
        nodes.extend([
            node("MatMul", &["x", &s("w")], &[p]),
            node("Shape", &[p], &[&s("shape")]),
            with(
                node("Gather", &[&s("shape"), "i0"], &[&s("b")]),
                vec![int_attr("axis", 0)],
            ),
            with(
                node("Gather", &[&s("shape"), "i1"], &[&s("s")]),
                vec![int_attr("axis", 0)],
            ),
            node("Unsqueeze", &[&s("b"), "axes0"], &[&s("ub")]),
            node("Unsqueeze", &[&s("s"), "axes0"], &[&s("us")]),
            with(
                node(
                    "Concat",
                    &[&s("ub"), &s("us"), "minus1", "four"],
                    &[&s("target")],
                ),
                vec![int_attr("axis", 0)],
            ),
            node("Reshape", &[p, &s("target")], &[&s("r")]),
        ]);
    }
    nodes.extend([
        with(node("Transpose", &["q_r"], &["qt"]), perm(&[0, 2, 1, 3])),
        with(node("Transpose", &["k_r"], &["kt"]), perm(&[0, 2, 3, 1])),
        with(node("Transpose", &["v_r"], &["vt"]), perm(&[0, 2, 1, 3])),
        node("MatMul", &["qt", "kt"], &["qk"]),
        node("Div", &["qk", "two"], &["scaled"]),
        node("Add", &["scaled", "mask"], &["masked"]),
        with(
            node("Softmax", &["masked"], &["p"]),
            vec![int_attr("axis", -1)],
        ),
        node("MatMul", &["p", "vt"], &["pv"]),
        with(node("Transpose", &["pv"], &["o"]), perm(&[0, 2, 1, 3])),
        node("Shape", &["o"], &["o_shape"]),
        with(
            node("Gather", &["o_shape", "i0"], &["o_b"]),
            vec![int_attr("axis", 0)],
        ),
        with(
            node("Gather", &["o_shape", "i1"], &["o_s"]),
            vec![int_attr("axis", 0)],
        ),
        node("Unsqueeze", &["o_b", "axes0"], &["o_ub"]),
        node("Unsqueeze", &["o_s", "axes0"], &["o_us"]),
        with(
            node("Concat", &["o_ub", "o_us", "minus1"], &["o_target"]),
            vec![int_attr("axis", 0)],
        ),
        node("Reshape", &["o", "o_target"], &["y"]),
    ]);
    let i64s = |name: &str, dims: &[i64], v: &[i64]| ort_graph::proto::TensorProto {
        name: name.into(),
        dims: dims.to_vec(),
        data_type: ort_graph::proto::tensor_proto::DataType::Int64 as i32,
        int64_data: v.to_vec(),
        ..Default::default()
    };
    // A padding mask over the last two keys of the second batch.
    let mask: Vec<f32> = (0..2 * 5)
        .flat_map(|i| {
            let (b, _) = (i / 5, i % 5);
            (0..5).map(move |j| if b == 1 && j >= 3 { -1e4 } else { 0.0 })
        })
        .collect();
    let m = model(
        nodes,
        vec![float_info("x", &[2, 5, 8])],
        vec![float_info("y", &[2, 5, 8])],
        vec![
            float_tensor("q_w", &[8, 8], &seq(64, 6)),
            float_tensor("k_w", &[8, 8], &seq(64, 7)),
            float_tensor("v_w", &[8, 8], &seq(64, 8)),
            float_tensor("two", &[], &[2.0]),
            float_tensor("mask", &[2, 1, 5, 5], &mask),
            i64s("i0", &[], &[0]),
            i64s("i1", &[], &[1]),
            i64s("axes0", &[1], &[0]),
            i64s("minus1", &[1], &[-1]),
            i64s("four", &[1], &[4]),
        ],
    );
    check(
        m,
        "attention",
        &[2, 5, 8],
        &["MatMul", "MatMul", "MatMul", "MultiHeadAttention"],
    );
}

#[test]
fn decomposed_layer_norm_then_residual() {
    // LN(x + r) over the last axis, spelled out as before opset 17; at opset 13
    // it becomes the fused domain's LayerNormalization, at 17 ONNX's, and then
    // with the Add a SkipLayerNormalization. Without the Add, the plain LN.
    for opset in [13, 17] {
        let mean = |n: &str, x: &str| {
            with(
                node("ReduceMean", &[x], &[n]),
                vec![ints_attr("axes", &[-1])],
            )
        };
        let mut m = model(
            vec![
                node("Add", &["x", "r"], &["a"]),
                mean("m", "a"),
                node("Sub", &["a", "m"], &["d"]),
                node("Pow", &["d", "two"], &["sq"]),
                mean("v", "sq"),
                node("Add", &["v", "eps"], &["ve"]),
                node("Sqrt", &["ve"], &["s"]),
                node("Div", &["d", "s"], &["n"]),
                node("Mul", &["n", "scale"], &["ns"]),
                node("Add", &["ns", "bias"], &["y"]),
            ],
            vec![float_info("x", &[2, 3, 6])],
            vec![float_info("y", &[2, 3, 6])],
            vec![
                float_tensor("two", &[], &[2.0]),
                float_tensor("eps", &[], &[1e-5]),
                float_tensor("scale", &[6], &seq(6, 9)),
                float_tensor("bias", &[6], &seq(6, 10)),
                float_tensor("r", &[6], &seq(6, 11)),
            ],
        );
        m.opset_import[0].version = opset;
        let skip = m.clone();
        check(
            skip,
            &format!("skipln{opset}"),
            &[2, 3, 6],
            &["SkipLayerNormalization"],
        );
        let g = m.graph.as_mut().unwrap();
        g.node.remove(0);
        g.node[0].input[0] = "x".into();
        g.node[1].input[0] = "x".into();
        check(
            m,
            &format!("layernorm{opset}"),
            &[2, 3, 6],
            &["LayerNormalization"],
        );
    }
}
