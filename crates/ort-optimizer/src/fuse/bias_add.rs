//! A constant bias added to a linear op's output goes into the op:
//! - MatMul(A 2-D, B 2-D) + c → Gemm(A, B, c) (standard ONNX);
//! - MatMul of higher rank + c[N] → FusedMatMul(A, B, c);
//! - Conv + c[1, M, 1, 1] → Conv with bias (added to an existing constant bias);
//! - Conv + a same-shaped tensor (a residual) → FusedConv(X, W, B, Z).

use ort_core::Tensor;
use ort_graph::{Graph, Node};

use crate::edit::{self, constant, is, rank, static_shape, Uses};
use crate::{Level, Pass, PassContext, FUSED_DOMAIN};

pub struct BiasAddFusion;

impl Pass for BiasAddFusion {
    fn name(&self) -> &str {
        "bias-add-fusion"
    }
    fn level(&self) -> Level {
        Level::Extended
    }
    fn run(&self, g: &mut Graph, _ctx: &PassContext<'_>) -> Result<usize, String> {
        Ok(edit::rewrite_each(g, try_fuse))
    }
}

fn try_fuse(g: &mut Graph, uses: &Uses, i: usize) -> bool {
    let add = &g.nodes[i];
    if !is(add, "Add") || add.inputs.len() != 2 {
        return false;
    }
    for (lin, other) in [(0, 1), (1, 0)] {
        let (v, c) = (&add.inputs[lin], &add.inputs[other]);
        let Some(p) = uses.producer(v) else { continue };
        if uses.only_reader(v) != Some(i) {
            continue;
        }
        let pn = &g.nodes[p];
        let fused = if is(pn, "MatMul") {
            matmul_bias(g, pn, c, &add.outputs[0])
        } else if is(pn, "Conv") {
            conv_bias(g, pn, c, &add.outputs[0], v)
        } else {
            None
        };
        if let Some((node, new_init)) = fused {
            if let Some((name, t)) = new_init {
                g.initializers.push((name, t));
            }
            edit::replace(g, &[p, i], node);
            return true;
        }
    }
    false
}

type Fused = (Node, Option<(String, Tensor)>);

fn matmul_bias(g: &Graph, mm: &Node, c: &str, out: &str) -> Option<Fused> {
    let ct = constant(g, c)?;
    let (a, b) = (&mm.inputs[0], &mm.inputs[1]);
    let bs = static_shape(g, b)?;
    if bs.len() != 2 || !ct.elem().is_float() {
        return None;
    }
    let n = bs[1];
    let row = ct.len() as i64 == n && ct.shape().iter().rev().skip(1).all(|&d| d == 1);
    let name = format!("{}_bias", mm.name);
    if rank(g, a) == Some(2) && constant(g, b).is_some() && row && ct.rank() <= 2 {
        return Some((
            edit::node("Gemm", "", &name, &[a, b, c], &[out], vec![]),
            None,
        ));
    }
    // Higher ranks: the bias must broadcast along the last axis only.
    let f32_or_f64 = matches!(
        edit::elem_type(g, a),
        Some(ort_core::ElemType::F32 | ort_core::ElemType::F64)
    );
    if row && f32_or_f64 && rank(g, a).is_some_and(|r| r >= 2 && ct.rank() <= r) {
        return Some((
            edit::node(
                "FusedMatMul",
                FUSED_DOMAIN,
                &name,
                &[a, b, c],
                &[out],
                vec![],
            ),
            None,
        ));
    }
    None
}

fn conv_bias(g: &Graph, conv: &Node, c: &str, out: &str, conv_out: &str) -> Option<Fused> {
    let m = static_shape(g, &conv.inputs[1])?[0];
    let name = format!("{}_bias", conv.name);
    if let Some(ct) = constant(g, c) {
        // Per-channel bias: [M, 1, 1] or [1, M, 1, 1] (any rank with only M not 1).
        let out_rank = rank(g, conv_out)?;
        let s = ct.shape();
        // Right-aligned against the output: 1 everywhere but the channel axis (1).
        let lead = out_rank.checked_sub(s.len())?;
        let per_channel = out_rank >= 2
            && s.iter()
                .enumerate()
                .all(|(k, &d)| d == 1 || (k + lead == 1 && d == m));
        if !per_channel || !ct.elem().is_float() {
            return None;
        }
        let mut add = ct.to_f64_vec().ok()?;
        if add.len() == 1 {
            add = vec![add[0]; m as usize];
        }
        let old = match conv.inputs.get(2).filter(|v| !v.is_empty()) {
            Some(b) => constant(g, b)?.to_f64_vec().ok()?,
            None => vec![0.0; m as usize],
        };
        let sum: Vec<f64> = old.iter().zip(&add).map(|(a, b)| a + b).collect();
        let t = float_like(ct, &[m], &sum)?;
        let bname = edit::fresh_name(g, &format!("{}_b", conv.name));
        let mut inputs: Vec<&str> = vec![&conv.inputs[0], &conv.inputs[1], &bname];
        inputs.truncate(3);
        let mut n = edit::node(
            "Conv",
            &conv.domain,
            &name,
            &inputs,
            &[out],
            conv.attrs.clone(),
        );
        n.inputs[2].clone_from(&bname);
        return Some((n, Some((bname, t))));
    }
    // A residual: same static shape as the Conv output.
    if !edit::same_shape(g, c, conv_out) || edit::elem_type(g, c) != edit::elem_type(g, conv_out) {
        return None;
    }
    let b = conv.inputs.get(2).cloned().unwrap_or_default();
    let n = edit::node(
        "FusedConv",
        FUSED_DOMAIN,
        &name,
        &[&conv.inputs[0], &conv.inputs[1], &b, c],
        &[out],
        conv.attrs.clone(),
    );
    Some((n, None))
}

/// A tensor of `like`'s float type holding `v`.
fn float_like(like: &Tensor, shape: &[i64], v: &[f64]) -> Option<Tensor> {
    use ort_core::ElemType::*;
    match like.elem() {
        F32 => Tensor::from_vec(shape, v.iter().map(|&x| x as f32).collect()).ok(),
        F64 => Tensor::from_vec(shape, v.to_vec()).ok(),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use edit::node;
    use ort_core::{Dim, ElemType, TypeInfo};
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

    fn run(g: &mut Graph) -> usize {
        crate::run_pass(&BiasAddFusion, g, 17)
    }

    fn f(shape: &[i64]) -> Tensor {
        let n = shape.iter().product::<i64>() as usize;
        Tensor::from_vec(shape, (0..n).map(|i| i as f32).collect()).unwrap()
    }

    fn graph(
        x: &[i64],
        nodes: Vec<Node>,
        inits: Vec<(&str, Tensor)>,
        typed: &[(&str, &[i64])],
    ) -> Graph {
        let mut g = Graph {
            inputs: vec![decl("x", x)],
            outputs: vec![decl("y", &[])],
            nodes,
            initializers: inits.into_iter().map(|(n, t)| (n.to_string(), t)).collect(),
            ..Graph::default()
        };
        g.types.insert("x".into(), g.inputs[0].ty.clone());
        for (n, s) in typed {
            g.types.insert(n.to_string(), decl(n, s).ty);
        }
        g
    }

    #[test]
    fn matmul_add_becomes_gemm_or_fused_matmul() {
        let nodes = || {
            vec![
                node("MatMul", "", "mm", &["x", "w"], &["h"], vec![]),
                node("Add", "", "y", &["b", "h"], &["y"], vec![]),
            ]
        };
        let mut g = graph(
            &[4, 3],
            nodes(),
            vec![("w", f(&[3, 5])), ("b", f(&[5]))],
            &[],
        );
        assert_eq!(run(&mut g), 1);
        assert_eq!(g.nodes.len(), 1);
        assert_eq!(
            (g.nodes[0].op_type.as_str(), g.nodes[0].inputs.clone()),
            ("Gemm", vec!["x".to_string(), "w".into(), "b".into()])
        );
        let mut g = graph(
            &[2, 4, 3],
            nodes(),
            vec![("w", f(&[3, 5])), ("b", f(&[5]))],
            &[],
        );
        assert_eq!(run(&mut g), 1);
        assert_eq!(
            (g.nodes[0].op_type.as_str(), g.nodes[0].domain.as_str()),
            ("FusedMatMul", FUSED_DOMAIN)
        );
    }

    #[test]
    fn a_second_reader_or_a_wide_bias_blocks_it() {
        let mut g = graph(
            &[4, 3],
            vec![
                node("MatMul", "", "mm", &["x", "w"], &["h"], vec![]),
                node("Add", "", "y", &["h", "b"], &["y"], vec![]),
                node("Neg", "", "n", &["h"], &["n"], vec![]),
            ],
            vec![("w", f(&[3, 5])), ("b", f(&[5]))],
            &[],
        );
        assert_eq!(run(&mut g), 0);
        let mut g = graph(
            &[4, 3],
            vec![
                node("MatMul", "", "mm", &["x", "w"], &["h"], vec![]),
                node("Add", "", "y", &["h", "b"], &["y"], vec![]),
            ],
            vec![("w", f(&[3, 5])), ("b", f(&[4, 1]))],
            &[],
        );
        assert_eq!(
            run(&mut g),
            0,
            "a per-row bias is not a Gemm C of this kind"
        );
    }

    #[test]
    fn conv_takes_a_channel_bias_and_a_residual() {
        let mut g = graph(
            &[1, 2, 4, 4],
            vec![
                node("Conv", "", "c1", &["x", "w"], &["h"], vec![]),
                node("Add", "", "a1", &["h", "b"], &["h2"], vec![]),
                node("Conv", "", "c2", &["h2", "w"], &["h3"], vec![]),
                node("Add", "", "y", &["h3", "h2"], &["y"], vec![]),
            ],
            vec![("w", f(&[2, 2, 1, 1])), ("b", f(&[1, 2, 1, 1]))],
            &[
                ("h", &[1, 2, 4, 4]),
                ("h2", &[1, 2, 4, 4]),
                ("h3", &[1, 2, 4, 4]),
            ],
        );
        assert_eq!(run(&mut g), 2);
        let ops: Vec<&str> = g.nodes.iter().map(|n| n.op_type.as_str()).collect();
        assert_eq!(ops, vec!["Conv", "FusedConv"]);
        let b = g
            .initializer(&g.nodes[0].inputs[2])
            .unwrap()
            .to_vec::<f32>()
            .unwrap();
        assert_eq!(b, vec![0.0, 1.0]);
        assert_eq!(g.nodes[1].inputs[3], "h2");
    }
}
