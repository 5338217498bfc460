//! A convolution whose only reader is a 3×3 max pool becomes one
//! ConvMaxPool (`docs/fused-ops.md`): the CPU provider pools each band of
//! the convolution's output while it is in cache, so the convolution's
//! output (a first layer's, 3 MiB in ResNet and SqueezeNet) never goes to
//! memory and back. Only strided convolutions: a 3×3 stride-1 one keeps its
//! Winograd kernel.

use ort_core::ElemType;
use ort_graph::{AttrValue, Graph, Node};

use crate::edit::{self, elem_type, rank, Uses};
use crate::{Level, Pass, PassContext, FUSED_DOMAIN};

pub struct ConvMaxPool;

impl Pass for ConvMaxPool {
    fn name(&self) -> &str {
        "conv-max-pool-fusion"
    }
    fn level(&self) -> Level {
        Level::Extended
    }
    fn run(&self, g: &mut Graph, _ctx: &PassContext<'_>) -> Result<usize, String> {
        Ok(edit::rewrite_each(g, try_fuse))
    }
}

/// The pool's attributes the fused node carries, under a `pool_` prefix.
const POOL_ATTRS: &[&str] = &[
    "kernel_shape",
    "strides",
    "pads",
    "dilations",
    "auto_pad",
    "ceil_mode",
];

fn ints<'n>(n: &'n Node, name: &str) -> Option<&'n [i64]> {
    match n.attr(name) {
        Some(AttrValue::Ints(v)) => Some(v),
        _ => None,
    }
}

fn int(n: &Node, name: &str) -> Option<i64> {
    match n.attr(name) {
        Some(AttrValue::Int(v)) => Some(*v),
        _ => None,
    }
}

/// A 2-D 3×3 max pool with equal strides of 1 or 2, no dilation and no
/// indices output: the windows the fused kernel pools.
fn pools_3x3(n: &Node) -> bool {
    let strides = ints(n, "strides").unwrap_or(&[1, 1]);
    edit::is(n, "MaxPool")
        && n.outputs.iter().skip(1).all(|o| o.is_empty())
        && ints(n, "kernel_shape") == Some(&[3, 3])
        && strides.len() == 2
        && strides[0] == strides[1]
        && (1..=2).contains(&strides[0])
        && ints(n, "dilations").is_none_or(|d| d.iter().all(|&d| d == 1))
}

/// A 2-D convolution of one group, strided, with no residual input.
fn strided_conv(n: &Node) -> bool {
    let conv = edit::is(n, "Conv") || (n.domain == FUSED_DOMAIN && n.op_type == "FusedConv");
    conv && n.outputs.len() == 1
        && n.inputs.get(3).is_none_or(|z| z.is_empty())
        && int(n, "group").unwrap_or(1) == 1
        && ints(n, "strides").is_some_and(|s| s.len() == 2 && s.iter().any(|&s| s > 1))
}

fn try_fuse(g: &mut Graph, uses: &Uses, i: usize) -> bool {
    let pool = &g.nodes[i];
    if !pools_3x3(pool) {
        return false;
    }
    let x = &pool.inputs[0];
    let Some(c) = uses.producer(x).filter(|_| uses.only_reader(x) == Some(i)) else {
        return false;
    };
    let conv = &g.nodes[c];
    if !strided_conv(conv) || elem_type(g, x) != Some(ElemType::F32) || rank(g, x) != Some(4) {
        return false;
    }
    let mut fused = conv.clone();
    fused.op_type = "ConvMaxPool".into();
    fused.domain = FUSED_DOMAIN.into();
    fused.name = format!("{}_maxpool", conv.name);
    fused.outputs = vec![pool.outputs[0].clone()];
    for a in pool
        .attrs
        .iter()
        .filter(|a| POOL_ATTRS.contains(&a.name.as_str()))
    {
        let mut a = a.clone();
        a.name = format!("pool_{}", a.name);
        fused.attrs.push(a);
    }
    edit::replace(g, &[c, i], fused);
    true
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fuse::ActivationFusion;
    use edit::{attr_int, attr_ints, node};
    use ort_core::{Dim, TypeInfo};
    use ort_graph::ValueDecl;

    fn graph(nodes: Vec<Node>, outputs: &[&str]) -> Graph {
        let d = |n: &str, dims: &[i64]| ValueDecl {
            name: n.into(),
            ty: TypeInfo::tensor(
                ElemType::F32,
                Some(dims.iter().map(|&d| Dim::Known(d)).collect()),
            ),
        };
        let mut g = Graph {
            inputs: vec![d("x", &[1, 3, 32, 32]), d("w", &[8, 3, 3, 3])],
            outputs: outputs.iter().map(|o| d(o, &[1, 8, 8, 8])).collect(),
            nodes,
            ..Graph::default()
        };
        for (v, dims) in [("c", [1, 8, 16, 16]), ("r", [1, 8, 16, 16])] {
            g.types.insert(v.into(), d(v, &dims).ty);
        }
        g
    }

    fn conv(strides: i64) -> Node {
        let attrs = vec![
            attr_ints("kernel_shape", vec![3, 3]),
            attr_ints("strides", vec![strides, strides]),
            attr_ints("pads", vec![1, 1, 1, 1]),
        ];
        node("Conv", "", "conv", &["x", "w"], &["c"], attrs)
    }

    fn max_pool(x: &str) -> Node {
        let attrs = vec![
            attr_ints("kernel_shape", vec![3, 3]),
            attr_ints("strides", vec![2, 2]),
            attr_int("ceil_mode", 1),
            attr_int("storage_order", 0),
        ];
        node("MaxPool", "", "pool", &[x], &["y"], attrs)
    }

    fn fuse(g: &mut Graph) -> Vec<String> {
        crate::run_pass(&ActivationFusion, g, 17);
        crate::run_pass(&ConvMaxPool, g, 17);
        g.nodes.iter().map(|n| n.op_type.clone()).collect()
    }

    #[test]
    fn strided_conv_relu_max_pool_become_one_node() {
        let relu = node("Relu", "", "relu", &["c"], &["r"], vec![]);
        let mut g = graph(vec![conv(2), relu, max_pool("r")], &["y"]);
        assert_eq!(fuse(&mut g), ["ConvMaxPool"]);
        let n = &g.nodes[0];
        assert_eq!(
            (n.inputs.clone(), n.outputs.clone()),
            (vec!["x".into(), "w".into()], vec!["y".into()])
        );
        assert_eq!(edit::str_attr(n, "activation"), Some("Relu"));
        assert_eq!(ints(n, "strides"), Some(&[2, 2][..]));
        assert_eq!(ints(n, "pool_strides"), Some(&[2, 2][..]));
        assert_eq!(int(n, "pool_ceil_mode"), Some(1));
        assert!(n.attr("pool_storage_order").is_none() && n.attr("ceil_mode").is_none());
    }

    #[test]
    fn other_convs_and_pools_stay_apart() {
        // Stride 1 (Winograd's), a second reader, a 2×2 pool, indices wanted.
        let mut g = graph(vec![conv(1), max_pool("c")], &["y"]);
        assert_eq!(fuse(&mut g), ["Conv", "MaxPool"]);
        let mut g = graph(vec![conv(2), max_pool("c")], &["y", "c"]);
        assert_eq!(fuse(&mut g), ["Conv", "MaxPool"]);
        let mut p = max_pool("c");
        p.attrs[0] = attr_ints("kernel_shape", vec![2, 2]);
        let mut g = graph(vec![conv(2), p], &["y"]);
        assert_eq!(fuse(&mut g), ["Conv", "MaxPool"]);
        let mut p = max_pool("c");
        p.outputs.push("indices".into());
        let mut g = graph(vec![conv(2), p], &["y"]);
        assert_eq!(fuse(&mut g), ["Conv", "MaxPool"]);
    }
}
