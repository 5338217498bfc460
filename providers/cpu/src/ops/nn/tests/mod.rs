//! Per-node tests of the nn kernels: conv, matmul, pooling, norms, softmax, activations.
//! Expected values come from ONNX Runtime 1.31 (small cases, inputs from `seq`)
//! or from naive reference loops here (large cases that take the parallel and
//! fast paths).

// Reference values are pasted at full printed precision from numpy / onnxruntime.
#![allow(clippy::excessive_precision, clippy::type_complexity)]

use half::f16;
use ort_core::abi::{AttrValue, Attribute};
use ort_core::{Tensor, Value};

use crate::testing::{assert_close, attr, out_f32, run_node};

mod activation;
mod conv;
mod conv_transpose;
mod matmul;
mod norm;
mod pool;
mod softmax;
mod types;

/// Deterministic inputs, multiples of 1/16 in [-3, 3) with no repeats in any 97
/// consecutive elements; the generator script mirrors this exactly.
pub(super) fn seq_data(n: usize, seed: usize) -> Vec<f32> {
    (0..n)
        .map(|i| ((i * 31 + seed * 17) % 97) as f32 / 16.0 - 3.0)
        .collect()
}

pub(super) fn seq(shape: &[i64], seed: usize) -> Option<Value> {
    let n = shape.iter().product::<i64>() as usize;
    Some(Tensor::from_vec(shape, seq_data(n, seed)).unwrap().into())
}

/// Positive inputs (|seq| + 0.5), for scales and variances.
pub(super) fn pos(shape: &[i64], seed: usize) -> Option<Value> {
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

pub(super) fn int(name: &str, v: i64) -> Attribute<'static> {
    attr(name, AttrValue::Int(v))
}
pub(super) fn float(name: &str, v: f32) -> Attribute<'static> {
    attr(name, AttrValue::Float(v))
}
pub(super) fn ints(name: &str, v: &[i64]) -> Attribute<'static> {
    attr(name, AttrValue::Ints(v.to_vec().into()))
}
pub(super) fn string(name: &str, v: &str) -> Attribute<'static> {
    attr(name, AttrValue::String(v.as_bytes().to_vec().into()))
}

/// Runs a node and compares every output's shape and values.
#[track_caller]
pub(super) fn check(
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

pub(super) fn tensor<T: ort_core::Element>(outs: &[Option<Value>], i: usize) -> Vec<T> {
    outs[i]
        .as_ref()
        .unwrap()
        .as_tensor()
        .unwrap()
        .to_vec::<T>()
        .unwrap()
}
