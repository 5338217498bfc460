//! QuantizeLinear → DequantizeLinear with one per-tensor scale and zero point
//! (what QDQ models put between their float ops) becomes one QuantizeDequantize
//! (`docs/fused-ops.md`): the values go to the integer grid and back in one pass,
//! with the same arithmetic, instead of being written as integers and read again.

use ort_core::ElemType;
use ort_graph::Graph;

use crate::edit::{self, constant, is, Uses};
use crate::{Level, Pass, PassContext, FUSED_DOMAIN};

pub struct QuantizeDequantize;

impl Pass for QuantizeDequantize {
    fn name(&self) -> &str {
        "quantize-dequantize-fusion"
    }
    fn level(&self) -> Level {
        Level::Extended
    }
    fn run(&self, g: &mut Graph, _ctx: &PassContext<'_>) -> Result<usize, String> {
        Ok(edit::rewrite_each(g, try_fuse))
    }
}

fn try_fuse(g: &mut Graph, uses: &Uses, i: usize) -> bool {
    let dq = &g.nodes[i];
    if !is(dq, "DequantizeLinear") || dq.inputs.len() != 3 || dq.outputs.len() != 1 {
        return false;
    }
    let Some(p) = uses.producer(&dq.inputs[0]) else {
        return false;
    };
    let q = &g.nodes[p];
    if !is(q, "QuantizeLinear") || q.inputs.len() != 3 || uses.only_reader(&q.outputs[0]) != Some(i)
    {
        return false;
    }
    // The same scale and zero point on both sides, one of each, int8 or uint8.
    let same = |a: &str, b: &str| {
        a == b
            || matches!((constant(g, a), constant(g, b)), (Some(x), Some(y))
                if x.elem() == y.elem() && x.shape() == y.shape() && x.bytes() == y.bytes())
    };
    let (scale, zp) = (&q.inputs[1], &q.inputs[2]);
    let (Some(s), Some(z)) = (constant(g, scale), constant(g, zp)) else {
        return false;
    };
    let per_tensor = s.len() == 1 && z.len() == 1;
    let types = s.elem() == ElemType::F32 && matches!(z.elem(), ElemType::U8 | ElemType::I8);
    let x_f32 = edit::elem_type(g, &q.inputs[0]) == Some(ElemType::F32);
    // Per-tensor parameters make `axis` moot, and `saturate` only concerns float
    // targets; any other attribute (block_size, precision, output_dtype) asks
    // for something the fused op does not do.
    let plain = |n: &ort_graph::Node| {
        n.attrs
            .iter()
            .all(|a| matches!(a.name.as_str(), "axis" | "saturate"))
    };
    if !per_tensor
        || !types
        || !x_f32
        || !plain(q)
        || !plain(dq)
        || !same(scale, &dq.inputs[1])
        || !same(zp, &dq.inputs[2])
    {
        return false;
    }
    let name = format!("{}_dequantize", q.name);
    let fused = edit::node(
        "QuantizeDequantize",
        FUSED_DOMAIN,
        &name,
        &[&q.inputs[0], scale, zp],
        &[&dq.outputs[0]],
        vec![],
    );
    edit::replace(g, &[p, i], fused);
    true
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::edit::node;
    use ort_core::Tensor;
    use ort_graph::Node;

    fn graph(nodes: Vec<Node>, outputs: &[&str]) -> Graph {
        edit::scalar_graph(
            nodes,
            outputs,
            &[
                ("s", Tensor::from_vec(&[], vec![0.5f32]).unwrap()),
                ("s2", Tensor::from_vec(&[], vec![0.5f32]).unwrap()),
                ("s3", Tensor::from_vec(&[], vec![0.25f32]).unwrap()),
                ("z", Tensor::from_vec(&[], vec![3u8]).unwrap()),
            ],
        )
    }

    fn run(g: &mut Graph) -> usize {
        crate::run_pass(&QuantizeDequantize, g, 13)
    }

    fn pair(dq_scale: &str) -> Vec<Node> {
        vec![
            node("QuantizeLinear", "", "q", &["x", "s", "z"], &["xq"], vec![]),
            node(
                "DequantizeLinear",
                "",
                "dq",
                &["xq", dq_scale, "z"],
                &["y"],
                vec![],
            ),
        ]
    }

    #[test]
    fn a_round_trip_with_equal_parameters_fuses() {
        // The same initializer, or another with the same value.
        for scale in ["s", "s2"] {
            let mut g = graph(pair(scale), &["y"]);
            assert_eq!(run(&mut g), 1);
            assert_eq!(g.nodes.len(), 1);
            let n = &g.nodes[0];
            assert_eq!(
                (n.op_type.as_str(), n.domain.as_str()),
                ("QuantizeDequantize", FUSED_DOMAIN)
            );
            assert_eq!(
                (n.inputs.clone(), n.outputs.clone()),
                (vec!["x".into(), "s".into(), "z".into()], vec!["y".into()])
            );
        }
    }

    #[test]
    fn other_scales_or_a_second_reader_do_not() {
        let mut g = graph(pair("s3"), &["y"]);
        assert_eq!(run(&mut g), 0);
        // The integers are read elsewhere (here: a graph output).
        let mut g = graph(pair("s"), &["y", "xq"]);
        assert_eq!(run(&mut g), 0);
        let mut nodes = pair("s");
        nodes[0].attrs.push(edit::attr_int("block_size", 2));
        let mut g = graph(nodes, &["y"]);
        assert_eq!(run(&mut g), 0);
    }
}
