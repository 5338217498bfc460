//! Removes nodes that compute their input unchanged: Identity, inference-mode
//! Dropout, Cast to the type it already has, view ops (Reshape, Expand, Flatten,
//! Squeeze, Unsqueeze, Slice with unit steps) whose output shape equals their
//! input's, Pad by nothing, and pairs (Transpose∘Transpose, Squeeze∘Unsqueeze,
//! Reshape∘Reshape) that cancel. Two Transposes that do not cancel become one.

use ort_core::kit::Attributes;
use ort_core::ElemType;
use ort_graph::{AttrValue, Graph, Node};

use crate::edit::{self, constant, elem_type, is, static_shape, Uses};
use crate::{Level, Pass, PassContext};

pub struct RedundantNodes;

impl Pass for RedundantNodes {
    fn name(&self) -> &str {
        "redundant-nodes"
    }
    fn level(&self) -> Level {
        Level::Basic
    }
    fn run(&self, g: &mut Graph, _ctx: &PassContext<'_>) -> Result<usize, String> {
        Ok(edit::rewrite_each(g, |g, uses, i| {
            merge_transposes(g, uses, i)
                || match passthrough(g, uses, i) {
                    Some(src) => bypass(g, uses, i, &src),
                    None => false,
                }
        }))
    }
}

/// The value node `i` passes through unchanged, if it is a no-op.
fn passthrough(g: &Graph, uses: &Uses, i: usize) -> Option<String> {
    let n = &g.nodes[i];
    if !(n.domain.is_empty() || n.domain == "ai.onnx") {
        return None;
    }
    let x = n.inputs.first().filter(|x| !x.is_empty())?;
    let y = n.outputs.first().filter(|y| !y.is_empty())?;
    let extra_outputs_unused = n.outputs[1..]
        .iter()
        .all(|o| o.is_empty() || (uses.readers(o).is_empty() && !uses.is_graph_output(o)));
    if !extra_outputs_unused {
        return None;
    }
    let same_shape =
        || matches!((static_shape(g, x), static_shape(g, y)), (Some(a), Some(b)) if a == b);
    let noop = match n.op_type.as_str() {
        "Identity" => true,
        "Dropout" => dropout_is_inference(g, n),
        "Cast" => elem_type(g, x).is_some_and(|t| {
            n.attr_opt_int("to")
                .ok()
                .flatten()
                .and_then(|c| ElemType::from_onnx(c as i32))
                == Some(t)
        }),
        "Reshape" | "Expand" | "Flatten" | "Squeeze" | "Unsqueeze" => same_shape(),
        "Slice" => same_shape() && unit_steps(g, n),
        "Pad" => pads_are_zero(g, n),
        _ => false,
    };
    if noop {
        return Some(x.clone());
    }
    // A pair of view ops whose second undoes the first.
    let views = ["Reshape", "Squeeze", "Unsqueeze", "Flatten"];
    if views.contains(&n.op_type.as_str()) {
        let p = uses.producer(x)?;
        let pn = &g.nodes[p];
        let px = pn.inputs.first()?;
        if (pn.domain.is_empty() || pn.domain == "ai.onnx")
            && views.contains(&pn.op_type.as_str())
            && uses.only_reader(x) == Some(i)
            && matches!((static_shape(g, px), static_shape(g, y)), (Some(a), Some(b)) if a == b)
        {
            return Some(px.clone());
        }
    }
    None
}

fn dropout_is_inference(g: &Graph, n: &Node) -> bool {
    match n.inputs.get(2).filter(|v| !v.is_empty()) {
        None => true,
        Some(v) => constant(g, v)
            .and_then(|t| t.to_i64_vec().ok())
            .is_some_and(|v| v == [0]),
    }
}

fn unit_steps(g: &Graph, n: &Node) -> bool {
    match n.inputs.get(4).filter(|v| !v.is_empty()) {
        None => true,
        Some(v) => constant(g, v)
            .and_then(|t| t.to_i64_vec().ok())
            .is_some_and(|s| s.iter().all(|&s| s == 1)),
    }
}

fn pads_are_zero(g: &Graph, n: &Node) -> bool {
    let pads = match n.attr_ints("pads").ok().flatten() {
        Some(p) => Some(p.to_vec()),
        None => n
            .inputs
            .get(1)
            .and_then(|v| constant(g, v))
            .and_then(|t| t.to_i64_vec().ok()),
    };
    pads.is_some_and(|p| p.iter().all(|&v| v == 0))
}

/// Makes node `i`'s readers read `src` and removes it; false when the output is a
/// graph output that cannot be given to `src`'s producer.
fn bypass(g: &mut Graph, uses: &Uses, i: usize, src: &str) -> bool {
    let y = g.nodes[i].outputs[0].clone();
    if !uses.is_graph_output(&y) {
        edit::redirect(g, &y, src);
        g.nodes.remove(i);
        return true;
    }
    // The graph output keeps its name: the producer of `src` takes it over, when
    // nothing else reads `src`.
    let Some(p) = uses.producer(src) else {
        return false;
    };
    if uses.is_graph_output(src) || uses.readers(src).iter().any(|&r| r != i) {
        return false;
    }
    for o in &mut g.nodes[p].outputs {
        if o == src {
            o.clone_from(&y);
        }
    }
    g.nodes.remove(i);
    true
}

/// Transpose(Transpose(x, p1), p2) → Transpose(x, p1∘p2) when the inner one has no
/// other reader; the result is removed later if the composition is the identity.
fn merge_transposes(g: &mut Graph, uses: &Uses, i: usize) -> bool {
    let n = &g.nodes[i];
    if !is(n, "Transpose") {
        return false;
    }
    let Some(p) = n.inputs.first().and_then(|x| uses.producer(x)) else {
        return false;
    };
    let pn = &g.nodes[p];
    if !is(pn, "Transpose") || uses.only_reader(&n.inputs[0]) != Some(i) {
        return false;
    }
    let (Some(p1), Some(p2)) = (
        pn.attr_ints("perm").ok().flatten(),
        n.attr_ints("perm").ok().flatten(),
    ) else {
        return false;
    };
    if p1.len() != p2.len() || p2.iter().any(|&a| a < 0 || a as usize >= p1.len()) {
        return false;
    }
    let perm: Vec<i64> = p2.iter().map(|&a| p1[a as usize]).collect();
    let x = pn.inputs[0].clone();
    let identity = perm.iter().enumerate().all(|(k, &a)| a == k as i64);
    let n = &mut g.nodes[i];
    n.inputs[0] = x;
    for a in &mut n.attrs {
        if a.name == "perm" {
            a.value = AttrValue::Ints(perm.clone());
        }
    }
    if identity {
        // Leave it an Identity for `passthrough` to remove.
        n.op_type = "Identity".into();
        n.attrs.clear();
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;
    use edit::{attr_int, attr_ints, node};
    use ort_core::{Dim, TypeInfo};
    use ort_graph::ValueDecl;

    fn decl(name: &str, shape: &[i64]) -> ValueDecl {
        ValueDecl {
            name: name.into(),
            ty: TypeInfo::tensor(
                ElemType::F32,
                Some(shape.iter().map(|&d| Dim::Known(d)).collect()),
            ),
        }
    }

    fn graph(nodes: Vec<Node>, out: &str) -> Graph {
        let mut g = Graph {
            inputs: vec![decl("x", &[2, 3])],
            outputs: vec![decl(out, &[2, 3])],
            nodes,
            ..Graph::default()
        };
        g.types.insert("x".into(), g.inputs[0].ty.clone());
        g
    }

    fn run(g: &mut Graph) -> usize {
        crate::run_pass(&RedundantNodes, g, 17)
    }

    fn ops(g: &Graph) -> Vec<&str> {
        g.nodes.iter().map(|n| n.op_type.as_str()).collect()
    }

    #[test]
    fn identity_cast_and_transpose_pair_vanish() {
        let mut g = graph(
            vec![
                node("Identity", "", "i", &["x"], &["a"], vec![]),
                node("Cast", "", "c", &["a"], &["b"], vec![attr_int("to", 1)]),
                node(
                    "Transpose",
                    "",
                    "t1",
                    &["b"],
                    &["t"],
                    vec![attr_ints("perm", vec![1, 0])],
                ),
                node(
                    "Transpose",
                    "",
                    "t2",
                    &["t"],
                    &["u"],
                    vec![attr_ints("perm", vec![1, 0])],
                ),
                node("Relu", "", "r", &["u"], &["y"], vec![]),
            ],
            "y",
        );
        assert!(run(&mut g) >= 3);
        crate::run_pass(&crate::DeadCode, &mut g, 17);
        assert_eq!(ops(&g), vec!["Relu"]);
        assert_eq!(g.nodes[0].inputs, vec!["x"]);
    }

    #[test]
    fn a_graph_output_keeps_its_name() {
        let mut g = graph(
            vec![
                node("Relu", "", "r", &["x"], &["a"], vec![]),
                node("Identity", "", "i", &["a"], &["y"], vec![]),
            ],
            "y",
        );
        assert_eq!(run(&mut g), 1);
        assert_eq!(ops(&g), vec!["Relu"]);
        assert_eq!(g.nodes[0].outputs, vec!["y"]);
    }

    #[test]
    fn real_work_stays() {
        let mut g = graph(
            vec![
                // Input straight to output through Identity: nothing can take its place.
                node("Identity", "", "i", &["x"], &["y"], vec![]),
                node("Cast", "", "c", &["x"], &["h"], vec![attr_int("to", 10)]),
                node(
                    "Transpose",
                    "",
                    "t1",
                    &["x"],
                    &["t"],
                    vec![attr_ints("perm", vec![1, 0])],
                ),
            ],
            "y",
        );
        g.outputs.push(decl("h", &[2, 3]));
        g.outputs.push(decl("t", &[3, 2]));
        assert_eq!(run(&mut g), 0);
        assert_eq!(ops(&g), vec!["Identity", "Cast", "Transpose"]);
    }

    #[test]
    fn transposes_that_do_not_cancel_merge() {
        let mut g = graph(
            vec![
                node(
                    "Transpose",
                    "",
                    "t1",
                    &["x"],
                    &["t"],
                    vec![attr_ints("perm", vec![1, 2, 0])],
                ),
                node(
                    "Transpose",
                    "",
                    "t2",
                    &["t"],
                    &["y"],
                    vec![attr_ints("perm", vec![1, 2, 0])],
                ),
            ],
            "y",
        );
        assert_eq!(run(&mut g), 1);
        assert_eq!(g.nodes[1].inputs, vec!["x"]);
        assert_eq!(
            g.nodes[1].attr_ints("perm").ok().flatten(),
            Some(vec![2, 0, 1])
        );
    }
}
