//! MultiHeadAttention against the exported chain it replaces (Reshape, Transpose,
//! MatMul, Div, Add, Softmax), each node run by the provider's own kernel.

use ort_core::abi::{AttrValue, Attribute};
use ort_core::{ElemType, Tensor, Value};

use crate::testing::{assert_close, attr, f32s, i64s, out_f32, run_node, run_node_in};

const FUSED: &str = "ai.ort_rs.fused";

fn data(n: usize, seed: usize) -> Vec<f32> {
    (0..n)
        .map(|i| ((i * 37 + seed * 11) % 101) as f32 / 25.0 - 2.0)
        .collect()
}

fn t(shape: &[i64], seed: usize) -> (Vec<i64>, Vec<f32>) {
    (
        shape.to_vec(),
        data(shape.iter().product::<i64>() as usize, seed),
    )
}

fn val((s, d): &(Vec<i64>, Vec<f32>)) -> Option<Value> {
    f32s(s, d)
}

fn one(op: &str, ins: &[Option<Value>], attrs: Vec<Attribute<'static>>) -> Option<Value> {
    run_node(op, 17, ins, attrs, 1).unwrap().remove(0)
}

fn perm(p: &[i64]) -> Vec<Attribute<'static>> {
    vec![attr("perm", AttrValue::Ints(p.to_vec().into()))]
}

/// Splits packed `[B, S, H·W]` into heads and applies `p`.
fn heads(x: Option<Value>, b: i64, s: i64, h: i64, p: &[i64]) -> Option<Value> {
    let r = one("Reshape", &[x, i64s(&[4], &[b, s, h, -1])], vec![]);
    one("Transpose", &[r], perm(p))
}

struct Case {
    b: i64,
    sq: i64,
    sk: i64,
    h: i64,
    d: i64,
    dv: i64,
}

/// The unfused chain; `mask` is already additive, causal hiding is added as
/// `-inf` entries.
fn reference(
    c: &Case,
    q: &(Vec<i64>, Vec<f32>),
    k: &(Vec<i64>, Vec<f32>),
    v: &(Vec<i64>, Vec<f32>),
    mask: Option<&(Vec<i64>, Vec<f32>)>,
    causal: bool,
    scale: Option<f32>,
) -> Vec<f32> {
    let qt = heads(val(q), c.b, c.sq, c.h, &[0, 2, 1, 3]);
    let kt = heads(val(k), c.b, c.sk, c.h, &[0, 2, 3, 1]);
    let vt = heads(val(v), c.b, c.sk, c.h, &[0, 2, 1, 3]);
    let mut s = one("MatMul", &[qt, kt], vec![]);
    s = match scale {
        None => one("Div", &[s, f32s(&[], &[(c.d as f32).sqrt()])], vec![]),
        Some(a) => one("Mul", &[s, f32s(&[], &[a])], vec![]),
    };
    if let Some(m) = mask {
        s = one("Add", &[s, val(m)], vec![]);
    }
    if causal {
        let (sq, sk) = (c.sq as usize, c.sk as usize);
        let cm: Vec<f32> = (0..sq * sk)
            .map(|x| {
                let (i, j) = (x / sk, x % sk);
                if j + sq > i + sk {
                    f32::NEG_INFINITY
                } else {
                    0.0
                }
            })
            .collect();
        s = one("Add", &[s, f32s(&[c.sq, c.sk], &cm)], vec![]);
    }
    let axis = vec![attr("axis", AttrValue::Int(-1))];
    let p = one("Softmax", &[s], axis);
    let o = one("MatMul", &[p, vt], vec![]);
    let o = one("Transpose", &[o], perm(&[0, 2, 1, 3]));
    let y = one(
        "Reshape",
        &[o, i64s(&[3], &[c.b, c.sq, c.h * c.dv])],
        vec![],
    );
    out_f32(&[y], 0).1
}

fn fused_attrs(h: i64, causal: bool, scale: Option<f32>) -> Vec<Attribute<'static>> {
    let mut a = vec![attr("num_heads", AttrValue::Int(h))];
    if causal {
        a.push(attr("causal", AttrValue::Int(1)));
    }
    if let Some(s) = scale {
        a.push(attr("scale", AttrValue::Float(s)));
    }
    a
}

fn check(c: Case, mask_shape: Option<&[i64]>, causal: bool, scale: Option<f32>) {
    check_on(c, mask_shape, causal, scale, 1);
}

fn check_on(c: Case, mask_shape: Option<&[i64]>, causal: bool, scale: Option<f32>, threads: usize) {
    let q = t(&[c.b, c.sq, c.h * c.d], 1);
    let k = t(&[c.b, c.sk, c.h * c.d], 2);
    let v = t(&[c.b, c.sk, c.h * c.dv], 3);
    let mask = mask_shape.map(|s| {
        let (s, d) = t(s, 4);
        // Some hidden positions, as padding masks have, next to small offsets.
        let d = d
            .iter()
            .map(|&x| if x > 1.5 { -10000.0 } else { x })
            .collect();
        (s, d)
    });
    let want = reference(&c, &q, &k, &v, mask.as_ref(), causal, scale);
    let mut ins = vec![val(&q), val(&k), val(&v)];
    if let Some(m) = &mask {
        ins.push(val(m));
    }
    let outs = run_node_in(
        FUSED,
        "MultiHeadAttention",
        1,
        &ins,
        fused_attrs(c.h, causal, scale),
        threads,
    )
    .unwrap();
    let (shape, got) = out_f32(&outs, 0);
    assert_eq!(shape, vec![c.b, c.sq, c.h * c.dv]);
    assert_close(&got, &want, 1e-5);
}

#[test]
fn matches_the_unfused_chain_over_sizes() {
    for s in [1, 3, 17] {
        for h in [1, 2, 4] {
            for d in [8, 16] {
                let c = |b| Case {
                    b,
                    sq: s,
                    sk: s,
                    h,
                    d,
                    dv: d,
                };
                check(c(2), None, false, None);
                check(c(1), None, false, Some(0.25));
                check(c(2), Some(&[2, 1, 1, s]), false, None);
                check(c(2), None, true, None);
                check(c(2), Some(&[2, 1, 1, s]), true, None);
            }
        }
    }
}

#[test]
fn cross_attention_with_other_value_width_and_scale() {
    let c = || Case {
        b: 2,
        sq: 3,
        sk: 17,
        h: 2,
        d: 8,
        dv: 16,
    };
    check(c(), None, false, Some(0.3));
    check(c(), Some(&[2, 2, 3, 17]), false, None);
    // Causal with fewer queries than keys: query i sees keys up to i + Sk − Sq.
    check(c(), Some(&[17]), true, Some(0.5));
    check(c(), Some(&[3, 17]), true, None);
}

#[test]
fn long_sequences_split_into_row_blocks() {
    let c = Case {
        b: 1,
        sq: 130,
        sk: 130,
        h: 2,
        d: 8,
        dv: 8,
    };
    check(c, Some(&[1, 1, 1, 130]), true, None);
}

#[test]
fn row_blocks_shared_by_threads() {
    // Rows split into blocks that cover every head, in batches of uneven blocks.
    for threads in [2, 3] {
        let c = |sk| Case {
            b: 2,
            sq: 70,
            sk,
            h: 3,
            d: 16,
            dv: 8,
        };
        check_on(c(45), Some(&[2, 1, 1, 45]), false, None, threads);
        check_on(c(45), Some(&[2, 3, 70, 1]), false, Some(0.2), threads);
        check_on(c(75), Some(&[1, 75]), true, None, threads);
    }
}

#[test]
fn fully_hidden_rows_are_zero() {
    // More queries than keys under causal masking: query 0 sees no key.
    let q = f32s(&[1, 3, 4], &data(12, 1));
    let k = f32s(&[1, 2, 4], &data(8, 2));
    let v = f32s(&[1, 2, 4], &data(8, 3));
    let outs = run_node_in(
        FUSED,
        "MultiHeadAttention",
        1,
        &[q, k, v],
        fused_attrs(2, true, None),
        1,
    )
    .unwrap();
    let (_, y) = out_f32(&outs, 0);
    assert!(y[..4].iter().all(|&x| x == 0.0));
    // Query 1 sees key 0 only: its output is V's first row.
    assert_close(&y[4..8], &data(8, 3)[..4], 1e-6);
}

#[test]
fn float16_rounds_the_f32_result() {
    let (q, k, v) = (t(&[1, 5, 8], 1), t(&[1, 5, 8], 2), t(&[1, 5, 8], 3));
    let half = |(s, d): &(Vec<i64>, Vec<f32>)| {
        let h: Vec<half::f16> = d.iter().map(|&x| half::f16::from_f32(x)).collect();
        Some(Value::Tensor(Tensor::from_vec(s, h).unwrap()))
    };
    let run = |ins: &[Option<Value>]| {
        run_node_in(
            FUSED,
            "MultiHeadAttention",
            1,
            ins,
            fused_attrs(2, false, None),
            1,
        )
        .unwrap()
    };
    let outs = run(&[half(&q), half(&k), half(&v)]);
    let t16 = outs[0].as_ref().unwrap().as_tensor().unwrap();
    assert_eq!(t16.elem(), ElemType::F16);
    let got: Vec<f32> = t16
        .as_slice::<half::f16>()
        .unwrap()
        .iter()
        .map(|x| x.to_f32())
        .collect();
    // The inputs' data are exact in f16 (multiples of 1/25 are not, so compare
    // loosely against the f32 kernel on the same values).
    let want = out_f32(&run(&[val(&q), val(&k), val(&v)]), 0).1;
    assert_close(&got, &want, 5e-3);
}

#[test]
fn bad_shapes_are_errors() {
    let fused = |ins: &[Option<Value>], h| {
        run_node_in(
            FUSED,
            "MultiHeadAttention",
            1,
            ins,
            fused_attrs(h, false, None),
            1,
        )
    };
    let x = |s: &[i64]| f32s(s, &data(s.iter().product::<i64>() as usize, 1));
    // Hidden size not a multiple of the heads.
    assert!(fused(&[x(&[1, 2, 6]), x(&[1, 2, 6]), x(&[1, 2, 6])], 4).is_err());
    // K and V lengths differ.
    assert!(fused(&[x(&[1, 2, 8]), x(&[1, 3, 8]), x(&[1, 2, 8])], 2).is_err());
    // A mask that does not broadcast.
    assert!(fused(
        &[
            x(&[1, 2, 8]),
            x(&[1, 3, 8]),
            x(&[1, 3, 8]),
            x(&[1, 1, 2, 2])
        ],
        2
    )
    .is_err());
    // 4-D inputs are not this op's layout.
    assert!(fused(&[x(&[1, 2, 2, 4]), x(&[1, 2, 8]), x(&[1, 2, 8])], 2).is_err());
    // num_heads is required.
    assert!(run_node_in(
        FUSED,
        "MultiHeadAttention",
        1,
        &[x(&[1, 2, 8]), x(&[1, 2, 8]), x(&[1, 2, 8])],
        vec![],
        1
    )
    .is_err());
}
