//! Runs one node through the provider in-process, for kernel unit tests.

use ort_core::abi::{AttrValue, Attribute, FusedNode, GraphView, NodeView, RString, RVec, Tuple2};
use ort_core::host::{with_host_services, HeapAllocator};
use ort_core::plugin::{Host, Options, Provider};
use ort_core::{Error, Tensor, TypeInfo, Value};

use crate::CpuProvider;

/// An attribute for [`run_node`].
pub fn attr(name: &str, value: AttrValue<'static>) -> Attribute<'static> {
    Attribute {
        name: name.into(),
        value,
    }
}

/// Runs `op` (default domain, `opset`) on `inputs` (None = omitted optional input)
/// and returns its `num_outputs` outputs.
pub fn run_node(
    op: &str,
    opset: i64,
    inputs: &[Option<Value>],
    attrs: Vec<Attribute<'static>>,
    num_outputs: usize,
) -> Result<Vec<Option<Value>>, Error> {
    run_node_in("", op, opset, inputs, attrs, num_outputs)
}

/// As [`run_node`], for an op of `domain` (e.g. the fused-op domain).
pub fn run_node_in(
    domain: &str,
    op: &str,
    opset: i64,
    inputs: &[Option<Value>],
    attrs: Vec<Attribute<'static>>,
    num_outputs: usize,
) -> Result<Vec<Option<Value>>, Error> {
    let in_names: Vec<String> = (0..inputs.len())
        .map(|i| {
            if inputs[i].is_some() {
                format!("in{i}")
            } else {
                String::new()
            }
        })
        .collect();
    let out_names: Vec<String> = (0..num_outputs).map(|i| format!("out{i}")).collect();
    let values: RVec<Tuple2<RString, TypeInfo>> = inputs
        .iter()
        .enumerate()
        .filter_map(|(i, v)| match v {
            Some(Value::Tensor(t)) => Some(Tuple2(
                RString::from(format!("in{i}")),
                TypeInfo::tensor(
                    t.elem(),
                    Some(t.shape().iter().map(|&d| ort_core::Dim::Known(d)).collect()),
                ),
            )),
            _ => None,
        })
        .collect();
    let node = NodeView {
        index: 0,
        name: "test".into(),
        op_type: op.into(),
        domain: domain.into(),
        opset,
        inputs: in_names.iter().map(|s| RString::from(s.as_str())).collect(),
        outputs: out_names
            .iter()
            .map(|s| RString::from(s.as_str()))
            .collect(),
        attributes: attrs.into(),
        assigned: RString::new(),
    };
    let graph = GraphView {
        name: "test".into(),
        nodes: vec![node].into(),
        inputs: in_names
            .iter()
            .filter(|s| !s.is_empty())
            .map(|s| RString::from(s.as_str()))
            .collect(),
        outputs: out_names
            .iter()
            .map(|s| RString::from(s.as_str()))
            .collect(),
        values,
        initializers: RVec::new(),
        outer_scope: RVec::new(),
    };
    let provider = CpuProvider::create(&Options(vec![("threads".into(), "2".into())]))?;
    let fused = FusedNode {
        name: "test".into(),
        graph: &graph,
        nodes: vec![0u32].into(),
        inputs: graph.inputs.clone(),
        outputs: graph.outputs.clone(),
    };
    let part = provider.compile(&fused)?;
    let ins: Vec<Option<&Value>> = inputs.iter().filter_map(|v| v.as_ref().map(Some)).collect();
    with_host_services(&HeapAllocator, |services| {
        part.compute(&ins, &Host::new(services))
    })
}

/// A float tensor value.
pub fn f32s(shape: &[i64], data: &[f32]) -> Option<Value> {
    Some(Value::Tensor(
        Tensor::from_vec(shape, data.to_vec()).unwrap(),
    ))
}

/// An int64 tensor value.
pub fn i64s(shape: &[i64], data: &[i64]) -> Option<Value> {
    Some(Value::Tensor(
        Tensor::from_vec(shape, data.to_vec()).unwrap(),
    ))
}

/// Output `i` as (shape, f32 data).
pub fn out_f32(outs: &[Option<Value>], i: usize) -> (Vec<i64>, Vec<f32>) {
    let t = outs[i].as_ref().unwrap().as_tensor().unwrap();
    (t.shape().to_vec(), t.to_vec::<f32>().unwrap())
}

/// Asserts two float slices agree within `tol` (absolute + relative).
pub fn assert_close(got: &[f32], want: &[f32], tol: f32) {
    assert_eq!(got.len(), want.len(), "length differs");
    for (i, (g, w)) in got.iter().zip(want).enumerate() {
        assert!(
            (g - w).abs() <= tol + tol * w.abs(),
            "element {i}: got {g}, want {w}"
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn add_broadcasts() {
        let outs = run_node(
            "Add",
            14,
            &[f32s(&[2, 2], &[1., 2., 3., 4.]), f32s(&[2], &[10., 20.])],
            vec![],
            1,
        )
        .unwrap();
        assert_eq!(out_f32(&outs, 0), (vec![2, 2], vec![11., 22., 13., 24.]));
    }
}
