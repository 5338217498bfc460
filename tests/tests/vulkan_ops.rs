//! Each Vulkan shader against the CPU provider on pseudo-random inputs, odd
//! sizes included (1, 3, 17, 1023): the same one-node model runs with
//! `vulkan,cpu` and with `cpu` alone, the node must land on Vulkan, and the
//! outputs must agree.
//!
//! Needs a Vulkan device; software ones (lavapipe) are enabled here. Without one
//! the tests say so and pass, unless `ORT_REQUIRE_VULKAN=1` (set by
//! `cargo xtask test` when CI installed lavapipe), when they fail.

use ndarray::{ArrayD, IxDyn};
use ort_graph::proto::{AttributeProto, ModelProto, NodeProto};
use ort_runtime::{array, value, Level, Session};
use ort_tests::*;
use prost::Message;

#[path = "vulkan_ops/nn.rs"]
mod nn;
#[path = "vulkan_ops/tensor.rs"]
mod tensor;

/// Deterministic values in [lo, hi).
fn data(n: usize, seed: u64, lo: f32, hi: f32) -> Vec<f32> {
    let mut s = seed
        .wrapping_mul(6364136223846793005)
        .wrapping_add(1442695040888963407);
    (0..n)
        .map(|_| {
            s = s
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            lo + (hi - lo) * ((s >> 40) as f32 / (1u64 << 24) as f32)
        })
        .collect()
}

/// Writes `m` to a folder of its own and loads it with the test providers and
/// whatever `configure` adds.
fn load_with(
    m: &ModelProto,
    tag: &str,
    configure: impl FnOnce(ort_runtime::SessionBuilder) -> ort_runtime::SessionBuilder,
) -> Session {
    let path = model_dir(tag).join("model.onnx");
    std::fs::write(&path, m.encode_to_vec()).unwrap();
    configure(Session::builder().provider_dir(providers_dir()))
        .load(&path)
        .unwrap()
}

fn model_dir(tag: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("ort-vk-{}-{tag}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn session(m: &ModelProto, tag: &str, providers: &[&str]) -> Session {
    // The shaders are under test, not the fusions (which make fused-domain ops).
    load_with(m, tag, |b| {
        b.providers(providers).optimization_level(Level::Disable)
    })
}

/// Whether Vulkan can run here; panics when it must and cannot.
fn vulkan(test: &str) -> bool {
    // Set before any provider is probed.
    std::env::set_var("ORT_VULKAN_SOFTWARE", "1");
    let m = model(
        vec![node("Relu", &["x"], &["y"])],
        vec![float_info("x", &[1])],
        vec![float_info("y", &[1])],
        vec![],
    );
    let s = session(&m, &format!("probe-{test}"), &["vulkan", "cpu"]);
    let ok = s.provider_names().contains(&"vulkan");
    if !ok {
        let why = s.warnings().join("; ");
        assert!(
            std::env::var("ORT_REQUIRE_VULKAN").as_deref() != Ok("1"),
            "ORT_REQUIRE_VULKAN=1 but the Vulkan provider is unavailable: {why}"
        );
        eprintln!("skipping: no Vulkan device ({why})");
    }
    ok
}

/// A graph input's value.
pub enum Feed {
    F32(Vec<i64>, Vec<f32>),
    /// Float16 values, given as the float32 they round from.
    F16(Vec<i64>, Vec<f32>),
    I64(Vec<i64>, Vec<i64>),
}

impl Feed {
    fn value(&self) -> ort_runtime::Value {
        let dims = |s: &[i64]| IxDyn(&s.iter().map(|&d| d as usize).collect::<Vec<_>>()).clone();
        match self {
            Feed::F32(s, v) => value(ArrayD::from_shape_vec(dims(s), v.clone()).unwrap()),
            Feed::I64(s, v) => value(ArrayD::from_shape_vec(dims(s), v.clone()).unwrap()),
            Feed::F16(s, v) => {
                let h: Vec<half::f16> = v.iter().map(|&x| half::f16::from_f32(x)).collect();
                value(ArrayD::from_shape_vec(dims(s), h).unwrap())
            }
        }
    }
}

/// Runs `m` on `inputs` with Vulkan and with the CPU alone; asserts every node
/// ran on Vulkan and the outputs agree.
fn check(m: ModelProto, tag: &str, inputs: &[(&str, Vec<i64>, Vec<f32>)]) {
    let feeds: Vec<(&str, Feed)> = inputs
        .iter()
        .map(|(n, s, v)| (*n, Feed::F32(s.clone(), v.clone())))
        .collect();
    check_feeds(m, tag, &feeds, &[]);
}

/// As [`check`], with integer inputs too, every output compared, and the nodes
/// whose op is in `cpu_ops` expected on the CPU instead.
pub fn check_feeds(m: ModelProto, tag: &str, feeds: &[(&str, Feed)], cpu_ops: &[&str]) {
    let vk = session(&m, tag, &["vulkan", "cpu"]);
    for n in &vk.explain().nodes {
        let want = if cpu_ops.contains(&n.op.as_str()) {
            "cpu"
        } else {
            "vulkan"
        };
        assert_eq!(
            n.provider, want,
            "{tag}: {} went to {} ({:?})",
            n.node, n.provider, n.declined
        );
    }
    let cpu = session(&m, tag, &["cpu"]);
    let feed = || {
        feeds
            .iter()
            .map(|(n, f)| (*n, f.value()))
            .collect::<Vec<_>>()
    };
    let (a, b) = (
        vk.run(&feed(), &[]).unwrap(),
        cpu.run(&feed(), &[]).unwrap(),
    );
    assert_eq!(a.len(), b.len(), "{tag}");
    for (k, (a, b)) in a.iter().zip(&b).enumerate() {
        let (a, b) = (a.tensor().unwrap(), b.tensor().unwrap());
        assert_eq!(a.shape(), b.shape(), "{tag}: output {k}");
        assert_eq!(a.elem(), b.elem(), "{tag}: output {k}");
        // float16: one unit in the last place (2^-10 relative) either way.
        let (atol, rtol) = match a.elem() {
            ort_core::ElemType::F16 => (1e-4, 1e-3),
            _ => (1e-5, 1e-4),
        };
        let (a, b) = (a.to_f64_vec().unwrap(), b.to_f64_vec().unwrap());
        for (i, (x, y)) in a.iter().zip(b.iter()).enumerate() {
            let close =
                (x - y).abs() <= atol + rtol * y.abs() || (x.is_nan() && y.is_nan()) || x == y;
            assert!(
                close,
                "{tag}: output {k} element {i}: vulkan {x} vs cpu {y}"
            );
        }
    }
}

fn with(n: NodeProto, attrs: Vec<AttributeProto>) -> NodeProto {
    NodeProto {
        attribute: attrs,
        ..n
    }
}

fn float_attr(name: &str, v: f32) -> AttributeProto {
    AttributeProto {
        name: name.into(),
        f: v,
        r#type: ort_graph::proto::attribute_proto::AttributeType::Float as i32,
        ..Default::default()
    }
}

const SIZES: [i64; 4] = [1, 3, 17, 1023];

#[test]
fn unary_ops() {
    if !vulkan("unary_ops") {
        return;
    }
    let plain = [
        "Relu",
        "Sigmoid",
        "Tanh",
        "Erf",
        "Exp",
        "Neg",
        "Abs",
        "HardSwish",
        "Floor",
        "Ceil",
        "Sin",
        "Cos",
        "Identity",
        "Gelu",
    ];
    let positive = ["Sqrt", "Log", "Reciprocal"];
    for op in plain.iter().chain(&positive) {
        for (k, &n) in SIZES.iter().enumerate() {
            let lo = if positive.contains(op) { 0.05 } else { -6.0 };
            let mut m = model(
                vec![node(op, &["x"], &["y"])],
                vec![float_info("x", &[n])],
                vec![float_info("y", &[n])],
                vec![],
            );
            m.opset_import[0].version = 20;
            check(
                m,
                &format!("{op}{n}"),
                &[("x", vec![n], data(n as usize, k as u64, lo, 6.0))],
            );
        }
    }
    let with_attrs = [
        ("LeakyRelu", vec![float_attr("alpha", 0.3)]),
        (
            "HardSigmoid",
            vec![float_attr("alpha", 0.25), float_attr("beta", 0.4)],
        ),
    ];
    for (op, attrs) in with_attrs {
        let m = model(
            vec![with(node(op, &["x"], &["y"]), attrs)],
            vec![float_info("x", &[17])],
            vec![float_info("y", &[17])],
            vec![],
        );
        check(m, op, &[("x", vec![17], data(17, 9, -4.0, 4.0))]);
    }
    let m = model(
        vec![node("Clip", &["x", "lo", "hi"], &["y"])],
        vec![float_info("x", &[1023])],
        vec![float_info("y", &[1023])],
        vec![
            float_tensor("lo", &[], &[-0.5]),
            float_tensor("hi", &[], &[1.5]),
        ],
    );
    check(m, "clip", &[("x", vec![1023], data(1023, 4, -3.0, 3.0))]);
}

#[test]
fn binary_ops_with_broadcasting() {
    if !vulkan("binary_ops_with_broadcasting") {
        return;
    }
    let shapes: [(&[i64], &[i64]); 5] = [
        (&[1], &[1]),
        (&[3], &[3]),
        (&[17, 1], &[1, 3]),
        (&[2, 3, 1023], &[3, 1]),
        (&[1023], &[]),
    ];
    for op in ["Add", "Sub", "Mul", "Div", "Pow", "Max", "Min"] {
        for (k, (sa, sb)) in shapes.iter().enumerate() {
            let out = broadcast(sa, sb);
            let m = model(
                vec![node(op, &["x", "z"], &["y"])],
                vec![float_info("x", sa), float_info("z", sb)],
                vec![float_info("y", &out)],
                vec![],
            );
            let count = |s: &[i64]| s.iter().product::<i64>() as usize;
            // Pow: positive bases with any exponent; Div: divisors away from 0.
            let (xlo, zlo) = match op {
                "Pow" => (0.1, -2.0),
                "Div" => (-3.0, 0.5),
                _ => (-3.0, -3.0),
            };
            check(
                m,
                &format!("{op}{k}"),
                &[
                    ("x", sa.to_vec(), data(count(sa), k as u64, xlo, 3.0)),
                    ("z", sb.to_vec(), data(count(sb), 7 + k as u64, zlo, 3.0)),
                ],
            );
        }
    }
    // A negative base with integral exponents (ONNX defines it; pow() does not).
    let m = model(
        vec![node("Pow", &["x", "z"], &["y"])],
        vec![float_info("x", &[4]), float_info("z", &[4])],
        vec![float_info("y", &[4])],
        vec![],
    );
    check(
        m,
        "pow_negative",
        &[
            ("x", vec![4], vec![-2.0, -1.5, -3.0, 0.0]),
            ("z", vec![4], vec![3.0, 2.0, 0.0, 2.0]),
        ],
    );
}

fn broadcast(a: &[i64], b: &[i64]) -> Vec<i64> {
    let r = a.len().max(b.len());
    let d = |s: &[i64], k: usize| {
        if k + s.len() < r {
            1
        } else {
            s[k + s.len() - r]
        }
    };
    (0..r).map(|k| d(a, k).max(d(b, k))).collect()
}

#[test]
fn matmul_sizes_and_batch_broadcasting() {
    if !vulkan("matmul_sizes_and_batch_broadcasting") {
        return;
    }
    let cases: [(&[i64], &[i64]); 6] = [
        (&[1, 1], &[1, 1]),
        (&[3, 17], &[17, 3]),
        (&[17, 1023], &[1023, 3]),
        (&[2, 17, 5], &[5, 33]),
        (&[3, 1, 3, 4], &[1, 2, 4, 2]),
        (&[4, 1, 17], &[2, 1, 17, 16]),
    ];
    for (k, (sa, sb)) in cases.iter().enumerate() {
        let (ra, rb) = (sa.len(), sb.len());
        let mut out = broadcast(&sa[..ra - 2], &sb[..rb - 2]);
        out.extend([sa[ra - 2], sb[rb - 1]]);
        let m = model(
            vec![node("MatMul", &["x", "z"], &["y"])],
            vec![float_info("x", sa), float_info("z", sb)],
            vec![float_info("y", &out)],
            vec![],
        );
        let count = |s: &[i64]| s.iter().product::<i64>() as usize;
        check(
            m,
            &format!("matmul{k}"),
            &[
                ("x", sa.to_vec(), data(count(sa), k as u64, -1.0, 1.0)),
                ("z", sb.to_vec(), data(count(sb), 5 + k as u64, -1.0, 1.0)),
            ],
        );
    }
}

#[test]
fn a_chain_stays_on_the_device() {
    if !vulkan("a_chain_stays_on_the_device") {
        return;
    }
    // x·W + b → Gelu → ·W2 with constant weights: one partition, three dispatches.
    let m = model(
        vec![
            node("MatMul", &["x", "w"], &["h"]),
            node("Add", &["h", "b"], &["hb"]),
            node("Relu", &["hb"], &["r"]),
            node("MatMul", &["r", "w2"], &["y"]),
        ],
        vec![float_info("x", &[2, 3, 8])],
        vec![float_info("y", &[2, 3, 4])],
        vec![
            float_tensor("w", &[8, 16], &data(128, 1, -0.5, 0.5)),
            float_tensor("b", &[16], &data(16, 2, -0.5, 0.5)),
            float_tensor("w2", &[16, 4], &data(64, 3, -0.5, 0.5)),
        ],
    );
    let vk = session(&m, "chain", &["vulkan", "cpu"]);
    assert_eq!(vk.explain().counts.get("vulkan").map(|c| c.1), Some(1));
    check(m, "chain", &[("x", vec![2, 3, 8], data(48, 4, -1.0, 1.0))]);
}

fn ints(name: &str, v: &[i64]) -> AttributeProto {
    AttributeProto {
        name: name.into(),
        ints: v.to_vec(),
        r#type: ort_graph::proto::attribute_proto::AttributeType::Ints as i32,
        ..Default::default()
    }
}

fn i64_tensor(name: &str, dims: &[i64], v: &[i64]) -> ort_graph::proto::TensorProto {
    ort_graph::proto::TensorProto {
        name: name.into(),
        dims: dims.to_vec(),
        data_type: ort_graph::proto::tensor_proto::DataType::Int64 as i32,
        int64_data: v.to_vec(),
        ..Default::default()
    }
}

#[test]
fn softmax_rows_of_every_size() {
    if !vulkan("softmax_rows_of_every_size") {
        return;
    }
    for op in ["Softmax", "LogSoftmax"] {
        for (k, &n) in SIZES.iter().enumerate() {
            let shape = [3, n];
            let m = model(
                vec![node(op, &["x"], &["y"])],
                vec![float_info("x", &shape)],
                vec![float_info("y", &shape)],
                vec![],
            );
            check(
                m,
                &format!("{op}{n}"),
                &[(
                    "x",
                    shape.to_vec(),
                    data(3 * n as usize, k as u64, -8.0, 8.0),
                )],
            );
        }
    }
}

#[test]
fn transpose_and_views() {
    if !vulkan("transpose_and_views") {
        return;
    }
    // Transpose → Reshape (constant target) → Unsqueeze → Squeeze → Flatten, the
    // views' result read back as the output.
    let m = model(
        vec![
            with(
                node("Transpose", &["x"], &["t"]),
                vec![ints("perm", &[2, 0, 1])],
            ),
            node("Reshape", &["t", "target"], &["r"]),
            node("Unsqueeze", &["r", "axes"], &["u"]),
            node("Squeeze", &["u", "axes"], &["s"]),
            with(node("Flatten", &["s"], &["y"]), vec![int_attr("axis", 1)]),
        ],
        vec![float_info("x", &[3, 17, 5])],
        vec![float_info("y", &[5, 51])],
        vec![
            i64_tensor("target", &[3], &[5, -1, 17]),
            i64_tensor("axes", &[1], &[1]),
        ],
    );
    check(
        m,
        "views",
        &[("x", vec![3, 17, 5], data(255, 3, -1.0, 1.0))],
    );
    let m = model(
        vec![node("Transpose", &["x"], &["y"])],
        vec![float_info("x", &[2, 3, 1023])],
        vec![float_info("y", &[1023, 3, 2])],
        vec![],
    );
    check(
        m,
        "reverse",
        &[("x", vec![2, 3, 1023], data(6 * 1023, 5, -1.0, 1.0))],
    );
}

#[test]
fn fused_matmul_and_gemm_at_level_all() {
    if !vulkan("fused_matmul_and_gemm_at_level_all") {
        return;
    }
    // At `all`, MatMul + bias + Relu becomes FusedMatMul and Gemm + Sigmoid a
    // FusedGemm: Vulkan lowers both to its shaders.
    let m = model(
        vec![
            node("MatMul", &["x", "w"], &["h"]),
            node("Add", &["h", "b"], &["hb"]),
            node("Relu", &["hb"], &["r"]),
            node("Reshape", &["r", "flat"], &["f"]),
            with(
                node("Gemm", &["f", "w2", "c"], &["g"]),
                vec![int_attr("transB", 1), float_attr("alpha", 0.5)],
            ),
            node("Sigmoid", &["g"], &["y"]),
        ],
        vec![float_info("x", &[2, 3, 8])],
        vec![float_info("y", &[6, 4])],
        vec![
            float_tensor("w", &[8, 16], &data(128, 1, -0.5, 0.5)),
            float_tensor("b", &[16], &data(16, 2, -0.5, 0.5)),
            i64_tensor("flat", &[2], &[-1, 16]),
            float_tensor("w2", &[4, 16], &data(64, 3, -0.5, 0.5)),
            float_tensor("c", &[4], &data(4, 4, -0.5, 0.5)),
        ],
    );
    let vk = load_with(&m, "fused", |b| b.providers(&["vulkan", "cpu"]));
    let ops: Vec<(&str, &str)> = vk
        .explain()
        .nodes
        .iter()
        .map(|n| (n.op.as_str(), n.provider.as_str()))
        .collect();
    assert!(ops.contains(&("FusedMatMul", "vulkan")), "{ops:?}");
    assert!(ops.contains(&("FusedGemm", "vulkan")), "{ops:?}");
    let x = data(48, 4, -1.0, 1.0);
    let run = |s: &Session| {
        let v = value(ArrayD::from_shape_vec(IxDyn(&[2, 3, 8]), x.clone()).unwrap());
        array::<f32>(&s.run(&[("x", v)], &[]).unwrap()[0])
            .unwrap()
            .iter()
            .copied()
            .collect::<Vec<f32>>()
    };
    let cpu = session(&m, "fused-cpu", &["cpu"]);
    for (a, b) in run(&vk).iter().zip(run(&cpu)) {
        assert!(
            (a - b).abs() <= 1e-5 + 1e-4 * b.abs(),
            "vulkan {a} vs cpu {b}"
        );
    }
}

#[test]
fn values_stay_on_the_device_between_partitions() {
    if !vulkan("values_stay_on_the_device_between_partitions") {
        return;
    }
    // Relu and Add are two Vulkan partitions (Round, which Vulkan lacks, runs
    // between them on the CPU). Relu's output goes to Add in device memory: the
    // only copies are x up, Round's output up and y down.
    let m = model(
        vec![
            node("Relu", &["x"], &["a"]),
            node("Round", &["x"], &["b"]),
            node("Add", &["a", "b"], &["y"]),
        ],
        vec![float_info("x", &[3, 17])],
        vec![float_info("y", &[3, 17])],
        vec![],
    );
    let profile = model_dir("resident").join("profile.json");
    let vk = load_with(&m, "resident", |b| {
        b.providers(&["vulkan", "cpu"])
            .optimization_level(Level::Disable)
            .profiling(profile)
    });
    assert_eq!(vk.explain().counts.get("vulkan").map(|c| c.1), Some(2));
    let x = data(51, 3, -3.0, 3.0);
    let v = value(ArrayD::from_shape_vec(IxDyn(&[3, 17]), x.clone()).unwrap());
    let y = array::<f32>(&vk.run(&[("x", v)], &[]).unwrap()[0]).unwrap();
    for (got, x) in y.iter().zip(&x) {
        let want = x.max(0.0) + x.round_ties_even();
        assert!((got - want).abs() <= 1e-6, "{got} vs {want}");
    }
    let trace = std::fs::read_to_string(vk.end_profiling().unwrap()).unwrap();
    let copies: Vec<&str> = trace
        .match_indices("\"MemcpyTransfer\"")
        .map(|(_, s)| s)
        .collect();
    assert_eq!(copies.len(), 3, "{trace}");
}

/// An initializer that a graph input may override is copied to the device once,
/// at session creation; a run that overrides it must compute with the value it
/// was given, not with that copy.
#[test]
fn an_overridden_initializer_reaches_the_device() {
    if !vulkan("override") {
        return;
    }
    let (m, k, n) = (3usize, 4usize, 5usize);
    let x: Vec<f32> = (0..m * k).map(|i| i as f32 / 4.0 - 1.0).collect();
    let w: Vec<f32> = (0..k * n).map(|i| (i % 7) as f32 / 3.0 - 1.0).collect();
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
    let s = session(&model, "override", &["vulkan", "cpu"]);
    assert!(s.provider_names().contains(&"vulkan"));
    let product = |w: &[f32]| -> Vec<f32> {
        (0..m * n)
            .map(|o| (0..k).map(|p| x[o / n * k + p] * w[p * n + o % n]).sum())
            .collect()
    };
    let arr = |d: &[usize], v: &[f32]| value(ArrayD::from_shape_vec(IxDyn(d), v.to_vec()).unwrap());
    let got = |feeds: &[(&str, ort_runtime::Value)]| -> Vec<f32> {
        array::<f32>(&s.run(feeds, &[]).unwrap()[0])
            .unwrap()
            .iter()
            .copied()
            .collect()
    };
    let xv = arr(&[m, k], &x);
    for (feeds, want) in [
        (vec![("x", xv.clone())], product(&w)),
        (
            vec![("x", xv.clone()), ("w", arr(&[k, n], &w2))],
            product(&w2),
        ),
        (vec![("x", xv.clone())], product(&w)),
    ] {
        let y = got(&feeds);
        for (g, e) in y.iter().zip(&want) {
            assert!((g - e).abs() <= 1e-4 * (1.0 + e.abs()), "{y:?} vs {want:?}");
        }
    }
}
