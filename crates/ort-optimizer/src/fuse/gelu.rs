//! GELU from its exported forms into one `Gelu` node:
//! `x · ½ · (1 + erf(x / √2))` → approximate "none", and
//! `x · ½ · (1 + tanh(√(2/π) · (x + 0.044715 · x³)))` → approximate "tanh".
//! The product of x, ½ and the (1 + …) factor is matched in any association.

use ort_graph::{Graph, Node};

use crate::edit::{self, is, scalar, Uses};
use crate::{Level, Pass, PassContext, FUSED_DOMAIN};

pub struct GeluFusion;

impl Pass for GeluFusion {
    fn name(&self) -> &str {
        "gelu-fusion"
    }
    fn level(&self) -> Level {
        Level::Extended
    }
    fn run(&self, g: &mut Graph, ctx: &PassContext<'_>) -> Result<usize, String> {
        // ONNX has its own Gelu from opset 20 on.
        let domain = if ctx.onnx_opset() >= 20 {
            ""
        } else {
            FUSED_DOMAIN
        };
        Ok(edit::rewrite_each(g, |g, uses, i| {
            let Some((x, tanh, nodes)) = matches(g, uses, i) else {
                return false;
            };
            let end = *nodes.iter().max().expect("a pattern has nodes");
            let out = g.nodes[end].outputs[0].clone();
            let name = format!("{}_gelu", g.nodes[end].name);
            let approx = if tanh { "tanh" } else { "none" };
            let fused = edit::node(
                "Gelu",
                domain,
                &name,
                &[&x],
                &[&out],
                vec![edit::attr_str("approximate", approx)],
            );
            edit::replace(g, &nodes, fused);
            true
        }))
    }
}

fn near(v: Option<f64>, want: f64) -> bool {
    v.is_some_and(|v| (v - want).abs() <= 1e-4 * want.abs().max(1.0))
}

/// The non-constant input of a binary node whose other input is the constant `c`.
fn with_const<'n>(g: &Graph, n: &'n Node, c: f64) -> Option<&'n str> {
    match n.inputs.as_slice() {
        [a, b] if near(scalar(g, b), c) => Some(a),
        [a, b] if near(scalar(g, a), c) => Some(b),
        _ => None,
    }
}

/// The one node reading `v` (and nothing else reading it).
fn next<'g>(g: &'g Graph, uses: &Uses, v: &str) -> Option<(usize, &'g Node)> {
    uses.only_reader(v).map(|i| (i, &g.nodes[i]))
}

/// Node `i` is the Erf or Tanh of a GELU: returns (x, is_tanh, pattern nodes).
fn matches(g: &Graph, uses: &Uses, i: usize) -> Option<(String, bool, Vec<usize>)> {
    let n = &g.nodes[i];
    let mut nodes = vec![i];
    let tanh = is(n, "Tanh");
    if !tanh && !is(n, "Erf") {
        return None;
    }
    let producer = |v: &str| uses.producer(v).map(|p| (p, &g.nodes[p]));
    let (p, arg) = producer(&n.inputs[0])?;
    nodes.push(p);
    let x: String = if tanh {
        // √(2/π) · (x + 0.044715 · x³)
        let s =
            with_const(g, arg, (2.0 / std::f64::consts::PI).sqrt()).filter(|_| is(arg, "Mul"))?;
        let (p, sum) = producer(s)?;
        if !is(sum, "Add") || uses.only_reader(s) != Some(nodes[1]) {
            return None;
        }
        nodes.push(p);
        let mut found = None;
        for (a, b) in [(0, 1), (1, 0)] {
            let Some((cp, cube_scaled)) = producer(&sum.inputs[b]) else {
                continue;
            };
            let Some(cube) =
                with_const(g, cube_scaled, 0.044715).filter(|_| is(cube_scaled, "Mul"))
            else {
                continue;
            };
            let Some((pp, pow)) = producer(cube) else {
                continue;
            };
            let x = &sum.inputs[a];
            let is_cube =
                (is(pow, "Pow") && pow.inputs[0] == *x && near(scalar(g, &pow.inputs[1]), 3.0))
                    || is_x_cubed(g, uses, pow, x);
            if is_cube
                && uses.only_reader(cube) == Some(cp)
                && uses.only_reader(&sum.inputs[b]) == Some(p)
            {
                nodes.extend([cp, pp]);
                if is(pow, "Mul") {
                    let sq = if pow.inputs[0] == *x {
                        &pow.inputs[1]
                    } else {
                        &pow.inputs[0]
                    };
                    nodes.push(uses.producer(sq)?);
                }
                found = Some(x.clone());
                break;
            }
        }
        found?
    } else {
        // x / √2 or x · (1/√2)
        let x = if is(arg, "Div") && near(scalar(g, &arg.inputs[1]), std::f64::consts::SQRT_2) {
            arg.inputs[0].clone()
        } else if is(arg, "Mul") {
            with_const(g, arg, std::f64::consts::FRAC_1_SQRT_2)?.to_string()
        } else {
            return None;
        };
        x
    };
    if uses.only_reader(&n.inputs[0]) != Some(i) {
        return None;
    }
    // 1 + erf(…)
    let (a, add) = next(g, uses, &n.outputs[0])?;
    if !is(add, "Add") || with_const(g, add, 1.0) != Some(n.outputs[0].as_str()) {
        return None;
    }
    nodes.push(a);
    let (m1, mul1) = next(g, uses, &add.outputs[0])?;
    if !is(mul1, "Mul") {
        return None;
    }
    nodes.push(m1);
    let other = if mul1.inputs[0] == add.outputs[0] {
        &mul1.inputs[1]
    } else {
        &mul1.inputs[0]
    };
    if *other == x {
        // (x · (1 + …)) · ½
        let (m2, mul2) = next(g, uses, &mul1.outputs[0])?;
        (is(mul2, "Mul") && with_const(g, mul2, 0.5) == Some(mul1.outputs[0].as_str()))
            .then_some(())?;
        nodes.push(m2);
    } else if near(scalar(g, other), 0.5) {
        // ((1 + …) · ½) · x
        let (m2, mul2) = next(g, uses, &mul1.outputs[0])?;
        let rest = if mul2.inputs[0] == mul1.outputs[0] {
            &mul2.inputs[1]
        } else {
            &mul2.inputs[0]
        };
        (is(mul2, "Mul") && *rest == x).then_some(())?;
        nodes.push(m2);
    } else {
        // (x · ½) · (1 + …)
        let (h, half) = producer(other)?;
        (is(half, "Mul")
            && with_const(g, half, 0.5) == Some(x.as_str())
            && uses.only_reader(other) == Some(m1))
        .then_some(())?;
        nodes.push(h);
    }
    let end = *nodes.iter().max()?;
    if nodes
        .iter()
        .any(|&k| k != end && g.nodes[k].outputs.iter().any(|o| uses.is_graph_output(o)))
    {
        return None;
    }
    Some((x, tanh, nodes))
}

/// `x · (x · x)` or `(x · x) · x`.
fn is_x_cubed(g: &Graph, uses: &Uses, m: &Node, x: &str) -> bool {
    if !is(m, "Mul") {
        return false;
    }
    let sq = match (m.inputs[0] == x, m.inputs[1] == x) {
        (true, _) => &m.inputs[1],
        (_, true) => &m.inputs[0],
        _ => return false,
    };
    uses.producer(sq).map(|p| &g.nodes[p]).is_some_and(|s| {
        is(s, "Mul") && s.inputs[0] == x && s.inputs[1] == x && uses.readers(sq).len() == 1
    })
}

// The tests use the rounded constants exporters write, not the exact ones.
#[cfg(test)]
#[allow(clippy::approx_constant)]
mod tests {
    use super::*;
    use edit::node;
    use ort_core::{Tensor, TypeInfo};
    use ort_graph::ValueDecl;

    fn run(g: &mut Graph) -> usize {
        crate::run_pass(&GeluFusion, g, 17)
    }

    fn graph(nodes: Vec<Node>, consts: &[(&str, f32)]) -> Graph {
        let d = |n: &str| ValueDecl {
            name: n.into(),
            ty: TypeInfo::Unknown,
        };
        Graph {
            inputs: vec![d("x")],
            outputs: vec![d("y")],
            nodes,
            initializers: consts
                .iter()
                .map(|(n, v)| (n.to_string(), Tensor::scalar(*v)))
                .collect(),
            ..Graph::default()
        }
    }

    fn erf_form(sqrt2: f32) -> Graph {
        graph(
            vec![
                node("Div", "", "d", &["x", "sqrt2"], &["d"], vec![]),
                node("Erf", "", "e", &["d"], &["e"], vec![]),
                node("Add", "", "a", &["e", "one"], &["a"], vec![]),
                node("Mul", "", "m", &["x", "a"], &["m"], vec![]),
                node("Mul", "", "y", &["m", "half"], &["y"], vec![]),
            ],
            &[("sqrt2", sqrt2), ("one", 1.0), ("half", 0.5)],
        )
    }

    #[test]
    fn erf_form_fuses() {
        let mut g = erf_form(1.4142135);
        assert_eq!(run(&mut g), 1);
        assert_eq!(g.nodes.len(), 1);
        let n = &g.nodes[0];
        assert_eq!(
            (n.op_type.as_str(), n.domain.as_str()),
            ("Gelu", FUSED_DOMAIN)
        );
        assert_eq!(
            (n.inputs.clone(), n.outputs.clone()),
            (vec!["x".into()], vec!["y".into()])
        );
        assert_eq!(edit::str_attr(n, "approximate"), Some("none"));
    }

    #[test]
    fn wrong_constant_does_not_fuse() {
        let mut g = erf_form(1.5);
        assert_eq!(run(&mut g), 0);
        assert_eq!(g.nodes.len(), 5);
    }

    #[test]
    fn an_intermediate_read_elsewhere_blocks_it() {
        let mut g = erf_form(1.4142135);
        g.outputs.push(ValueDecl {
            name: "e".into(),
            ty: TypeInfo::Unknown,
        });
        assert_eq!(run(&mut g), 0);
    }

    #[test]
    fn tanh_form_fuses() {
        let mut g = graph(
            vec![
                node("Mul", "", "h", &["x", "half"], &["h"], vec![]),
                node("Pow", "", "p", &["x", "three"], &["p"], vec![]),
                node("Mul", "", "c", &["p", "k1"], &["c"], vec![]),
                node("Add", "", "s", &["x", "c"], &["s"], vec![]),
                node("Mul", "", "t0", &["s", "k2"], &["t0"], vec![]),
                node("Tanh", "", "t", &["t0"], &["t"], vec![]),
                node("Add", "", "a", &["t", "one"], &["a"], vec![]),
                node("Mul", "", "y", &["h", "a"], &["y"], vec![]),
            ],
            &[
                ("half", 0.5),
                ("three", 3.0),
                ("k1", 0.044715),
                ("k2", 0.7978846),
                ("one", 1.0),
            ],
        );
        assert_eq!(run(&mut g), 1);
        assert_eq!(g.nodes.len(), 1);
        assert_eq!(edit::str_attr(&g.nodes[0], "approximate"), Some("tanh"));
    }
}
