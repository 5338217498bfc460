//! Convolution, pooling, normalization and reductions, and the fused ops that
//! contain them, against the CPU provider.

use super::*;
use ort_graph::proto::tensor_proto::DataType;
use ort_graph::proto::{type_proto, OperatorSetIdProto, TypeProto, ValueInfoProto};

/// A value-info of element type `elem` with no shape (left to inference).
pub fn any_info(name: &str, elem: DataType) -> ValueInfoProto {
    ValueInfoProto {
        name: name.into(),
        r#type: Some(TypeProto {
            denotation: String::new(),
            value: Some(type_proto::Value::TensorType(type_proto::Tensor {
                elem_type: elem as i32,
                shape: None,
            })),
        }),
        ..Default::default()
    }
}

pub fn string_attr(name: &str, v: &str) -> AttributeProto {
    AttributeProto {
        name: name.into(),
        s: v.as_bytes().to_vec(),
        r#type: ort_graph::proto::attribute_proto::AttributeType::String as i32,
        ..Default::default()
    }
}

/// One node on float inputs `x` (fed) and constant float tensors.
fn one(
    op: NodeProto,
    x: &[i64],
    consts: &[(&str, &[i64])],
    outputs: &[&str],
) -> (ModelProto, Vec<(&'static str, Feed)>) {
    let count = |s: &[i64]| s.iter().product::<i64>() as usize;
    let inits = consts
        .iter()
        .enumerate()
        .map(|(k, (n, s))| float_tensor(n, s, &data(count(s), 100 + k as u64, -1.0, 1.0)))
        .collect();
    let m = model(
        vec![op],
        vec![float_info("x", x)],
        outputs
            .iter()
            .map(|o| any_info(o, DataType::Float))
            .collect(),
        inits,
    );
    (
        m,
        vec![("x", Feed::F32(x.to_vec(), data(count(x), 7, -2.0, 2.0)))],
    )
}

/// Puts every node in the fused domain and imports it.
fn fused(mut m: ModelProto) -> ModelProto {
    m.opset_import.push(OperatorSetIdProto {
        domain: "ai.ort_rs.fused".into(),
        version: 1,
    });
    for n in &mut m.graph.as_mut().unwrap().node {
        n.domain = "ai.ort_rs.fused".into();
    }
    m
}

#[test]
fn conv_groups_strides_pads_dilations() {
    if !vulkan("conv") {
        return;
    }
    type Case<'a> = (&'a [i64], &'a [i64], Vec<AttributeProto>, bool);
    let cases: Vec<Case> = vec![
        (
            &[1, 3, 17, 17],
            &[4, 3, 3, 3],
            vec![ints("pads", &[1, 1, 1, 1]), ints("strides", &[2, 2])],
            true,
        ),
        (
            &[1, 6, 9, 9],
            &[6, 1, 3, 3],
            vec![int_attr("group", 6), ints("dilations", &[2, 2])],
            false,
        ),
        (&[2, 3, 1023], &[5, 3, 3], vec![ints("pads", &[2, 0])], true),
        (
            &[1, 4, 7, 5],
            &[6, 2, 3, 2],
            vec![
                int_attr("group", 2),
                string_attr("auto_pad", "SAME_UPPER"),
                ints("strides", &[2, 1]),
            ],
            true,
        ),
        (&[1, 17, 3, 3], &[1, 17, 1, 1], vec![], false),
        (
            &[1, 2, 5, 6],
            &[3, 2, 2, 3],
            vec![
                string_attr("auto_pad", "SAME_LOWER"),
                ints("strides", &[2, 2]),
            ],
            true,
        ),
    ];
    for (k, (x, w, attrs, bias)) in cases.into_iter().enumerate() {
        let b = [w[0]];
        let mut ins = vec!["x", "w"];
        let mut consts: Vec<(&str, &[i64])> = vec![("w", w)];
        if bias {
            ins.push("b");
            consts.push(("b", &b));
        }
        let (m, feeds) = one(
            with(node("Conv", &ins, &["y"]), attrs.clone()),
            x,
            &consts,
            &["y"],
        );
        check_feeds(m, &format!("conv{k}"), &feeds, &[]);
        // The same as FusedConv with a residual and an activation.
        let r = [x[0], w[0]];
        let (m, feeds) = one(with(node("Conv", &ins, &["c"]), attrs), x, &consts, &["c"]);
        let vk = session(&m, &format!("conv{k}-shape"), &["cpu"]);
        let c = vk.run(&[("x", feeds[0].1.value())], &[]).unwrap();
        let shape: Vec<i64> = array::<f32>(&c[0])
            .unwrap()
            .shape()
            .iter()
            .map(|&d| d as i64)
            .collect();
        assert_eq!(&shape[..2], &r[..]);
        let mut fins = ins.clone();
        if !bias {
            fins.push("");
        }
        fins.push("z");
        let mut node_attrs = vec![string_attr("activation", "LeakyRelu")];
        node_attrs.push(AttributeProto {
            name: "activation_params".into(),
            floats: vec![0.2],
            r#type: ort_graph::proto::attribute_proto::AttributeType::Floats as i32,
            ..Default::default()
        });
        let conv_attrs = m.graph.as_ref().unwrap().node[0].attribute.clone();
        node_attrs.extend(conv_attrs);
        let mut consts2 = consts.clone();
        consts2.push(("z", &shape));
        let (m, feeds) = one(
            with(node("FusedConv", &fins, &["y"]), node_attrs),
            x,
            &consts2,
            &["y"],
        );
        check_feeds(fused(m), &format!("fusedconv{k}"), &feeds, &[]);
    }
}

#[test]
fn pools() {
    if !vulkan("pools") {
        return;
    }
    let cases: Vec<(&str, &[i64], Vec<AttributeProto>)> = vec![
        (
            "MaxPool",
            &[1, 3, 17, 17],
            vec![
                ints("kernel_shape", &[3, 3]),
                ints("strides", &[2, 2]),
                ints("pads", &[1, 1, 1, 1]),
            ],
        ),
        (
            "MaxPool",
            &[1, 3, 1023],
            vec![ints("kernel_shape", &[3]), ints("dilations", &[2])],
        ),
        (
            "MaxPool",
            &[1, 2, 6, 7],
            vec![
                ints("kernel_shape", &[2, 3]),
                ints("strides", &[2, 2]),
                int_attr("ceil_mode", 1),
            ],
        ),
        (
            "AveragePool",
            &[2, 3, 9, 9],
            vec![
                ints("kernel_shape", &[3, 3]),
                ints("strides", &[2, 2]),
                ints("pads", &[1, 1, 1, 1]),
            ],
        ),
        (
            "AveragePool",
            &[2, 3, 9, 9],
            vec![
                ints("kernel_shape", &[3, 3]),
                ints("strides", &[2, 2]),
                ints("pads", &[1, 1, 1, 1]),
                int_attr("count_include_pad", 1),
            ],
        ),
        (
            "AveragePool",
            &[1, 1, 7, 7],
            vec![
                ints("kernel_shape", &[3, 3]),
                ints("strides", &[2, 2]),
                int_attr("ceil_mode", 1),
                int_attr("count_include_pad", 1),
                ints("pads", &[0, 0, 1, 1]),
            ],
        ),
        (
            "AveragePool",
            &[1, 2, 5, 5],
            vec![
                ints("kernel_shape", &[2, 2]),
                string_attr("auto_pad", "SAME_UPPER"),
            ],
        ),
        ("GlobalAveragePool", &[1, 17, 3, 3], vec![]),
        ("GlobalAveragePool", &[2, 3, 1023], vec![]),
        ("GlobalMaxPool", &[1, 3, 17, 17], vec![]),
    ];
    for (k, (op, x, attrs)) in cases.into_iter().enumerate() {
        let (m, feeds) = one(with(node(op, &["x"], &["y"]), attrs), x, &[], &["y"]);
        check_feeds(m, &format!("{op}{k}"), &feeds, &[]);
    }
}

#[test]
fn batch_and_layer_normalization() {
    if !vulkan("normalization") {
        return;
    }
    for (k, x) in [&[2, 3, 17, 5][..], &[1, 1023], &[3, 4, 1]]
        .into_iter()
        .enumerate()
    {
        let c = [x[1]];
        let mut m = one(
            with(
                node(
                    "BatchNormalization",
                    &["x", "s", "b", "mean", "var"],
                    &["y"],
                ),
                vec![float_attr("epsilon", 1e-3)],
            ),
            x,
            &[("s", &c), ("b", &c), ("mean", &c), ("var", &c)],
            &["y"],
        );
        // Variances must be positive.
        let var = &mut m.0.graph.as_mut().unwrap().initializer[3].float_data;
        var.iter_mut().for_each(|v| *v = v.abs() + 0.1);
        check_feeds(m.0, &format!("bn{k}"), &m.1, &[]);
    }
    for (k, (x, axis)) in [
        (&[3, 1023][..], -1),
        (&[2, 3, 17], 1),
        (&[5, 1], -1),
        (&[4, 300], 1),
    ]
    .into_iter()
    .enumerate()
    {
        let norm: Vec<i64> = x[(axis as usize).min(x.len() - 1)..].to_vec();
        let norm = if axis < 0 {
            x[x.len() - 1..].to_vec()
        } else {
            norm
        };
        let (m, feeds) = one(
            with(
                node("LayerNormalization", &["x", "s", "b"], &["y"]),
                vec![int_attr("axis", axis)],
            ),
            x,
            &[("s", &norm), ("b", &norm)],
            &["y"],
        );
        check_feeds(m, &format!("ln{k}"), &feeds, &[]);
        let (m, feeds) = one(
            with(
                node("LayerNormalization", &["x", "s"], &["y"]),
                vec![int_attr("axis", axis), float_attr("epsilon", 0.1)],
            ),
            x,
            &[("s", &norm)],
            &["y"],
        );
        check_feeds(m, &format!("ln-nobias{k}"), &feeds, &[]);
    }
    // SkipLayerNormalization with both outputs, a bias and a broadcast skip.
    for (k, x) in [&[2, 3, 17][..], &[1, 1, 1023]].into_iter().enumerate() {
        let d = [x[2]];
        let (m, feeds) = one(
            node(
                "SkipLayerNormalization",
                &["x", "skip", "s", "b", "bias"],
                &["y", "sum"],
            ),
            x,
            &[("skip", &x[1..]), ("s", &d), ("b", &d), ("bias", &d)],
            &["y", "sum"],
        );
        check_feeds(fused(m), &format!("skipln{k}"), &feeds, &[]);
    }
}

#[test]
fn reductions() {
    if !vulkan("reductions") {
        return;
    }
    let ops = [
        "ReduceSum",
        "ReduceMean",
        "ReduceMax",
        "ReduceMin",
        "ReduceProd",
        "ReduceSumSquare",
        "ReduceL1",
        "ReduceL2",
        "ReduceLogSumExp",
    ];
    type Case<'a> = (&'a [i64], Option<&'a [i64]>, i64);
    let cases: [Case; 6] = [
        (&[3, 17, 5], Some(&[1]), 1),
        (&[3, 17, 5], None, 0),
        (&[2, 3, 17], Some(&[0, 2]), 0),
        (&[1023], Some(&[-1]), 1),
        (&[1], Some(&[0]), 0),
        (&[4, 3, 2], Some(&[-3, -1]), 1),
    ];
    for op in ops {
        for (k, (x, axes, keep)) in cases.iter().enumerate() {
            let mut attrs = vec![int_attr("keepdims", *keep)];
            if let Some(a) = axes {
                attrs.push(ints("axes", a));
            }
            // Opset 17: axes are an attribute (except for ReduceSum).
            let mut n = with(node(op, &["x"], &["y"]), attrs);
            let mut inits = vec![];
            if op == "ReduceSum" {
                n.attribute.retain(|a| a.name != "axes");
                if let Some(a) = axes {
                    n.input.push("axes".into());
                    inits.push(i64_tensor("axes", &[a.len() as i64], a));
                }
            }
            let count = x.iter().product::<i64>() as usize;
            let lo = if op == "ReduceProd" { 0.7 } else { -2.0 };
            let m = model(
                vec![n],
                vec![float_info("x", x)],
                vec![any_info("y", DataType::Float)],
                inits,
            );
            let feeds = [("x", Feed::F32(x.to_vec(), data(count, k as u64, lo, 1.3)))];
            check_feeds(m, &format!("{op}{k}"), &feeds, &[]);
        }
    }
}

#[test]
fn multi_head_attention() {
    if !vulkan("multi_head_attention") {
        return;
    }
    // (B, Sq, Sk, H, D), causal, with a mask
    for (k, (b, sq, sk, h, d, causal, mask)) in [
        (1, 3, 3, 2, 4, 0, false),
        (2, 5, 7, 3, 2, 1, true),
        (1, 17, 17, 1, 17, 1, false),
        (1, 1, 9, 4, 3, 0, true),
    ]
    .into_iter()
    .enumerate()
    {
        let (q, kv) = ([b, sq, h * d], [b, sk, h * d]);
        let mut ins = vec!["q", "k", "v"];
        let mshape = [b, 1, 1, sk];
        let mut consts: Vec<(&str, &[i64])> = vec![("k", &kv), ("v", &kv)];
        if mask {
            ins.push("mask");
            consts.push(("mask", &mshape));
        }
        let attrs = vec![
            int_attr("num_heads", h),
            int_attr("causal", causal),
            float_attr("scale", 0.4),
        ];
        let (mut m, feeds) = one(
            with(node("MultiHeadAttention", &ins, &["y"]), attrs),
            &q,
            &consts,
            &["y"],
        );
        m.graph.as_mut().unwrap().input[0].name = "q".into();
        let feeds = vec![("q", feeds.into_iter().next().unwrap().1)];
        check_feeds(fused(m), &format!("mha{k}"), &feeds, &[]);
    }
}
