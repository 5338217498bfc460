//! Elementwise maps and activations (`unary_*` in `kernels/elementwise.cu`),
//! also the epilogue activations of the fused ops.

use cudarc::driver::PushKernelArg;
use ort_core::kit::Attributes;
use ort_core::{Error, GraphView, NodeView};

use super::{
    constant_f32, elementwise, is_fused, launch, Claim, Cx, Ints, Io, Kernel, Lower, Lowered,
};

/// An op code of `unary_op` with its two float parameters.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Unary {
    pub code: i32,
    pub a: f32,
    pub b: f32,
}

const fn u(code: i32) -> Unary {
    Unary {
        code,
        a: 0.0,
        b: 0.0,
    }
}

impl Unary {
    pub const RELU: Unary = u(1);
    pub const GELU: Unary = u(13);
    pub const GELU_TANH: Unary = u(14);

    /// The fused ops' `activation` attribute (`docs/fused-ops.md`).
    pub fn activation(name: &str, p: &[f32]) -> Option<Unary> {
        let at = |k: usize, d: f32| p.get(k).copied().unwrap_or(d);
        Some(match name {
            "Relu" => u(1),
            "Sigmoid" => u(2),
            "Tanh" => u(3),
            "LeakyRelu" => Unary {
                code: 15,
                a: at(0, 0.01),
                b: 0.0,
            },
            "Clip" => Unary {
                code: 18,
                a: at(0, f32::NEG_INFINITY),
                b: at(1, f32::INFINITY),
            },
            "HardSigmoid" => Unary {
                code: 19,
                a: at(0, 0.2),
                b: at(1, 0.5),
            },
            "HardSwish" => u(20),
            "Gelu" => u(13),
            "GeluTanh" => u(14),
            _ => return None,
        })
    }
}

/// The activation named by a fused op's attributes, if any.
pub fn activation(node: &NodeView<'_>) -> Result<Option<Unary>, String> {
    let Some(name) = node.attr_string("activation")? else {
        return Ok(None);
    };
    let params = node.attr_floats("activation_params")?.unwrap_or_default();
    Unary::activation(&name, &params)
        .map(Some)
        .ok_or(format!("no CUDA kernel for the activation {name}"))
}

pub fn claim(node: &NodeView<'_>, graph: &GraphView<'_>) -> Result<Option<Claim>, String> {
    let a = |d| node.attr_float("alpha", d);
    let op = match node.op_type.as_str() {
        _ if is_fused(node, "Gelu") || node.is_onnx("Gelu") => {
            match node.attr_string("approximate")?.as_deref() {
                None | Some("none") => Unary::GELU,
                Some("tanh") => Unary::GELU_TANH,
                Some(o) => return Err(format!("Gelu approximate={o} is not defined")),
            }
        }
        _ if !matches!(node.domain.as_str(), "" | "ai.onnx") => return Ok(None),
        "Relu" => u(1),
        "Sigmoid" => u(2),
        "Tanh" => u(3),
        "Exp" => u(4),
        "Log" => u(5),
        "Sqrt" => u(6),
        "Abs" => u(7),
        "Neg" => u(8),
        "Erf" => u(9),
        "Reciprocal" => u(10),
        "Floor" => u(11),
        "Ceil" => u(12),
        "LeakyRelu" => Unary {
            code: 15,
            a: a(0.01)?,
            b: 0.0,
        },
        "Elu" => Unary {
            code: 16,
            a: a(1.0)?,
            b: 0.0,
        },
        "Softplus" => u(17),
        "Clip" => clip(node, graph)?,
        "HardSigmoid" => Unary {
            code: 19,
            a: a(0.2)?,
            b: node.attr_float("beta", 0.5)?,
        },
        "HardSwish" => u(20),
        "Sin" => u(21),
        "Cos" => u(22),
        "Round" => u(23),
        "Sign" => u(24),
        "Softsign" => u(25),
        "Selu" => Unary {
            code: 26,
            a: a(1.673_263_2)?,
            b: node.attr_float("gamma", 1.050_701)?,
        },
        "Mish" => u(27),
        _ => return Ok(None),
    };
    Ok(Some(Claim::one(Lowered::inputs(op, 1))))
}

/// Clip's bounds: attributes before opset 11, constant inputs after.
fn clip(node: &NodeView<'_>, graph: &GraphView<'_>) -> Result<Unary, String> {
    if node.opset < 11 {
        return Ok(Unary {
            code: 18,
            a: node.attr_float("min", f32::NEG_INFINITY)?,
            b: node.attr_float("max", f32::INFINITY)?,
        });
    }
    let bound = |k: usize, d: f32| -> Result<f32, String> {
        if !node.has_input(k) {
            return Ok(d);
        }
        match constant_f32(node, graph, k) {
            Some((v, _)) if v.len() == 1 => Ok(v[0]),
            _ => Err("Clip bounds must be float32 constants for the CUDA kernel".into()),
        }
    };
    Ok(Unary {
        code: 18,
        a: bound(1, f32::NEG_INFINITY)?,
        b: bound(2, f32::INFINITY)?,
    })
}

impl Kernel for Unary {
    fn shape(&self, inputs: &[&[i64]], _: &[Ints]) -> Result<Vec<i64>, Error> {
        Ok(inputs[0].to_vec())
    }
    fn launch(&self, cx: &Cx<'_>, io: Io<'_>) -> Result<(), Error> {
        let Io { inputs, out, .. } = io;
        let f = cx.float_fn("unary", out.elem)?;
        let (x, y, n) = (inputs[0].ptr(), out.ptr(), out.len() as i64);
        let mut args = cx.args(f);
        args.arg(&x)
            .arg(&y)
            .arg(&n)
            .arg(&self.code)
            .arg(&self.a)
            .arg(&self.b);
        launch(args, elementwise(out.len()), "unary")
    }
}
