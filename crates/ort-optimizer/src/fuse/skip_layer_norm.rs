//! Add → LayerNormalization over the last axis → SkipLayerNormalization: the
//! residual sum and the normalization in one pass. When the sum is read elsewhere
//! too (the residual path), the fused node gives it as its second output.

use ort_core::kit::Attributes;
use ort_graph::Graph;

use crate::edit::{self, constant, elem_type, float_attr, is, rank, Uses};
use crate::{Level, Pass, PassContext, FUSED_DOMAIN};

pub struct SkipLayerNorm;

impl Pass for SkipLayerNorm {
    fn name(&self) -> &str {
        "skip-layernorm-fusion"
    }
    fn level(&self) -> Level {
        Level::Extended
    }
    fn run(&self, g: &mut Graph, _ctx: &PassContext<'_>) -> Result<usize, String> {
        Ok(edit::rewrite_each(g, |g, uses, i| {
            fuse(g, uses, i).is_some()
        }))
    }
}

fn fuse(g: &mut Graph, uses: &Uses, i: usize) -> Option<()> {
    let ln = &g.nodes[i];
    let onnx_ln = is(ln, "LayerNormalization");
    if !(onnx_ln || (ln.domain == FUSED_DOMAIN && ln.op_type == "LayerNormalization")) {
        return None;
    }
    // Only Y: the Mean / InvStdDev outputs have no counterpart.
    if ln.outputs[1..].iter().any(|o| !o.is_empty()) {
        return None;
    }
    let sum = &ln.inputs[0];
    let r = rank(g, sum)? as i64;
    let axis = ln.attr_opt_int("axis").ok().flatten().unwrap_or(-1);
    if axis != -1 && axis != r - 1 {
        return None;
    }
    // Scale and B are vectors, as the kernel requires.
    let vector = |v: &str| constant(g, v).is_some_and(|t| t.rank() == 1);
    if !vector(&ln.inputs[1])
        || ln
            .inputs
            .get(2)
            .is_some_and(|b| !b.is_empty() && !vector(b))
    {
        return None;
    }
    let a = uses.producer(sum)?;
    let add = &g.nodes[a];
    if !is(add, "Add") || uses.is_graph_output(sum) {
        return None;
    }
    if !matches!(
        elem_type(g, sum),
        Some(ort_core::ElemType::F32 | ort_core::ElemType::F64)
    ) {
        return None;
    }
    let shared = uses.readers(sum).len() > 1;
    // The fused node sits where the Add was when others read the sum, so its
    // other inputs must already exist there.
    if shared {
        let before_add = |v: &str| v.is_empty() || uses.producer(v).is_none_or(|p| p < a);
        if !ln.inputs[1..].iter().all(|v| before_add(v)) {
            return None;
        }
    }
    let eps = float_attr(ln, "epsilon").unwrap_or(1e-5);
    let beta = ln.inputs.get(2).cloned().unwrap_or_default();
    let outputs: Vec<&str> = if shared {
        vec![&ln.outputs[0], sum]
    } else {
        vec![&ln.outputs[0]]
    };
    let node = edit::node(
        "SkipLayerNormalization",
        FUSED_DOMAIN,
        &format!("{}_skip", ln.name),
        &[&add.inputs[0], &add.inputs[1], &ln.inputs[1], &beta],
        &outputs,
        vec![edit::attr_float("epsilon", eps)],
    );
    if shared {
        g.nodes[a] = node;
        g.nodes.remove(i);
    } else {
        edit::replace(g, &[a, i], node);
    }
    Some(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use edit::node;
    use ort_core::{Dim, ElemType, Tensor, TypeInfo};
    use ort_graph::{Node, ValueDecl};

    fn graph(nodes: Vec<Node>, scale_shape: &[i64]) -> Graph {
        let ty = TypeInfo::tensor(ElemType::F32, Some(vec![Dim::Unknown, Dim::Known(4)]));
        let d = |n: &str| ValueDecl {
            name: n.into(),
            ty: ty.clone(),
        };
        let mut g = Graph {
            inputs: vec![d("x"), d("skip")],
            outputs: vec![d("y"), d("z")],
            nodes,
            initializers: vec![(
                "scale".into(),
                Tensor::from_vec(scale_shape, vec![1.0f32; 4]).unwrap(),
            )],
            ..Graph::default()
        };
        g.types.insert("s".into(), ty);
        g
    }

    fn run(g: &mut Graph) -> usize {
        crate::run_pass(&SkipLayerNorm, g, 17)
    }

    #[test]
    fn residual_add_and_layernorm_fuse_keeping_the_sum() {
        let mut g = graph(
            vec![
                node("Add", "", "a", &["x", "skip"], &["s"], vec![]),
                node(
                    "LayerNormalization",
                    "",
                    "ln",
                    &["s", "scale"],
                    &["y"],
                    vec![],
                ),
                node("Relu", "", "r", &["s"], &["z"], vec![]),
            ],
            &[4],
        );
        assert_eq!(run(&mut g), 1);
        let ops: Vec<&str> = g.nodes.iter().map(|n| n.op_type.as_str()).collect();
        assert_eq!(ops, vec!["SkipLayerNormalization", "Relu"]);
        assert_eq!(g.nodes[0].outputs, vec!["y", "s"]);
    }

    #[test]
    fn a_non_vector_scale_or_other_axis_does_not() {
        let nodes = || {
            vec![
                node("Add", "", "a", &["x", "skip"], &["s"], vec![]),
                node(
                    "LayerNormalization",
                    "",
                    "ln",
                    &["s", "scale"],
                    &["y"],
                    vec![],
                ),
            ]
        };
        let mut g = graph(nodes(), &[2, 2]);
        assert_eq!(run(&mut g), 0);
        let mut g = graph(nodes(), &[4]);
        g.nodes[1].attrs.push(edit::attr_int("axis", 0));
        assert_eq!(run(&mut g), 0);
    }
}
