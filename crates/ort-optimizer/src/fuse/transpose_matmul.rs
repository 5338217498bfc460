//! A Transpose that swaps only the last two axes of a MatMul operand is read in
//! place by FusedMatMul (`transA`/`transB`): the strided product needs no copy.
//! A Gemm (fused or not) flips its own `transA`/`transB` instead.

use ort_core::kit::Attributes;
use ort_graph::{AttrValue, Graph, Node};

use crate::edit::{self, elem_type, is, Uses};
use crate::{Level, Pass, PassContext, FUSED_DOMAIN};

pub struct TransposeMatMul;

impl Pass for TransposeMatMul {
    fn name(&self) -> &str {
        "transpose-matmul-fusion"
    }
    fn level(&self) -> Level {
        Level::Extended
    }
    fn run(&self, g: &mut Graph, _ctx: &PassContext<'_>) -> Result<usize, String> {
        Ok(edit::rewrite_each(g, |g, uses, i| match fuse(g, uses, i) {
            Some((t, node)) => {
                edit::replace(g, &[t, i], node);
                true
            }
            None => false,
        }))
    }
}

/// Swaps exactly the last two of its (at least two) axes.
fn swaps_last_two(t: &Node) -> bool {
    let Some(p) = t.attr_ints("perm").ok().flatten() else {
        return false;
    };
    let r = p.len();
    r >= 2
        && p.iter().enumerate().all(|(k, &a)| {
            let want = if k == r - 1 {
                r - 2
            } else if k == r - 2 {
                r - 1
            } else {
                k
            };
            a == want as i64
        })
}

fn fuse(g: &Graph, uses: &Uses, i: usize) -> Option<(usize, Node)> {
    let mm = &g.nodes[i];
    let plain = is(mm, "MatMul");
    let fused = |op: &str| mm.domain == FUSED_DOMAIN && mm.op_type == op;
    let gemm = is(mm, "Gemm") || fused("FusedGemm");
    if !(plain || gemm || fused("FusedMatMul")) {
        return None;
    }
    if !gemm
        && !matches!(
            elem_type(g, &mm.inputs[0]),
            Some(ort_core::ElemType::F32 | ort_core::ElemType::F64)
        )
    {
        return None;
    }
    for (k, attr) in [(0, "transA"), (1, "transB")] {
        let v = &mm.inputs[k];
        let Some(t) = uses.producer(v) else { continue };
        let tn = &g.nodes[t];
        if !is(tn, "Transpose") || !swaps_last_two(tn) || uses.only_reader(v) != Some(i) {
            continue;
        }
        if mm.inputs[1 - k] == *v {
            continue;
        }
        if gemm && tn.attr_ints("perm").ok().flatten() != Some(vec![1, 0]) {
            continue;
        }
        let mut node = mm.clone();
        if plain {
            node.op_type = "FusedMatMul".into();
            node.domain = FUSED_DOMAIN.into();
        }
        node.inputs[k].clone_from(&tn.inputs[0]);
        let flipped = node.attr_opt_int(attr).ok().flatten().unwrap_or(0) == 0;
        node.attrs.retain(|a| a.name != attr);
        node.attrs.push(ort_graph::Attr {
            name: attr.into(),
            value: AttrValue::Int(flipped as i64),
        });
        return Some((t, node));
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use edit::{attr_ints, node};
    use ort_core::{ElemType, TypeInfo};
    use ort_graph::ValueDecl;

    fn graph(perm: Vec<i64>, elem: ElemType) -> Graph {
        let d = |n: &str| ValueDecl {
            name: n.into(),
            ty: TypeInfo::tensor(elem, None),
        };
        let mut g = Graph {
            inputs: vec![d("q"), d("k")],
            outputs: vec![d("y")],
            nodes: vec![
                node(
                    "Transpose",
                    "",
                    "t",
                    &["k"],
                    &["kt"],
                    vec![attr_ints("perm", perm)],
                ),
                node("MatMul", "", "mm", &["q", "kt"], &["y"], vec![]),
            ],
            ..Graph::default()
        };
        g.types.insert("q".into(), d("q").ty);
        g
    }

    fn run(g: &mut Graph) -> usize {
        crate::run_pass(&TransposeMatMul, g, 17)
    }

    #[test]
    fn last_two_axes_swap_becomes_trans_b() {
        let mut g = graph(vec![0, 1, 3, 2], ElemType::F32);
        assert_eq!(run(&mut g), 1);
        let n = &g.nodes[0];
        assert_eq!(
            (n.op_type.as_str(), n.inputs[1].as_str()),
            ("FusedMatMul", "k")
        );
        assert_eq!(n.attr_opt_int("transB").ok().flatten(), Some(1));
    }

    #[test]
    fn other_permutations_and_integers_stay() {
        let mut g = graph(vec![0, 2, 1, 3], ElemType::F32);
        assert_eq!(run(&mut g), 0);
        let mut g = graph(vec![1, 0], ElemType::I64);
        assert_eq!(run(&mut g), 0);
    }

    #[test]
    fn gemm_flips_its_own_flag() {
        let mut g = graph(vec![1, 0], ElemType::F32);
        g.nodes[1] = node(
            "Gemm",
            "",
            "mm",
            &["q", "kt"],
            &["y"],
            vec![edit::attr_int("transB", 1)],
        );
        assert_eq!(run(&mut g), 1);
        let n = &g.nodes[0];
        assert_eq!((n.op_type.as_str(), n.inputs[1].as_str()), ("Gemm", "k"));
        assert_eq!(n.attr_opt_int("transB").ok().flatten(), Some(0));
    }
}
