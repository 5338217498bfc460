//! Multi-head attention, as PyTorch and Hugging Face exports spell it:
//!
//! ```text
//! Q, V: Reshape(x, [B, S, H, D]) → Transpose [0, 2, 1, 3]
//! K:    Reshape(x, [B, S, H, D]) → Transpose [0, 2, 3, 1]
//! MatMul(Q, K) → (Mul | Div by a scalar)? → (Add mask)? → Softmax(last axis)
//!   → MatMul(·, V) → Transpose [0, 2, 1, 3] → Reshape [B, S, H·D]
//! ```
//!
//! becomes `MultiHeadAttention(q, k, v, mask)` over the packed `[B, S, H·D]`
//! values. The Reshape targets are usually computed at run time from `Shape`, so
//! [`crate::dims`] proves that they only split or merge the last axis.

use ort_core::kit::Attributes;
use ort_core::ElemType;
use ort_graph::Graph;

use crate::dims::{self, DimExpr};
use crate::edit::{self, elem_type, is, rank, scalar, Uses};
use crate::{Level, Pass, PassContext, FUSED_DOMAIN};

pub struct AttentionFusion;

impl Pass for AttentionFusion {
    fn name(&self) -> &str {
        "attention-fusion"
    }
    fn level(&self) -> Level {
        Level::Extended
    }
    fn run(&self, g: &mut Graph, ctx: &PassContext<'_>) -> Result<usize, String> {
        let opset = ctx.onnx_opset();
        Ok(edit::rewrite_each(g, |g, uses, i| {
            fuse(g, uses, i, opset).is_some()
        }))
    }
}

/// A packed `[B, S, H·W]` value viewed per head by Reshape + Transpose.
struct Heads {
    packed: String,
    heads: i64,
    width: i64,
    nodes: [usize; 2],
}

/// Matches `Transpose(Reshape(x, [B, S, H, W]), perm)` read only through `v`.
fn split_heads(g: &Graph, uses: &Uses, v: &str, perm: &[i64]) -> Option<Heads> {
    uses.only_reader(v)?;
    let t = uses.producer(v)?;
    let tn = &g.nodes[t];
    if !is(tn, "Transpose") || tn.attr_ints("perm").ok().flatten()? != perm {
        return None;
    }
    let reshaped = &tn.inputs[0];
    uses.only_reader(reshaped)?;
    let r = uses.producer(reshaped)?;
    let rn = &g.nodes[r];
    if !is(rn, "Reshape") || rn.inputs.len() < 2 {
        return None;
    }
    let x = &rn.inputs[0];
    if rank(g, x)? != 3 {
        return None;
    }
    let target = dims::elements(g, uses, &rn.inputs[1])?;
    let [b, s, h, w] = target.as_slice() else {
        return None;
    };
    if !dims::is_dim(g, uses, b, x, 0) || !dims::is_dim(g, uses, s, x, 1) {
        return None;
    }
    let hidden = match dims::declared(g, x, 2) {
        Some(ort_core::Dim::Known(n)) => Some(n),
        _ => None,
    };
    let (heads, width) = match (h, w, hidden) {
        (DimExpr::Known(h), DimExpr::Known(w), _) if *h > 0 && *w > 0 => {
            if hidden.is_some_and(|n| n != h * w) {
                return None;
            }
            (*h, *w)
        }
        (DimExpr::Known(-1), DimExpr::Known(w), Some(n)) if *w > 0 && n % w == 0 => (n / w, *w),
        (DimExpr::Known(h), DimExpr::Known(-1), Some(n)) if *h > 0 && n % h == 0 => (*h, n / h),
        _ => return None,
    };
    Some(Heads {
        packed: x.clone(),
        heads,
        width,
        nodes: [r, t],
    })
}

fn fuse(g: &mut Graph, uses: &Uses, i: usize, opset: i64) -> Option<()> {
    let sm = &g.nodes[i];
    if !is(sm, "Softmax") {
        return None;
    }
    let scores = &sm.inputs[0];
    if rank(g, scores)? != 4 || !matches!(elem_type(g, scores)?, ElemType::F32 | ElemType::F64) {
        return None;
    }
    let axis = sm
        .attr_opt_int("axis")
        .ok()
        .flatten()
        .unwrap_or(if opset < 13 { 1 } else { -1 });
    if axis != -1 && axis != 3 {
        return None;
    }

    // After the Softmax: · V, heads back together.
    let pv = uses.only_reader(&sm.outputs[0])?;
    let pvn = &g.nodes[pv];
    if !is(pvn, "MatMul") || pvn.inputs[0] != sm.outputs[0] {
        return None;
    }
    let v = split_heads(g, uses, &pvn.inputs[1], &[0, 2, 1, 3])?;
    let ot = uses.only_reader(&pvn.outputs[0])?;
    let otn = &g.nodes[ot];
    if !is(otn, "Transpose") || otn.attr_ints("perm").ok().flatten()? != [0, 2, 1, 3] {
        return None;
    }
    let (or, shapes) = merge_heads_readers(g, uses, &otn.outputs[0])?;
    let orn = &g.nodes[or];

    // Before it: Q·Kᵀ, scaled, masked.
    let mut matched = vec![i, pv, ot, or];
    let mut at = scores.clone();
    let mut mask = String::new();
    let mut scale = 1.0f64;
    let mut scaled = false;
    let qk = loop {
        uses.only_reader(&at)?;
        let p = uses.producer(&at)?;
        let n = &g.nodes[p];
        let from_scores = |x: &str| {
            uses.producer(x).is_some_and(|q| {
                ["MatMul", "Mul", "Div"]
                    .iter()
                    .any(|op| is(&g.nodes[q], op))
            })
        };
        if is(n, "MatMul") {
            break p;
        } else if is(n, "Add") && mask.is_empty() && !scaled {
            let (s, m) = if from_scores(&n.inputs[0]) {
                (&n.inputs[0], &n.inputs[1])
            } else if from_scores(&n.inputs[1]) {
                (&n.inputs[1], &n.inputs[0])
            } else {
                return None;
            };
            if rank(g, m)? > 4 || elem_type(g, m)? != elem_type(g, scores)? {
                return None;
            }
            (mask, at) = (m.clone(), s.clone());
        } else if (is(n, "Mul") || is(n, "Div")) && !scaled {
            let (s, c) = match (scalar(g, &n.inputs[1]), scalar(g, &n.inputs[0])) {
                (Some(c), _) => (&n.inputs[0], c),
                (None, Some(c)) if is(n, "Mul") => (&n.inputs[1], c),
                _ => return None,
            };
            scale = if is(n, "Mul") { c } else { 1.0 / c };
            (scaled, at) = (true, s.clone());
        } else {
            return None;
        }
        matched.push(p);
    };
    matched.push(qk);
    let qkn = &g.nodes[qk];
    let q = split_heads(g, uses, &qkn.inputs[0], &[0, 2, 1, 3])?;
    let k = split_heads(g, uses, &qkn.inputs[1], &[0, 2, 3, 1])?;
    if q.heads != k.heads || q.heads != v.heads || q.width != k.width || !scale.is_finite() {
        return None;
    }

    // The final Reshape must give [B, S, H·Dv]: B and S of Q (what the fused op
    // returns) or of the transposed product itself.
    let target = dims::elements(g, uses, &orn.inputs[1])?;
    let [b, s, hw] = target.as_slice() else {
        return None;
    };
    let batch_dim = |e: &DimExpr, axis| {
        dims::is_dim(g, uses, e, &q.packed, axis) || dims::is_dim(g, uses, e, &otn.outputs[0], axis)
    };
    let merged = matches!(hw, DimExpr::Known(n) if *n == -1 || *n == v.heads * v.width);
    if !batch_dim(b, 0) || !batch_dim(s, 1) || !merged {
        return None;
    }

    matched.extend(q.nodes.iter().chain(&k.nodes).chain(&v.nodes));
    matched.sort_unstable();
    matched.dedup();
    let mut inputs = vec![q.packed.as_str(), &k.packed, &v.packed];
    if !mask.is_empty() {
        inputs.push(&mask);
    }
    let node = edit::node(
        "MultiHeadAttention",
        FUSED_DOMAIN,
        &format!("{}_attention", sm.name),
        &inputs,
        &[&orn.outputs[0]],
        vec![
            edit::attr_int("num_heads", q.heads),
            edit::attr_float("scale", scale as f32),
        ],
    );
    // Shape(O) readers only take B and S, which the packed Q has at the same place.
    for &j in &shapes {
        g.nodes[j].inputs[0] = q.packed.clone();
    }
    edit::replace(g, &matched, node);
    Some(())
}

/// The readers of the heads-last-again value `o` ([B, S, H, Dv]): one Reshape, plus
/// any `Shape(o)` whose readers only Gather dim 0 or 1, as exports compute the
/// final Reshape's target from them. Returns the Reshape and the Shape nodes.
fn merge_heads_readers(g: &Graph, uses: &Uses, o: &str) -> Option<(usize, Vec<usize>)> {
    if uses.is_graph_output(o) {
        return None;
    }
    let (mut reshape, mut shapes) = (None, Vec::new());
    for &r in uses.readers(o) {
        let n = &g.nodes[r];
        if is(n, "Reshape") && n.inputs[0] == o && n.inputs.get(1).is_some_and(|t| t != o) {
            if reshape.replace(r).is_some() {
                return None;
            }
        } else if is(n, "Shape") && n.attrs.is_empty() && !uses.is_graph_output(&n.outputs[0]) {
            let picks_batch_or_seq = |&u: &usize| {
                let gn = &g.nodes[u];
                is(gn, "Gather")
                    && gn.inputs[0] == n.outputs[0]
                    && gn.attr_opt_int("axis").ok().flatten().unwrap_or(0) == 0
                    && edit::constant(g, &gn.inputs[1])
                        .and_then(|t| t.to_i64_vec().ok())
                        .is_some_and(|ks| ks.iter().all(|k| matches!(k, 0 | 1)))
            };
            if !uses.readers(&n.outputs[0]).iter().all(picks_batch_or_seq) {
                return None;
            }
            shapes.push(r);
        } else {
            return None;
        }
    }
    Some((reshape?, shapes))
}

#[cfg(test)]
mod tests {
    use super::*;
    use edit::{attr_int, attr_ints, node};
    use ort_core::{Dim, Tensor, TypeInfo};
    use ort_graph::{Node, ValueDecl};

    /// What to change in the BERT-style pattern for the negative cases.
    #[derive(Default)]
    struct Variant {
        k_perm: Option<Vec<i64>>,
        softmax_axis: Option<i64>,
        /// Take the Q target's batch dim from the mask (another symbol).
        batch_from_mask: bool,
        scores_are_output: bool,
    }

    fn sym(names: &[&str]) -> TypeInfo {
        let d = names
            .iter()
            .map(|n| match n.parse() {
                Ok(k) => Dim::Known(k),
                Err(_) => Dim::Symbolic(n.to_string().into()),
            })
            .collect();
        TypeInfo::tensor(ElemType::F32, Some(d))
    }

    /// `Reshape(x, Concat(Shape(src)[0], Shape(src)[1], -1, 4))` as `{x}_r`.
    fn split(x: &str, src: &str, nodes: &mut Vec<Node>) {
        let s = format!("{x}_shape");
        nodes.push(node("Shape", "", &s, &[src], &[&s], vec![]));
        for (k, c) in ["zero", "one"].iter().enumerate() {
            let (gk, uk) = (format!("{x}_g{k}"), format!("{x}_u{k}"));
            nodes.push(node("Gather", "", &gk, &[&s, c], &[&gk], vec![]));
            nodes.push(node("Unsqueeze", "", &uk, &[&gk, "axes0"], &[&uk], vec![]));
        }
        let (t, r) = (format!("{x}_target"), format!("{x}_r"));
        let parts = [format!("{x}_u0"), format!("{x}_u1")];
        nodes.push(node(
            "Concat",
            "",
            &t,
            &[&parts[0], &parts[1], "minus1", "four"],
            &[&t],
            vec![attr_int("axis", 0)],
        ));
        nodes.push(node("Reshape", "", &r, &[x, &t], &[&r], vec![]));
    }

    /// Q, K, V: [b, s, 8] with 2 heads of 4; mask [b, 1, s, s]; y [b, s, 8].
    fn graph(v: &Variant) -> Graph {
        let mut nodes = Vec::new();
        for x in ["q", "k", "v"] {
            let src = if v.batch_from_mask && x == "q" {
                "mask"
            } else {
                x
            };
            split(x, src, &mut nodes);
        }
        let perm = |p: Vec<i64>| vec![attr_ints("perm", p)];
        nodes.extend([
            node(
                "Transpose",
                "",
                "qt",
                &["q_r"],
                &["qt"],
                perm(vec![0, 2, 1, 3]),
            ),
            node(
                "Transpose",
                "",
                "kt",
                &["k_r"],
                &["kt"],
                perm(v.k_perm.clone().unwrap_or(vec![0, 2, 3, 1])),
            ),
            node(
                "Transpose",
                "",
                "vt",
                &["v_r"],
                &["vt"],
                perm(vec![0, 2, 1, 3]),
            ),
            node("MatMul", "", "qk", &["qt", "kt"], &["qk"], vec![]),
            node("Mul", "", "scaled", &["qk", "half"], &["scaled"], vec![]),
            node(
                "Add",
                "",
                "masked",
                &["scaled", "mask"],
                &["masked"],
                vec![],
            ),
            node(
                "Softmax",
                "",
                "p",
                &["masked"],
                &["p"],
                vec![attr_int("axis", v.softmax_axis.unwrap_or(-1))],
            ),
            node("MatMul", "", "pv", &["p", "vt"], &["pv"], vec![]),
            node(
                "Transpose",
                "",
                "o",
                &["pv"],
                &["o"],
                perm(vec![0, 2, 1, 3]),
            ),
        ]);
        split("o", "o", &mut nodes);
        // The merge target is [B, S, -1]: drop the trailing 4.
        let t = nodes.iter_mut().find(|n| n.name == "o_target").unwrap();
        t.inputs.pop();
        nodes.last_mut().unwrap().outputs = vec!["y".into()];
        let d = |n: &str, t: TypeInfo| ValueDecl {
            name: n.into(),
            ty: t,
        };
        let packed = sym(&["b", "s", "8"]);
        let mut outputs = vec![d("y", packed.clone())];
        if v.scores_are_output {
            outputs.push(d("masked", sym(&["b", "2", "s", "s"])));
        }
        let i64s = |v: Vec<i64>, shape: &[i64]| Tensor::from_vec(shape, v).unwrap();
        let mut g = Graph {
            inputs: vec![
                d("q", packed.clone()),
                d("k", packed.clone()),
                d("v", packed.clone()),
                d("mask", sym(&["m", "1", "s", "s"])),
            ],
            outputs,
            nodes,
            initializers: vec![
                ("zero".into(), i64s(vec![0], &[])),
                ("one".into(), i64s(vec![1], &[])),
                ("axes0".into(), i64s(vec![0], &[1])),
                ("minus1".into(), i64s(vec![-1], &[1])),
                ("four".into(), i64s(vec![4], &[1])),
                ("half".into(), Tensor::from_vec(&[], vec![0.5f32]).unwrap()),
            ],
            ..Graph::default()
        };
        for x in ["q", "k", "v", "o"] {
            g.types.insert(format!("{x}_r"), sym(&["b", "s", "2", "4"]));
        }
        for x in ["q", "k", "v"] {
            g.types.insert(x.into(), packed.clone());
        }
        g.types.insert("mask".into(), sym(&["m", "1", "s", "s"]));
        g.types.insert("o".into(), sym(&["b", "s", "2", "4"]));
        g.types.insert("masked".into(), sym(&["b", "2", "s", "s"]));
        g
    }

    fn run(g: &mut Graph) -> usize {
        crate::run_pass(&AttentionFusion, g, 17)
    }

    #[test]
    fn bert_style_chain_becomes_one_node() {
        let mut g = graph(&Variant::default());
        assert_eq!(run(&mut g), 1);
        let mha: Vec<&Node> = g
            .nodes
            .iter()
            .filter(|n| n.op_type == "MultiHeadAttention")
            .collect();
        assert_eq!(mha.len(), 1);
        assert_eq!(mha[0].inputs, ["q", "k", "v", "mask"]);
        assert_eq!(mha[0].outputs, ["y"]);
        assert_eq!(mha[0].attr_opt_int("num_heads").ok().flatten(), Some(2));
        assert_eq!(edit::float_attr(mha[0], "scale"), Some(0.5));
        // No Transpose, MatMul or Softmax is left; Shape(o) now reads the packed Q.
        assert!(!g
            .nodes
            .iter()
            .any(|n| ["Transpose", "MatMul", "Softmax"].contains(&n.op_type.as_str())));
        let shape_o = g.nodes.iter().find(|n| n.name == "o_shape").unwrap();
        assert_eq!(shape_o.inputs, ["q"]);
    }

    #[test]
    fn wrong_key_layout_axis_or_dims_do_not_fuse() {
        let cases = [
            Variant {
                k_perm: Some(vec![0, 2, 1, 3]),
                ..Variant::default()
            },
            Variant {
                softmax_axis: Some(2),
                ..Variant::default()
            },
            Variant {
                batch_from_mask: true,
                ..Variant::default()
            },
            Variant {
                scores_are_output: true,
                ..Variant::default()
            },
        ];
        for v in &cases {
            let mut g = graph(v);
            assert_eq!(run(&mut g), 0);
        }
    }
}
