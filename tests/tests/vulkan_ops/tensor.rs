//! Data movement (Concat, Split, Slice, Expand, Gather, Where, Cast, views with
//! shapes computed at run time) against the CPU provider.

use super::nn::any_info;
use super::*;
use ort_graph::proto::tensor_proto::DataType;

fn count(s: &[i64]) -> usize {
    s.iter().product::<i64>() as usize
}

fn f32_feed(name: &'static str, s: &[i64], seed: u64) -> (&'static str, Feed) {
    (name, Feed::F32(s.to_vec(), data(count(s), seed, -2.0, 2.0)))
}

fn int_info(name: &str) -> ort_graph::proto::ValueInfoProto {
    any_info(name, DataType::Int64)
}

#[test]
fn concat_and_split() {
    if !vulkan("concat_and_split") {
        return;
    }
    for (k, axis) in [0i64, 1, -1].into_iter().enumerate() {
        let shapes: [Vec<i64>; 3] = [1, 3, 17].map(|n| {
            let mut s = vec![2, 3, 5];
            let a = if axis < 0 { 2 } else { axis as usize };
            s[a] = n;
            s
        });
        let m = model(
            vec![with(
                node("Concat", &["a", "b", "c"], &["y"]),
                vec![int_attr("axis", axis)],
            )],
            vec![
                float_info("a", &shapes[0]),
                float_info("b", &shapes[1]),
                float_info("c", &shapes[2]),
            ],
            vec![any_info("y", DataType::Float)],
            vec![],
        );
        let feeds = [
            f32_feed("a", &shapes[0], 1),
            f32_feed("b", &shapes[1], 2),
            f32_feed("c", &shapes[2], 3),
        ];
        check_feeds(m, &format!("concat{k}"), &feeds, &[]);
    }
    // Sizes from a constant, and equal parts.
    let m = model(
        vec![with(
            node("Split", &["x", "sizes"], &["a", "b", "c"]),
            vec![int_attr("axis", 1)],
        )],
        vec![float_info("x", &[2, 21, 3])],
        vec!["a", "b", "c"]
            .into_iter()
            .map(|o| any_info(o, DataType::Float))
            .collect(),
        vec![i64_tensor("sizes", &[3], &[1, 3, 17])],
    );
    check_feeds(m, "split-sizes", &[f32_feed("x", &[2, 21, 3], 4)], &[]);
    let m = model(
        vec![node("Split", &["x"], &["a", "b", "c"])],
        vec![float_info("x", &[1023, 3])],
        vec!["a", "b", "c"]
            .into_iter()
            .map(|o| any_info(o, DataType::Float))
            .collect(),
        vec![],
    );
    check_feeds(m, "split-equal", &[f32_feed("x", &[1023, 3], 5)], &[]);
}

#[test]
fn slice_steps_and_runtime_bounds() {
    if !vulkan("slice") {
        return;
    }
    // (starts, ends, axes, steps) on [5, 17, 1023]
    type Case<'a> = (&'a [i64], &'a [i64], &'a [i64], &'a [i64]);
    let cases: [Case; 5] = [
        (&[1], &[4], &[0], &[1]),
        (&[-1], &[-1024], &[2], &[-3]),
        (&[0, 16, 2], &[5, 0, 1000], &[0, 1, 2], &[2, -1, 7]),
        (&[3], &[i64::MAX], &[1], &[1]),
        (&[2], &[2], &[0], &[1]),
    ];
    let x = [5, 17, 1023];
    for (k, (s, e, a, st)) in cases.into_iter().enumerate() {
        let len = [s.len() as i64];
        let m = model(
            vec![node("Slice", &["x", "s", "e", "a", "st"], &["y"])],
            vec![float_info("x", &x), int_info("s"), int_info("e")],
            vec![any_info("y", DataType::Float)],
            vec![i64_tensor("a", &len, a), i64_tensor("st", &len, st)],
        );
        // Starts and ends are graph inputs: host integers read at run time.
        let feeds = [
            f32_feed("x", &x, k as u64),
            ("s", Feed::I64(len.to_vec(), s.to_vec())),
            ("e", Feed::I64(len.to_vec(), e.to_vec())),
        ];
        check_feeds(m, &format!("slice{k}"), &feeds, &[]);
    }
}

#[test]
fn expand_gather_where_cast() {
    if !vulkan("expand_gather_where_cast") {
        return;
    }
    let m = model(
        vec![node("Expand", &["x", "shape"], &["y"])],
        vec![float_info("x", &[3, 1])],
        vec![any_info("y", DataType::Float)],
        vec![i64_tensor("shape", &[3], &[2, 3, 17])],
    );
    check_feeds(m, "expand", &[f32_feed("x", &[3, 1], 1)], &[]);
    for (k, (x, axis, idx)) in [
        (&[17, 3][..], 0i64, &[0i64, 16, -1, 3][..]),
        (&[2, 1023, 3], 1, &[1022, -1023, 5]),
        (&[3, 1], 1, &[0]),
    ]
    .into_iter()
    .enumerate()
    {
        let m = model(
            vec![with(
                node("Gather", &["x", "i"], &["y"]),
                vec![int_attr("axis", axis)],
            )],
            vec![float_info("x", x), int_info("i")],
            vec![any_info("y", DataType::Float)],
            vec![],
        );
        let feeds = [
            f32_feed("x", x, k as u64),
            ("i", Feed::I64(vec![idx.len() as i64], idx.to_vec())),
        ];
        check_feeds(m, &format!("gather{k}"), &feeds, &[]);
    }
    // An index out of range is an error, not a read past the buffer.
    let m = model(
        vec![node("Gather", &["x", "i"], &["y"])],
        vec![float_info("x", &[3, 2]), int_info("i")],
        vec![any_info("y", DataType::Float)],
        vec![],
    );
    let vk = session(&m, "gather-oob", &["vulkan", "cpu"]);
    let x = Feed::F32(vec![3, 2], data(6, 1, 0.0, 1.0));
    let err = vk
        .run(
            &[("x", x.value()), ("i", Feed::I64(vec![1], vec![3]).value())],
            &[],
        )
        .unwrap_err();
    assert!(err.to_string().contains("out of range"), "{err}");
    // Where: the condition from a comparison the CPU makes, broadcast.
    let m = model(
        vec![
            node("Greater", &["c", "zero"], &["cond"]),
            node("Where", &["cond", "x", "z"], &["y"]),
        ],
        vec![
            float_info("c", &[3, 1]),
            float_info("x", &[2, 1, 17]),
            float_info("z", &[17]),
        ],
        vec![any_info("y", DataType::Float)],
        vec![float_tensor("zero", &[], &[0.0])],
    );
    let feeds = [
        f32_feed("c", &[3, 1], 1),
        f32_feed("x", &[2, 1, 17], 2),
        f32_feed("z", &[17], 3),
    ];
    check_feeds(m, "where", &feeds, &["Greater"]);
    // Cast of host integers, and of floats.
    let m = model(
        vec![
            with(node("Cast", &["i"], &["f"]), vec![int_attr("to", 1)]),
            with(node("Cast", &["f"], &["y"]), vec![int_attr("to", 1)]),
        ],
        vec![int_info("i")],
        vec![any_info("y", DataType::Float)],
        vec![],
    );
    let feeds = [(
        "i",
        Feed::I64(
            vec![1023],
            (0..1023).map(|v| v * 7919 - 4_000_000).collect(),
        ),
    )];
    check_feeds(m, "cast", &feeds, &[]);
}

#[test]
fn views_with_run_time_shapes() {
    if !vulkan("views_with_run_time_shapes") {
        return;
    }
    // Shape → Gather → Concat on the CPU makes the Reshape target; the Reshape
    // and Unsqueeze/Squeeze with axes inputs run on Vulkan.
    let m = model(
        vec![
            node("Shape", &["x"], &["s"]),
            with(
                node("Gather", &["s", "zero"], &["n"]),
                vec![int_attr("axis", 0)],
            ),
            with(
                node("Concat", &["n", "minus1"], &["target"]),
                vec![int_attr("axis", 0)],
            ),
            node("Relu", &["x"], &["r"]),
            node("Reshape", &["r", "target"], &["f"]),
            node("Unsqueeze", &["f", "axes"], &["u"]),
            node("Squeeze", &["u", "axes"], &["y"]),
        ],
        vec![float_info("x", &[3, 17, 5])],
        vec![any_info("y", DataType::Float)],
        vec![
            i64_tensor("zero", &[1], &[0]),
            i64_tensor("minus1", &[1], &[-1]),
            i64_tensor("axes", &[2], &[0, -1]),
        ],
    );
    check_feeds(
        m,
        "runtime-reshape",
        &[f32_feed("x", &[3, 17, 5], 9)],
        &["Shape", "Gather", "Concat"],
    );
}

fn f16_tensor(name: &str, dims: &[i64], v: &[f32]) -> ort_graph::proto::TensorProto {
    ort_graph::proto::TensorProto {
        name: name.into(),
        dims: dims.to_vec(),
        data_type: DataType::Float16 as i32,
        raw_data: v
            .iter()
            .flat_map(|&x| half::f16::from_f32(x).to_le_bytes())
            .collect(),
        ..Default::default()
    }
}

/// A float16 value-info with a fixed shape.
fn f16_info(name: &str, dims: &[i64]) -> ort_graph::proto::ValueInfoProto {
    use ort_graph::proto::type_proto::Value;
    let mut info = float_info(name, dims);
    if let Some(Value::TensorType(t)) = info.r#type.as_mut().and_then(|t| t.value.as_mut()) {
        t.elem_type = DataType::Float16 as i32;
    }
    info
}

#[test]
fn float16_nodes_round_like_the_cpu() {
    if !vulkan("float16") {
        return;
    }
    let h = DataType::Float16;
    let f16_feed = |name: &'static str, s: &[i64], seed: u64| {
        (name, Feed::F16(s.to_vec(), data(count(s), seed, -2.0, 2.0)))
    };
    // (node, input shape, constant inputs)
    type Case<'a> = (NodeProto, &'a [i64], Vec<(&'a str, Vec<i64>)>);
    let cases: Vec<Case> = vec![
        (
            node("Add", &["x", "c"], &["y"]),
            &[3, 17],
            vec![("c", vec![17])],
        ),
        (
            node("Mul", &["x", "c"], &["y"]),
            &[1023],
            vec![("c", vec![1])],
        ),
        (
            node("MatMul", &["x", "c"], &["y"]),
            &[17, 33],
            vec![("c", vec![33, 5])],
        ),
        (node("Sigmoid", &["x"], &["y"]), &[1023], vec![]),
        (node("Tanh", &["x"], &["y"]), &[3], vec![]),
        (node("Transpose", &["x"], &["y"]), &[3, 17], vec![]),
        (
            with(
                node("LayerNormalization", &["x", "c"], &["y"]),
                vec![int_attr("axis", -1)],
            ),
            &[3, 17],
            vec![("c", vec![17])],
        ),
        (
            node("Conv", &["x", "c"], &["y"]),
            &[1, 3, 9, 9],
            vec![("c", vec![4, 3, 3, 3])],
        ),
        (
            with(node("ReduceMean", &["x"], &["y"]), vec![ints("axes", &[1])]),
            &[3, 17],
            vec![],
        ),
    ];
    for (k, (n, x, consts)) in cases.into_iter().enumerate() {
        let inits = consts
            .iter()
            .enumerate()
            .map(|(j, (c, s))| f16_tensor(c, s, &data(count(s), 50 + j as u64, -1.0, 1.0)))
            .collect();
        let op = n.op_type.clone();
        let m = model(
            vec![n],
            vec![f16_info("x", x)],
            vec![any_info("y", h)],
            inits,
        );
        check_feeds(
            m,
            &format!("f16-{op}{k}"),
            &[f16_feed("x", x, k as u64)],
            &[],
        );
    }
    // Casts into and out of float16.
    let m = model(
        vec![
            with(
                node("Cast", &["x"], &["h"]),
                vec![int_attr("to", DataType::Float16 as i64)],
            ),
            node("Sqrt", &["h"], &["s"]),
            with(
                node("Cast", &["s"], &["y"]),
                vec![int_attr("to", DataType::Float as i64)],
            ),
        ],
        vec![float_info("x", &[1023])],
        vec![any_info("y", DataType::Float)],
        vec![],
    );
    let x = Feed::F32(vec![1023], data(1023, 3, 0.0, 70000.0));
    check_feeds(m, "f16-cast", &[("x", x)], &[]);
    // With f16=0 a float16 node goes to the CPU, saying why.
    let m = model(
        vec![node("Relu", &["x"], &["y"])],
        vec![any_info("x", h)],
        vec![any_info("y", h)],
        vec![],
    );
    let s = load_with(&m, "nof16", |b| {
        b.providers(&["vulkan", "cpu"])
            .provider_option("vulkan", "f16", "0")
    });
    let n = &s.explain().nodes[0];
    assert_eq!(n.provider, "cpu");
    assert!(
        n.declined
            .iter()
            .any(|(p, why)| p == "vulkan" && why.contains("f16=1")),
        "{:?}",
        n.declined
    );
}
