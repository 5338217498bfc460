//! MatMulInteger → Cast to float32 → Mul by a scale (→ Add of a bias), the
//! linear layer of dynamically quantized models, becomes MatMulIntegerToFloat
//! (`docs/fused-ops.md`): the integer GEMM scales and biases its output as it
//! stores it, with the same arithmetic.

use ort_core::kit::Attributes;
use ort_core::ElemType;
use ort_graph::Graph;

use crate::edit::{self, is, Uses};
use crate::{Level, Pass, PassContext, FUSED_DOMAIN};

pub struct MatMulIntegerToFloat;

impl Pass for MatMulIntegerToFloat {
    fn name(&self) -> &str {
        "matmul-integer-to-float-fusion"
    }
    fn level(&self) -> Level {
        Level::Extended
    }
    fn run(&self, g: &mut Graph, _ctx: &PassContext<'_>) -> Result<usize, String> {
        Ok(edit::rewrite_each(g, try_fuse))
    }
}

/// The operand of binary node `i` other than `x`, when `x` is read once.
fn other<'g>(g: &'g Graph, i: usize, x: &str) -> Option<&'g str> {
    match g.nodes[i].inputs.as_slice() {
        [a, b] if a == x && b != x => Some(b),
        [a, b] if b == x && a != x => Some(a),
        _ => None,
    }
}

/// `v` is float32 with a static shape of rank ≤ 1 holding 1 or `n` values.
fn per_column(g: &Graph, v: &str, n: i64) -> bool {
    let shape = edit::static_shape(g, v);
    let fits =
        matches!(shape.as_deref(), Some([]) | Some([1])) || shape.as_deref() == Some(&[n][..]);
    edit::elem_type(g, v) == Some(ElemType::F32) && fits
}

fn try_fuse(g: &mut Graph, uses: &Uses, i: usize) -> bool {
    let mi = &g.nodes[i];
    if !is(mi, "MatMulInteger") || !(2..=4).contains(&mi.inputs.len()) {
        return false;
    }
    // B a matrix, so the product has a column axis the scale may follow.
    let n = match edit::static_shape(g, &mi.inputs[1]).as_deref() {
        Some(&[_, n]) => n,
        _ => return false,
    };
    let Some(c) = uses.only_reader(&mi.outputs[0]) else {
        return false;
    };
    let cast = &g.nodes[c];
    if !is(cast, "Cast") || cast.attr_opt_int("to").ok().flatten() != Some(ElemType::F32 as i64) {
        return false;
    }
    let Some(m) = uses.only_reader(&cast.outputs[0]) else {
        return false;
    };
    let Some(scale) = other(g, m, &cast.outputs[0]) else {
        return false;
    };
    if !is(&g.nodes[m], "Mul") || !per_column(g, scale, n) {
        return false;
    }
    let mut matched = vec![i, c, m];
    let mut out = &g.nodes[m].outputs[0];
    let mut bias = None;
    if let Some(a) = uses.only_reader(out) {
        let b = other(g, a, out).filter(|&b| is(&g.nodes[a], "Add") && per_column(g, b, n));
        if let Some(b) = b {
            bias = Some(b);
            matched.push(a);
            out = &g.nodes[a].outputs[0];
        }
    }
    let input = |j: usize| mi.inputs.get(j).map(String::as_str).unwrap_or("");
    let mut inputs = vec![input(0), input(1), input(2), input(3), scale];
    inputs.extend(bias);
    let fused = edit::node(
        "MatMulIntegerToFloat",
        FUSED_DOMAIN,
        &format!("{}_to_float", mi.name),
        &inputs,
        &[out],
        vec![],
    );
    edit::replace(g, &matched, fused);
    true
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::edit::{attr_int, node};
    use ort_core::{Dim, Tensor, TypeInfo};
    use ort_graph::ValueDecl;

    /// xq [2, 4] uint8 · w [4, 3] int8 → Cast → Mul(s) → Add(bias) → y.
    fn graph(s: Tensor, bias_len: usize) -> Graph {
        let decl = |name: &str, elem, dims: &[i64]| ValueDecl {
            name: name.into(),
            ty: TypeInfo::tensor(elem, Some(dims.iter().map(|&d| Dim::Known(d)).collect())),
        };
        let mut g = Graph {
            inputs: vec![decl("xq", ElemType::U8, &[2, 4])],
            outputs: vec![decl("y", ElemType::F32, &[2, 3])],
            nodes: vec![
                node("MatMulInteger", "", "mm", &["xq", "w"], &["p"], vec![]),
                node("Cast", "", "cast", &["p"], &["f"], vec![attr_int("to", 1)]),
                node("Mul", "", "mul", &["f", "s"], &["scaled"], vec![]),
                node("Add", "", "add", &["bias", "scaled"], &["y"], vec![]),
            ],
            ..Graph::default()
        };
        g.types.insert("xq".into(), g.inputs[0].ty.clone());
        let w = Tensor::from_vec(&[4, 3], vec![1i8; 12]).unwrap();
        let bias = Tensor::from_vec(&[bias_len as i64], vec![0.5f32; bias_len]).unwrap();
        for (name, t) in [("w", w), ("s", s), ("bias", bias)] {
            g.types.insert(name.into(), edit::known_type(&t));
            g.initializers.push((name.into(), t));
        }
        g
    }

    fn run(g: &mut Graph) -> usize {
        crate::run_pass(&MatMulIntegerToFloat, g, 13)
    }

    #[test]
    fn the_dequantizing_chain_fuses_with_its_bias() {
        let mut g = graph(Tensor::from_vec(&[], vec![0.1f32]).unwrap(), 3);
        assert_eq!(run(&mut g), 1);
        assert_eq!(g.nodes.len(), 1);
        let n = &g.nodes[0];
        assert_eq!(n.op_type, "MatMulIntegerToFloat");
        assert_eq!(n.inputs, ["xq", "w", "", "", "s", "bias"]);
        assert_eq!(n.outputs, ["y"]);
    }

    #[test]
    fn a_bias_that_broadcasts_further_stays_an_add() {
        // A bias of 2 values does not follow the 3 columns.
        let mut g = graph(Tensor::from_vec(&[3], vec![0.1f32; 3]).unwrap(), 2);
        assert_eq!(run(&mut g), 1);
        let ops: Vec<&str> = g.nodes.iter().map(|n| n.op_type.as_str()).collect();
        assert_eq!(ops, ["MatMulIntegerToFloat", "Add"]);
        assert_eq!(g.nodes[0].outputs, ["scaled"]);
        // A scale along the rows is no per-column scale: nothing fuses.
        let mut g = graph(Tensor::from_vec(&[2, 1], vec![0.1f32; 2]).unwrap(), 3);
        assert_eq!(run(&mut g), 0);
    }
}
