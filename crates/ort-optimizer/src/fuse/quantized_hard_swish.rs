//! A HardSwish that a QDQ quantizer has split (`docs/fused-ops.md`):
//! HardSigmoid(x) → QuantizeDequantize → Mul with x → QuantizeDequantize
//! becomes one QuantizedHardSwish, one pass over memory instead of four, with
//! the same arithmetic step by step. (MobileNetV3 QDQ models hold one per
//! block.)

use ort_core::ElemType;
use ort_graph::Graph;

use crate::edit::{self, elem_type, float_attr, is, scalar, Uses};
use crate::{Level, Pass, PassContext, FUSED_DOMAIN};

pub struct QuantizedHardSwish;

impl Pass for QuantizedHardSwish {
    fn name(&self) -> &str {
        "quantized-hard-swish-fusion"
    }
    fn level(&self) -> Level {
        Level::Extended
    }
    fn run(&self, g: &mut Graph, _ctx: &PassContext<'_>) -> Result<usize, String> {
        Ok(edit::rewrite_each(g, try_fuse))
    }
}

/// A fused QuantizeDequantize whose scale and zero point are constant scalars
/// (what its kernel requires): its input and parameters.
fn round_trip<'g>(g: &'g Graph, n: &'g ort_graph::Node) -> Option<(&'g str, &'g str, &'g str)> {
    if n.op_type != "QuantizeDequantize" || n.domain != FUSED_DOMAIN || n.inputs.len() != 3 {
        return None;
    }
    scalar(g, &n.inputs[1])?;
    scalar(g, &n.inputs[2])?;
    Some((&n.inputs[0], &n.inputs[1], &n.inputs[2]))
}

fn try_fuse(g: &mut Graph, uses: &Uses, i: usize) -> bool {
    // Matched from the last round trip back: out = qdq(x · qdq(hardsigmoid(x))).
    let Some((m, s_out, z_out)) = round_trip(g, &g.nodes[i]) else {
        return false;
    };
    let Some(mul) = uses.producer(m).filter(|_| uses.only_reader(m) == Some(i)) else {
        return false;
    };
    let mn = &g.nodes[mul];
    if !is(mn, "Mul") || mn.inputs.len() != 2 {
        return false;
    }
    // Either operand order: one is x, the other the gate's round trip of x.
    let gate = |hq: &str, x: &str| -> Option<(usize, usize)> {
        let q = uses
            .producer(hq)
            .filter(|_| uses.only_reader(hq) == Some(mul))?;
        let (h, _, _) = round_trip(g, &g.nodes[q])?;
        let hs = uses
            .producer(h)
            .filter(|_| uses.only_reader(h) == Some(q))?;
        let hn = &g.nodes[hs];
        (is(hn, "HardSigmoid") && hn.inputs.len() == 1 && hn.inputs[0] == x).then_some((hs, q))
    };
    let (a, b) = (&mn.inputs[0], &mn.inputs[1]);
    let Some((hs, q, x)) = gate(b, a)
        .map(|(hs, q)| (hs, q, a))
        .or_else(|| gate(a, b).map(|(hs, q)| (hs, q, b)))
    else {
        return false;
    };
    if elem_type(g, x) != Some(ElemType::F32) {
        return false;
    }
    let hn = &g.nodes[hs];
    let (alpha, beta) = (
        float_attr(hn, "alpha").unwrap_or(0.2),
        float_attr(hn, "beta").unwrap_or(0.5),
    );
    let qn = &g.nodes[q];
    let (s_gate, z_gate) = (&qn.inputs[1], &qn.inputs[2]);
    let fused = edit::node(
        "QuantizedHardSwish",
        FUSED_DOMAIN,
        &format!("{}_hardswish", mn.name),
        &[x, s_gate, z_gate, s_out, z_out],
        &[&g.nodes[i].outputs[0]],
        vec![
            edit::attr_float("alpha", alpha),
            edit::attr_float("beta", beta),
        ],
    );
    edit::replace(g, &[hs, q, mul, i], fused);
    true
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::edit::node;
    use ort_core::Tensor;
    use ort_graph::Node;

    fn graph(nodes: Vec<Node>, outputs: &[&str]) -> Graph {
        edit::scalar_graph(
            nodes,
            outputs,
            &[
                ("s", Tensor::from_vec(&[], vec![0.5f32]).unwrap()),
                ("z", Tensor::from_vec(&[], vec![3u8]).unwrap()),
                ("s2", Tensor::from_vec(&[], vec![0.25f32]).unwrap()),
                ("z2", Tensor::from_vec(&[], vec![-1i8]).unwrap()),
            ],
        )
    }

    fn qdq(name: &str, x: &str, s: &str, z: &str, y: &str) -> Node {
        node(
            "QuantizeDequantize",
            FUSED_DOMAIN,
            name,
            &[x, s, z],
            &[y],
            vec![],
        )
    }

    /// The split HardSwish, the Mul's operands in either order.
    fn split(swap: bool) -> Vec<Node> {
        let ab: [&str; 2] = if swap { ["hq", "x"] } else { ["x", "hq"] };
        let hs = vec![edit::attr_float("alpha", 1.0 / 6.0)];
        vec![
            node("HardSigmoid", "", "hs", &["x"], &["h"], hs),
            qdq("q1", "h", "s2", "z2", "hq"),
            node("Mul", "", "mul", &ab, &["m"], vec![]),
            qdq("q2", "m", "s", "z", "y"),
        ]
    }

    fn run(g: &mut Graph) -> usize {
        crate::run_pass(&QuantizedHardSwish, g, 13)
    }

    #[test]
    fn a_split_hard_swish_fuses() {
        for swap in [false, true] {
            let mut g = graph(split(swap), &["y"]);
            assert_eq!(run(&mut g), 1);
            assert_eq!(g.nodes.len(), 1);
            let n = &g.nodes[0];
            assert_eq!(n.op_type, "QuantizedHardSwish");
            assert_eq!(n.inputs, ["x", "s2", "z2", "s", "z"]);
            assert_eq!(n.outputs, ["y"]);
            assert_eq!(float_attr(n, "alpha"), Some(1.0 / 6.0));
            assert_eq!(float_attr(n, "beta"), Some(0.5));
        }
    }

    #[test]
    fn intermediates_read_elsewhere_or_another_operand_do_not() {
        // The gate or the product is also a graph output.
        for extra in ["h", "hq", "m"] {
            let mut g = graph(split(false), &["y", extra]);
            assert_eq!(run(&mut g), 0, "{extra}");
        }
        // The Mul multiplies the gate by something other than its input.
        let mut nodes = split(false);
        nodes[2].inputs[0] = "s".into();
        let mut g = graph(nodes, &["y"]);
        assert_eq!(run(&mut g), 0);
    }
}
