//! `Reshape(x, [-1, K]) → Gemm → Reshape(·, [d0, …, N])` → one FusedMatMul on x.
//!
//! Exports of `Conv1D`-style layers (GPT-2) flatten the batch and sequence axes
//! into rows for a Gemm and restore them after. A matrix product by a 2-D weight
//! broadcasts over leading axes anyway, so the two Reshapes (and the Shape
//! arithmetic that computes their targets at run time) can go.

use ort_core::kit::Attributes;
use ort_graph::Graph;

use crate::dims::{self, DimExpr};
use crate::edit::{self, constant, float_attr, is, rank, Uses};
use crate::{Level, Pass, PassContext, FUSED_DOMAIN};

pub struct RowsGemm;

impl Pass for RowsGemm {
    fn name(&self) -> &str {
        "rows-gemm-fusion"
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
    let gm = &g.nodes[i];
    let fused = gm.domain == FUSED_DOMAIN && gm.op_type == "FusedGemm";
    if !(is(gm, "Gemm") || fused) || gm.outputs.len() != 1 {
        return None;
    }
    if gm.attr_opt_int("transA").ok().flatten().unwrap_or(0) != 0 {
        return None;
    }
    // The bias must broadcast along rows only, with beta 1.
    let bias = gm.inputs.get(2).filter(|c| !c.is_empty());
    if let Some(c) = bias {
        if rank(g, c)? > 1 || float_attr(gm, "beta").unwrap_or(1.0) != 1.0 {
            return None;
        }
    }
    let w = constant(g, &gm.inputs[1])?;
    let trans_b = gm.attr_opt_int("transB").ok().flatten().unwrap_or(0);
    let n = *w.shape().get(if trans_b != 0 { 0 } else { 1 })?;
    // FusedMatMul computes in f32/f64 only.
    if w.rank() != 2 || !matches!(w.elem(), ort_core::ElemType::F32 | ort_core::ElemType::F64) {
        return None;
    }

    // In front: rows of x.
    let flat = &gm.inputs[0];
    if uses.only_reader(flat) != Some(i) {
        return None;
    }
    let f = uses.producer(flat)?;
    let fnode = &g.nodes[f];
    if !is(fnode, "Reshape") || fnode.inputs.len() < 2 {
        return None;
    }
    let x = &fnode.inputs[0];
    let r = rank(g, x)?;
    let target = dims::elements(g, uses, &fnode.inputs[1])?;
    let rows_of_x = match target.as_slice() {
        [DimExpr::Known(-1), k] => r >= 2 && dims::is_dim(g, uses, k, x, r - 1),
        _ => false,
    };
    if !rows_of_x {
        return None;
    }

    // Behind: the leading axes of x back.
    let y = &gm.outputs[0];
    let u = uses.only_reader(y)?;
    let unode = &g.nodes[u];
    if !is(unode, "Reshape") || unode.inputs[0] != *y || unode.inputs.len() < 2 {
        return None;
    }
    let back = dims::elements(g, uses, &unode.inputs[1])?;
    let (last, lead) = back.split_last()?;
    let restores = lead.len() == r - 1
        && lead
            .iter()
            .enumerate()
            .all(|(k, e)| dims::is_dim(g, uses, e, x, k))
        && matches!(last, DimExpr::Known(m) if *m == n || (*m == -1 && !lead.is_empty()));
    if !restores {
        return None;
    }

    let mut node = gm.clone();
    node.op_type = "FusedMatMul".into();
    node.domain = FUSED_DOMAIN.into();
    node.name = format!("{}_rows", gm.name);
    node.inputs[0] = x.clone();
    node.outputs = vec![unode.outputs[0].clone()];
    node.attrs
        .retain(|a| !matches!(a.name.as_str(), "beta" | "transA"));
    edit::replace(g, &[f, i, u], node);
    Some(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use edit::node;
    use ort_core::{Dim, ElemType, Tensor, TypeInfo};
    use ort_graph::ValueDecl;

    /// x [b, s, 4] → Reshape [-1, Shape(x)[2]] → Gemm(w [4, 3], c [3]) →
    /// Reshape [Shape(x)[0], Shape(x)[`second`], 3].
    fn graph(second: i64, trans_a: i64) -> Graph {
        let ty = TypeInfo::tensor(
            ElemType::F32,
            Some(vec![
                Dim::Symbolic("b".into()),
                Dim::Symbolic("s".into()),
                Dim::Known(4),
            ]),
        );
        let i64s = |v: Vec<i64>| Tensor::from_vec(&[v.len() as i64], v).unwrap();
        let mut g = Graph {
            inputs: vec![ValueDecl {
                name: "x".into(),
                ty: ty.clone(),
            }],
            outputs: vec![ValueDecl {
                name: "y".into(),
                ty: ty.clone(),
            }],
            nodes: vec![
                node("Shape", "", "sh", &["x"], &["sh"], vec![]),
                node("Gather", "", "k", &["sh", "i2"], &["k"], vec![]),
                node(
                    "Concat",
                    "",
                    "t1",
                    &["m1", "k"],
                    &["t1"],
                    vec![edit::attr_int("axis", 0)],
                ),
                node("Reshape", "", "flat", &["x", "t1"], &["flat"], vec![]),
                node(
                    "Gemm",
                    "",
                    "gemm",
                    &["flat", "w", "c"],
                    &["rows"],
                    vec![edit::attr_int("transA", trans_a)],
                ),
                node("Gather", "", "lead", &["sh", "i0s"], &["lead"], vec![]),
                node(
                    "Concat",
                    "",
                    "t2",
                    &["lead", "n"],
                    &["t2"],
                    vec![edit::attr_int("axis", 0)],
                ),
                node("Reshape", "", "back", &["rows", "t2"], &["y"], vec![]),
            ],
            initializers: vec![
                ("i2".into(), i64s(vec![2])),
                ("m1".into(), i64s(vec![-1])),
                ("i0s".into(), i64s(vec![0, second])),
                ("n".into(), i64s(vec![3])),
                (
                    "w".into(),
                    Tensor::from_vec(&[4, 3], vec![1.0f32; 12]).unwrap(),
                ),
                ("c".into(), Tensor::from_vec(&[3], vec![1.0f32; 3]).unwrap()),
            ],
            ..Graph::default()
        };
        g.types.insert("x".into(), ty);
        g
    }

    #[test]
    fn flatten_gemm_restore_becomes_matmul_on_x() {
        let mut g = graph(1, 0);
        assert_eq!(crate::run_pass(&RowsGemm, &mut g, 17), 1);
        let mm = g.nodes.iter().find(|n| n.op_type == "FusedMatMul").unwrap();
        assert_eq!(mm.inputs, ["x", "w", "c"]);
        assert_eq!(mm.outputs, ["y"]);
        assert!(!g
            .nodes
            .iter()
            .any(|n| n.op_type == "Reshape" || n.op_type == "Gemm"));
    }

    #[test]
    fn other_restored_shape_or_trans_a_stays() {
        // Restores [b, b, 3] instead of [b, s, 3].
        let mut g = graph(0, 0);
        assert_eq!(crate::run_pass(&RowsGemm, &mut g, 17), 0);
        let mut g = graph(1, 1);
        assert_eq!(crate::run_pass(&RowsGemm, &mut g, 17), 0);
    }
}
