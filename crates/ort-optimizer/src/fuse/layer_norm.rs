//! LayerNormalization from the pattern that models exported before opset 17
//! spell it with:
//!
//! ```text
//! D = X − ReduceMean(X)            (last axis, keepdims)
//! Y = D / Sqrt(ReduceMean(D²) + ε)  (D² as Pow(D, 2) or D·D)
//!     (· scale)? (+ bias)?
//! ```
//!
//! From opset 17 on this becomes ONNX's LayerNormalization, before it the fused
//! domain's, which has the same contract.

use ort_core::kit::Attributes;
use ort_core::{ElemType, Tensor};
use ort_graph::{Graph, Node};

use crate::edit::{self, constant, elem_type, is, rank, scalar, static_shape, Uses};
use crate::{Level, Pass, PassContext, FUSED_DOMAIN};

pub struct LayerNormFusion;

impl Pass for LayerNormFusion {
    fn name(&self) -> &str {
        "layernorm-fusion"
    }
    fn level(&self) -> Level {
        Level::Extended
    }
    fn run(&self, g: &mut Graph, ctx: &PassContext<'_>) -> Result<usize, String> {
        let onnx = ctx.onnx_opset() >= 17;
        Ok(edit::rewrite_each(g, |g, uses, i| {
            fuse(g, uses, i, onnx).is_some()
        }))
    }
}

/// A ReduceMean over only the last of `r` axes, keeping it.
fn last_axis_mean(g: &Graph, n: &Node, r: i64) -> bool {
    if !is(n, "ReduceMean") || n.attr_opt_int("keepdims").ok().flatten().unwrap_or(1) != 1 {
        return false;
    }
    let axes = match n.attr_ints("axes").ok().flatten() {
        Some(a) => a.to_vec(),
        None => match n.inputs.get(1).and_then(|a| constant(g, a)) {
            Some(t) => t.to_i64_vec().unwrap_or_default(),
            None => return false,
        },
    };
    matches!(axes.as_slice(), [a] if *a == -1 || *a == r - 1)
}

/// The producer of `v`, when `v` is read by nobody but `reader`.
fn sole<'g>(g: &'g Graph, uses: &Uses, v: &str, reader: usize) -> Option<(usize, &'g Node)> {
    (uses.only_reader(v) == Some(reader)).then_some(())?;
    let p = uses.producer(v)?;
    Some((p, &g.nodes[p]))
}

/// The other input of a binary `n` when one of them is `v`.
fn other<'n>(n: &'n Node, v: &str) -> Option<&'n str> {
    match n.inputs.as_slice() {
        [a, b] if a == v => Some(b),
        [a, b] if b == v => Some(a),
        _ => None,
    }
}

/// A constant vector (rank 1) that a binary op reading `v` applies.
fn vector_operand(g: &Graph, n: &Node, v: &str) -> Option<String> {
    let c = other(n, v)?;
    (constant(g, c)?.rank() == 1).then(|| c.to_string())
}

fn fuse(g: &mut Graph, uses: &Uses, i: usize, onnx: bool) -> Option<()> {
    let div = &g.nodes[i];
    if !is(div, "Div") {
        return None;
    }
    let (d, std) = (&div.inputs[0], &div.inputs[1]);
    let (sq, sqn) = sole(g, uses, std, i)?;
    if !is(sqn, "Sqrt") {
        return None;
    }
    let (add, addn) = sole(g, uses, &sqn.inputs[0], sq)?;
    if !is(addn, "Add") {
        return None;
    }
    let var = addn.inputs.iter().find(|v| {
        uses.producer(v)
            .is_some_and(|p| is(&g.nodes[p], "ReduceMean"))
    })?;
    let eps = scalar(g, other(addn, var)?)?;
    let (vm, vmn) = sole(g, uses, var, add)?;
    let (sqr, sqrn) = sole(g, uses, &vmn.inputs[0], vm)?;
    let squares_d =
        (is(sqrn, "Pow") && sqrn.inputs[0] == *d && scalar(g, &sqrn.inputs[1]) == Some(2.0))
            || (is(sqrn, "Mul") && sqrn.inputs[0] == *d && sqrn.inputs[1] == *d);
    if !squares_d {
        return None;
    }
    // D is read by the square and the Div only.
    let mut readers = uses.readers(d).to_vec();
    readers.sort_unstable();
    readers.dedup();
    if uses.is_graph_output(d) || readers.len() != 2 || !readers.contains(&sqr) {
        return None;
    }
    let sub = uses.producer(d)?;
    let subn = &g.nodes[sub];
    if !is(subn, "Sub") {
        return None;
    }
    let (x, mean) = (&subn.inputs[0], &subn.inputs[1]);
    let (m, mn) = sole(g, uses, mean, sub)?;
    let r = rank(g, x)? as i64;
    let elem = elem_type(g, x)?;
    if mn.inputs[0] != *x
        || !last_axis_mean(g, mn, r)
        || !last_axis_mean(g, vmn, r)
        || !matches!(elem, ElemType::F32 | ElemType::F64)
        || eps < 0.0
    {
        return None;
    }

    // The affine tail, when there is one.
    let mut matched = vec![m, sub, sqr, vm, add, sq, i];
    let mut out = div.outputs[0].clone();
    let mut scale = None;
    let mut bias = None;
    if let Some(j) = uses.only_reader(&out) {
        let jn = &g.nodes[j];
        if is(jn, "Mul") {
            if let Some(s) = vector_operand(g, jn, &out) {
                (scale, out) = (Some(s), jn.outputs[0].clone());
                matched.push(j);
            }
        }
    }
    if let Some(j) = uses.only_reader(&out) {
        let jn = &g.nodes[j];
        if is(jn, "Add") {
            if let Some(b) = vector_operand(g, jn, &out) {
                (bias, out) = (Some(b), jn.outputs[0].clone());
                matched.push(j);
            }
        }
    }
    let name = format!("{}_layernorm", div.name);
    let (x, out) = (x.clone(), out);
    let scale = match scale {
        Some(s) => s,
        None => {
            let n = *static_shape(g, &x)?.last()?;
            let ones = match elem {
                ElemType::F64 => Tensor::from_vec(&[n], vec![1.0f64; n as usize]),
                _ => Tensor::from_vec(&[n], vec![1.0f32; n as usize]),
            }
            .ok()?;
            edit::add_initializer(g, &format!("{name}_scale"), ones)
        }
    };
    let mut inputs = vec![x.as_str(), &scale];
    if let Some(b) = &bias {
        inputs.push(b);
    }
    let node = edit::node(
        "LayerNormalization",
        if onnx { "" } else { FUSED_DOMAIN },
        &name,
        &inputs,
        &[&out],
        vec![
            edit::attr_int("axis", -1),
            edit::attr_float("epsilon", eps as f32),
        ],
    );
    edit::replace(g, &matched, node);
    Some(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use edit::{attr_ints, node};
    use ort_core::{Dim, TypeInfo};
    use ort_graph::ValueDecl;

    /// The decomposed pattern over axis `axis` of x [2, 3, 4]; `square` is "Pow"
    /// or "Mul"; `affine` adds `· scale + bias`.
    fn graph(axis: i64, square: &str, affine: bool) -> Graph {
        let ty = TypeInfo::tensor(
            ElemType::F32,
            Some(vec![Dim::Known(2), Dim::Known(3), Dim::Known(4)]),
        );
        let mean = |n: &str, x: &str| {
            node(
                "ReduceMean",
                "",
                n,
                &[x],
                &[n],
                vec![attr_ints("axes", vec![axis])],
            )
        };
        let sq = if square == "Pow" {
            node("Pow", "", "sq", &["d", "two"], &["sq"], vec![])
        } else {
            node("Mul", "", "sq", &["d", "d"], &["sq"], vec![])
        };
        let mut nodes = vec![
            mean("m", "x"),
            node("Sub", "", "d", &["x", "m"], &["d"], vec![]),
            sq,
            mean("v", "sq"),
            node("Add", "", "ve", &["v", "eps"], &["ve"], vec![]),
            node("Sqrt", "", "s", &["ve"], &["s"], vec![]),
            node("Div", "", "n", &["d", "s"], &["n"], vec![]),
        ];
        if affine {
            nodes.push(node("Mul", "", "ns", &["scale", "n"], &["ns"], vec![]));
            nodes.push(node("Add", "", "y", &["ns", "bias"], &["y"], vec![]));
        } else {
            nodes.last_mut().unwrap().outputs = vec!["y".into()];
        }
        let scalar = |v: f32| Tensor::from_vec(&[], vec![v]).unwrap();
        let vec4 = || Tensor::from_vec(&[4], vec![0.5f32; 4]).unwrap();
        let d = |n: &str| ValueDecl {
            name: n.into(),
            ty: ty.clone(),
        };
        let mut g = Graph {
            inputs: vec![d("x")],
            outputs: vec![d("y")],
            nodes,
            initializers: vec![
                ("two".into(), scalar(2.0)),
                ("eps".into(), scalar(1e-5)),
                ("scale".into(), vec4()),
                ("bias".into(), vec4()),
            ],
            ..Graph::default()
        };
        g.types.insert("x".into(), ty.clone());
        g
    }

    #[test]
    fn pow_form_with_affine_tail() {
        for (opset, domain) in [(13, FUSED_DOMAIN), (17, "")] {
            let mut g = graph(-1, "Pow", true);
            assert_eq!(crate::run_pass(&LayerNormFusion, &mut g, opset), 1);
            assert_eq!(g.nodes.len(), 1);
            let n = &g.nodes[0];
            assert_eq!(
                (n.op_type.as_str(), n.domain.as_str()),
                ("LayerNormalization", domain)
            );
            assert_eq!(n.inputs, ["x", "scale", "bias"]);
            assert_eq!(n.outputs, ["y"]);
            assert_eq!(edit::float_attr(n, "epsilon"), Some(1e-5));
        }
    }

    #[test]
    fn product_form_without_affine_gets_unit_scale() {
        let mut g = graph(2, "Mul", false);
        assert_eq!(crate::run_pass(&LayerNormFusion, &mut g, 17), 1);
        let n = &g.nodes[0];
        assert_eq!(n.inputs.len(), 2);
        let ones = constant(&g, &n.inputs[1]).unwrap();
        assert_eq!(ones.to_f64_vec().unwrap(), vec![1.0; 4]);
    }

    #[test]
    fn other_axis_or_shared_difference_does_not_fuse() {
        let mut g = graph(1, "Pow", true);
        assert_eq!(crate::run_pass(&LayerNormFusion, &mut g, 17), 0);
        let mut g = graph(-1, "Pow", true);
        g.nodes.push(node("Neg", "", "z", &["d"], &["z"], vec![]));
        g.outputs.push(ValueDecl {
            name: "z".into(),
            ty: g.outputs[0].ty.clone(),
        });
        assert_eq!(crate::run_pass(&LayerNormFusion, &mut g, 17), 0);
    }
}
