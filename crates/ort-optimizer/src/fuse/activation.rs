//! An activation applied to a Conv, Gemm or MatMul output (fused or not) becomes
//! the fused op's `activation` (`docs/fused-ops.md`), saving a pass over memory.

use ort_graph::{Graph, Node};

use crate::edit::{self, elem_type, float_attr, scalar, str_attr, Uses};
use crate::{Level, Pass, PassContext, FUSED_DOMAIN};

pub struct ActivationFusion;

impl Pass for ActivationFusion {
    fn name(&self) -> &str {
        "activation-fusion"
    }
    fn level(&self) -> Level {
        Level::Extended
    }
    fn run(&self, g: &mut Graph, ctx: &PassContext<'_>) -> Result<usize, String> {
        Ok(edit::rewrite_each(g, |g, uses, i| {
            match fuse(g, uses, i, ctx) {
                Some((p, None, node)) => {
                    edit::replace(g, &[p, i], node);
                    true
                }
                // Through a view op: the product keeps its name, the view takes
                // over the activation's output.
                Some((p, Some(v), node)) => {
                    let out = g.nodes[i].outputs[0].clone();
                    g.nodes[p] = node;
                    g.nodes[v].outputs[0] = out;
                    g.nodes.remove(i);
                    true
                }
                None => false,
            }
        }))
    }
}

/// The activation node `n` as (name, params), if the fused ops can apply it.
fn activation(g: &Graph, n: &Node, ctx: &PassContext<'_>) -> Option<(&'static str, Vec<f32>)> {
    let onnx = n.domain.is_empty() || n.domain == "ai.onnx";
    Some(match n.op_type.as_str() {
        "Relu" if onnx => ("Relu", vec![]),
        "Sigmoid" if onnx => ("Sigmoid", vec![]),
        "Tanh" if onnx => ("Tanh", vec![]),
        "HardSwish" if onnx => ("HardSwish", vec![]),
        "LeakyRelu" if onnx => ("LeakyRelu", vec![float_attr(n, "alpha").unwrap_or(0.01)]),
        "HardSigmoid" if onnx => (
            "HardSigmoid",
            vec![
                float_attr(n, "alpha").unwrap_or(0.2),
                float_attr(n, "beta").unwrap_or(0.5),
            ],
        ),
        "Clip" if onnx => {
            let (lo, hi) = if ctx.onnx_opset() < 11 {
                (
                    float_attr(n, "min").unwrap_or(f32::MIN),
                    float_attr(n, "max").unwrap_or(f32::MAX),
                )
            } else {
                let bound = |k: usize, d: f32| match n.inputs.get(k).filter(|v| !v.is_empty()) {
                    None => Some(d),
                    Some(v) => scalar(g, v).map(|v| v as f32),
                };
                (bound(1, f32::MIN)?, bound(2, f32::MAX)?)
            };
            ("Clip", vec![lo, hi])
        }
        // A QDQ round trip (fused by `quantize_dequantize`) with constant
        // parameters: scale, zero point and the integer type's range.
        "QuantizeDequantize" if n.domain == FUSED_DOMAIN => {
            let (scale, zp) = (n.inputs.get(1)?, n.inputs.get(2)?);
            let (lo, hi) = match elem_type(g, zp)? {
                ort_core::ElemType::U8 => (0.0, 255.0),
                ort_core::ElemType::I8 => (-128.0, 127.0),
                _ => return None,
            };
            let (scale, zp) = (scalar(g, scale)? as f32, scalar(g, zp)? as f32);
            ("QuantizeDequantize", vec![scale, zp, lo, hi])
        }
        "Gelu" if onnx || n.domain == FUSED_DOMAIN => {
            match str_attr(n, "approximate").unwrap_or("none") {
                "tanh" => ("GeluTanh", vec![]),
                _ => ("Gelu", vec![]),
            }
        }
        _ => return None,
    })
}

/// When `x` is a view (Reshape, Flatten, Squeeze, Unsqueeze) of a value only it
/// reads: that value's producer and the view. An elementwise activation commutes
/// with a view, so it can move in front of it (GPT-2's Gemm → Reshape → Gelu).
fn through_view(g: &Graph, uses: &Uses, x: &str) -> Option<(usize, usize)> {
    let v = uses.producer(x)?;
    let vn = &g.nodes[v];
    if !["Reshape", "Flatten", "Squeeze", "Unsqueeze"]
        .iter()
        .any(|op| edit::is(vn, op))
    {
        return None;
    }
    let y = &vn.inputs[0];
    if uses.only_reader(y) != Some(v) {
        return None;
    }
    Some((uses.producer(y)?, v))
}

/// The product node to fuse into, the view between them if any, and the fused node.
type Fusion = (usize, Option<usize>, Node);

fn fuse(g: &Graph, uses: &Uses, i: usize, ctx: &PassContext<'_>) -> Option<Fusion> {
    let a = &g.nodes[i];
    let x = a.inputs.first()?;
    let (name, params) = activation(g, a, ctx)?;
    if uses.only_reader(x) != Some(i) {
        return None;
    }
    let (p, view) = match through_view(g, uses, x) {
        Some((p, v)) => (p, Some(v)),
        None => (uses.producer(x)?, None),
    };
    // The fused kernels compute in f32/f64.
    if !matches!(
        elem_type(g, x),
        Some(ort_core::ElemType::F32 | ort_core::ElemType::F64)
    ) {
        return None;
    }
    let pn = &g.nodes[p];
    let fused_op = match (pn.domain.as_str(), pn.op_type.as_str()) {
        ("" | "ai.onnx", "Conv") => "FusedConv",
        ("" | "ai.onnx", "Gemm") => "FusedGemm",
        ("" | "ai.onnx", "MatMul") => "FusedMatMul",
        (
            FUSED_DOMAIN,
            op @ ("FusedConv"
            | "FusedGemm"
            | "FusedMatMul"
            | "QuantizedWeightGemm"
            | "QuantizedConv"),
        ) => op,
        _ => return None,
    };
    if pn.attr("activation").is_some() || pn.outputs.len() != 1 {
        return None;
    }
    let mut node = pn.clone();
    node.op_type = fused_op.into();
    node.domain = FUSED_DOMAIN.into();
    if view.is_none() {
        node.outputs = vec![a.outputs[0].clone()];
    }
    node.name = format!("{}_{}", pn.name, name.to_lowercase());
    node.attrs.push(edit::attr_str("activation", name));
    if !params.is_empty() {
        node.attrs
            .push(edit::attr_floats("activation_params", params));
    }
    Some((p, view, node))
}

#[cfg(test)]
mod tests {
    use super::*;
    use edit::node;
    use ort_core::{Dim, ElemType, TypeInfo};
    use ort_graph::ValueDecl;

    fn run(g: &mut Graph) -> usize {
        crate::run_pass(&ActivationFusion, g, 17)
    }

    fn graph(nodes: Vec<Node>, elem: ElemType) -> Graph {
        let d = |n: &str| ValueDecl {
            name: n.into(),
            ty: TypeInfo::tensor(
                elem,
                Some(vec![
                    Dim::Known(1),
                    Dim::Known(2),
                    Dim::Known(3),
                    Dim::Known(3),
                ]),
            ),
        };
        let mut g = Graph {
            inputs: vec![d("x"), d("w")],
            outputs: vec![d("y")],
            nodes,
            ..Graph::default()
        };
        for v in ["x", "w", "h"] {
            g.types.insert(v.into(), d(v).ty);
        }
        g
    }

    #[test]
    fn a_qdq_round_trip_after_a_conv_fuses() {
        let mut g = graph(
            vec![
                node("Conv", "", "c", &["x", "w"], &["h"], vec![]),
                node(
                    "QuantizeDequantize",
                    FUSED_DOMAIN,
                    "q",
                    &["h", "s", "z"],
                    &["y"],
                    vec![],
                ),
            ],
            ElemType::F32,
        );
        g.initializers = vec![
            ("s".into(), ort_core::Tensor::scalar(0.25f32)),
            ("z".into(), ort_core::Tensor::scalar(-3i8)),
        ];
        assert_eq!(run(&mut g), 1);
        let n = &g.nodes[0];
        assert_eq!(n.op_type, "FusedConv");
        assert_eq!(str_attr(n, "activation"), Some("QuantizeDequantize"));
        let params = match n.attr("activation_params").unwrap() {
            ort_graph::AttrValue::Floats(v) => v.clone(),
            v => panic!("{v:?}"),
        };
        assert_eq!(params, vec![0.25, -3.0, -128.0, 127.0]);
    }

    #[test]
    fn conv_relu_and_gemm_leaky_relu_fuse() {
        let mut g = graph(
            vec![
                node("Conv", "", "c", &["x", "w"], &["h"], vec![]),
                node(
                    "LeakyRelu",
                    "",
                    "r",
                    &["h"],
                    &["y"],
                    vec![edit::attr_float("alpha", 0.2)],
                ),
            ],
            ElemType::F32,
        );
        assert_eq!(run(&mut g), 1);
        let n = &g.nodes[0];
        assert_eq!(
            (n.op_type.as_str(), n.outputs[0].as_str()),
            ("FusedConv", "y")
        );
        assert_eq!(str_attr(n, "activation"), Some("LeakyRelu"));
        assert_eq!(
            n.attr("activation_params").map(|v| format!("{v:?}")),
            Some("Floats([0.2])".into())
        );
    }

    #[test]
    fn shared_outputs_and_integer_types_do_not() {
        let mut g = graph(
            vec![
                node("Conv", "", "c", &["x", "w"], &["h"], vec![]),
                node("Relu", "", "r", &["h"], &["y"], vec![]),
                node("Neg", "", "n", &["h"], &["z"], vec![]),
            ],
            ElemType::F32,
        );
        assert_eq!(run(&mut g), 0);
        let mut g = graph(
            vec![
                node("MatMul", "", "c", &["x", "w"], &["h"], vec![]),
                node("Relu", "", "r", &["h"], &["y"], vec![]),
            ],
            ElemType::I32,
        );
        assert_eq!(run(&mut g), 0);
    }

    #[test]
    fn activation_moves_in_front_of_a_view() {
        let nodes = |extra: bool| {
            let mut n = vec![
                node("Gemm", "", "g", &["x", "w"], &["p"], vec![]),
                node("Reshape", "", "v", &["p", "t"], &["h"], vec![]),
                node("Relu", "", "r", &["h"], &["y"], vec![]),
            ];
            if extra {
                n.push(node("Neg", "", "n", &["p"], &["z"], vec![]));
            }
            n
        };
        let mut g = graph(nodes(false), ElemType::F32);
        assert_eq!(run(&mut g), 1);
        let ops: Vec<_> = g
            .nodes
            .iter()
            .map(|n| (n.op_type.as_str(), n.outputs[0].as_str()))
            .collect();
        assert_eq!(ops, [("FusedGemm", "p"), ("Reshape", "y")]);
        assert_eq!(str_attr(&g.nodes[0], "activation"), Some("Relu"));
        // The product is read by someone else too: it must stay unactivated.
        let mut g = graph(nodes(true), ElemType::F32);
        assert_eq!(run(&mut g), 0);
    }
}
