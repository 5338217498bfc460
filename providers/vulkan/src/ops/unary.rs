//! Elementwise unary ops and activations (`shaders/unary.wgsl`): one pipeline,
//! the op chosen by a code in the push constants.

use ort_core::{AttrValue, Error, GraphView, NodeView};

use super::{dispatch, grid, numel, Builder, Operand};
use crate::gpu::Gpu;

/// Op codes, as `apply` in the shader numbers them.
const CODES: &[(&str, u32)] = &[
    ("Relu", 0),
    ("Sigmoid", 1),
    ("Tanh", 2),
    ("Erf", 3),
    ("Sqrt", 6),
    ("Exp", 7),
    ("Log", 8),
    ("Neg", 9),
    ("Abs", 10),
    ("HardSwish", 14),
    ("Reciprocal", 15),
    ("Floor", 16),
    ("Ceil", 17),
    ("Sin", 18),
    ("Cos", 19),
    ("Identity", 20),
];

#[derive(Clone, Debug)]
pub struct Unary {
    code: u32,
    args: [f32; 4],
}

fn float_attr(node: &NodeView<'_>, name: &str, default: f32) -> f32 {
    match node.attr(name) {
        Some(AttrValue::Float(v)) => *v,
        _ => default,
    }
}

/// A Clip bound given as an input: absent, or a one-element constant.
fn bound(
    node: &NodeView<'_>,
    graph: &GraphView<'_>,
    k: usize,
    default: f32,
) -> Result<f32, String> {
    match node.inputs.get(k).filter(|v| !v.is_empty()) {
        None => Ok(default),
        Some(v) => match graph.initializer(v).and_then(|t| t.as_slice::<f32>().ok()) {
            Some([x]) => Ok(*x),
            _ => Err(format!("Clip bound {v} is not a constant float scalar")),
        },
    }
}

/// The unary op `node` is, if it is one; Err when it is one with something the
/// shader cannot do.
pub fn claim(node: &NodeView<'_>, graph: &GraphView<'_>) -> Result<Option<Unary>, String> {
    let op = node.op_type.as_str();
    let mut args = [0.0f32; 4];
    let code = if let Some((_, c)) = CODES.iter().find(|(n, _)| *n == op) {
        *c
    } else {
        match op {
            "Gelu" => match node.attr("approximate") {
                Some(AttrValue::String(s)) if s.as_slice() == b"tanh" => 5,
                Some(AttrValue::String(s)) if s.as_slice() != b"none" => {
                    return Err("Gelu approximate must be none or tanh".into())
                }
                _ => 4,
            },
            "LeakyRelu" => {
                args[0] = float_attr(node, "alpha", 0.01);
                11
            }
            "HardSigmoid" => {
                args[0] = float_attr(node, "alpha", 0.2);
                args[1] = float_attr(node, "beta", 0.5);
                13
            }
            "Clip" => {
                if node.opset < 11 {
                    args[0] = float_attr(node, "min", f32::MIN);
                    args[1] = float_attr(node, "max", f32::MAX);
                } else {
                    args[0] = bound(node, graph, 1, f32::MIN)?;
                    args[1] = bound(node, graph, 2, f32::MAX)?;
                }
                12
            }
            _ => return Ok(None),
        }
    };
    Ok(Some(Unary { code, args }))
}

impl Unary {
    pub fn record(
        &self,
        gpu: &Gpu,
        b: &mut Builder,
        x: &Operand,
        y: &Operand,
    ) -> Result<(), Error> {
        let n = numel(&y.1);
        if n == 0 {
            return Ok(());
        }
        let (groups, row) = grid(n)?;
        let a = self.args.map(f32::to_bits);
        let pc: [u32; 8] = [n as u32, self.code, row, 0, a[0], a[1], a[2], a[3]];
        dispatch(gpu, b, &gpu.pipelines.unary, &[&x.0, &y.0], pc, groups)
    }
}
