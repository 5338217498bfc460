//! Elementwise unary ops and activations (`shaders/unary.wgsl`): one pipeline,
//! the op chosen by a code in the push constants.

use ort_core::kit::Attributes;
use ort_core::{AttrValue, Error, GraphView, NodeView};

use super::{
    dispatch, grid, is, is_fused, numel, Builder, Claim, Ints, Io, Kernel, Lower, Lowered,
};
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
    ("Softplus", 23),
    ("Softsign", 24),
    ("Sign", 25),
];

#[derive(Clone, Debug)]
pub struct Unary {
    code: u32,
    args: [f32; 4],
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
pub fn claim(node: &NodeView<'_>, graph: &GraphView<'_>) -> Result<Option<Claim>, String> {
    let op = node.op_type.as_str();
    let fused_gelu = is_fused(node, "Gelu");
    if !fused_gelu && !matches!(node.domain.as_str(), "" | "ai.onnx") {
        return Ok(None);
    }
    let mut args = [0.0f32; 4];
    let code = if let Some((_, c)) = CODES.iter().find(|(n, _)| *n == op) {
        *c
    } else {
        match op {
            "Gelu" if fused_gelu || is(node, "Gelu") => match node.attr("approximate") {
                Some(AttrValue::String(s)) if s.as_slice() == b"tanh" => 5,
                Some(AttrValue::String(s)) if s.as_slice() != b"none" => {
                    return Err("Gelu approximate must be none or tanh".into())
                }
                _ => 4,
            },
            "Elu" => {
                args[0] = node.attr_float("alpha", 1.0)?;
                21
            }
            "Selu" => {
                args[0] = node.attr_float("alpha", 1.673_263_2)?;
                args[1] = node.attr_float("gamma", 1.050_701)?;
                22
            }
            "LeakyRelu" => {
                args[0] = node.attr_float("alpha", 0.01)?;
                11
            }
            "HardSigmoid" => {
                args[0] = node.attr_float("alpha", 0.2)?;
                args[1] = node.attr_float("beta", 0.5)?;
                13
            }
            "Clip" => {
                if node.opset < 11 {
                    args[0] = node.attr_float("min", f32::NEG_INFINITY)?;
                    args[1] = node.attr_float("max", f32::INFINITY)?;
                } else {
                    args[0] = bound(node, graph, 1, f32::NEG_INFINITY)?;
                    args[1] = bound(node, graph, 2, f32::INFINITY)?;
                }
                12
            }
            _ => return Ok(None),
        }
    };
    Ok(Some(Claim::one(Lowered::inputs(Unary { code, args }, 1))))
}

impl Unary {
    /// Rounds float32 to the nearest float16 (ties to even), kept as float32.
    pub const ROUND_F16: Unary = Unary {
        code: 26,
        args: [0.0; 4],
    };

    /// The epilogue activation of a fused op (`docs/fused-ops.md`), by name.
    pub fn activation(name: &str, params: &[f32]) -> Option<Unary> {
        let p = |k: usize, d: f32| params.get(k).copied().unwrap_or(d);
        let (code, args) = match name {
            "Relu" => (0, [0.0; 4]),
            "Sigmoid" => (1, [0.0; 4]),
            "Tanh" => (2, [0.0; 4]),
            "Gelu" => (4, [0.0; 4]),
            "GeluTanh" => (5, [0.0; 4]),
            "LeakyRelu" => (11, [p(0, 0.01), 0.0, 0.0, 0.0]),
            "Clip" => (12, [p(0, f32::NEG_INFINITY), p(1, f32::INFINITY), 0.0, 0.0]),
            "HardSigmoid" => (13, [p(0, 0.2), p(1, 0.5), 0.0, 0.0]),
            "HardSwish" => (14, [0.0; 4]),
            _ => return None,
        };
        Some(Unary { code, args })
    }
}

impl Kernel for Unary {
    fn shape(&self, inputs: &[&[i64]], _: &[Ints]) -> Result<Vec<i64>, Error> {
        Ok(inputs[0].to_vec())
    }

    fn record(&self, gpu: &Gpu, b: &mut Builder, io: Io<'_>) -> Result<(), Error> {
        let Io { inputs, out: y, .. } = io;
        let x = &inputs[0];
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
