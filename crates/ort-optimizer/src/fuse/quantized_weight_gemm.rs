//! Gemm whose B is DequantizeLinear of a constant int8 or uint8 matrix (a QDQ
//! model's classifier or projection weights) becomes QuantizedWeightGemm
//! (`docs/fused-ops.md`), which keeps B as integers: a quarter of the bytes to
//! hold and, at batch 1, to read. It runs before `DequantizeConstants`, which
//! would otherwise fold B to floats.

use ort_core::kit::Attributes;
use ort_core::ElemType::{F32, I8, U8};
use ort_graph::Graph;

use crate::edit::{self, constant, is, Uses};
use crate::{Level, Pass, PassContext, FUSED_DOMAIN};

pub struct QuantizedWeightGemm;

impl Pass for QuantizedWeightGemm {
    fn name(&self) -> &str {
        "quantized-weight-gemm"
    }
    fn level(&self) -> Level {
        Level::Extended
    }
    fn run(&self, g: &mut Graph, _ctx: &PassContext<'_>) -> Result<usize, String> {
        Ok(edit::rewrite_each(g, try_fuse))
    }
}

fn try_fuse(g: &mut Graph, uses: &Uses, i: usize) -> bool {
    let gm = &g.nodes[i];
    if !is(gm, "Gemm") || gm.inputs.len() < 2 || gm.outputs.len() != 1 {
        return false;
    }
    let Some(d) = uses.producer(&gm.inputs[1]) else {
        return false;
    };
    let dq = &g.nodes[d];
    if !is(dq, "DequantizeLinear") || uses.only_reader(&dq.outputs[0]) != Some(i) {
        return false;
    }
    let floats =
        |v: Option<&String>| v.is_none_or(|v| v.is_empty() || edit::elem_type(g, v) == Some(F32));
    if edit::elem_type(g, &gm.inputs[0]) != Some(F32) || !floats(gm.inputs.get(2)) {
        return false;
    }
    let (Some(w), Some(s)) = (
        constant(g, &dq.inputs[0]),
        dq.inputs.get(1).and_then(|s| constant(g, s)),
    ) else {
        return false;
    };
    let zp = dq.inputs.get(2).filter(|z| !z.is_empty());
    let z = zp.and_then(|z| constant(g, z));
    if zp.is_some() && z.is_none() {
        return false;
    }
    // B's column axis of the product, which per-channel parameters must follow.
    let n_axis = if gm.attr_opt_int("transB").ok().flatten().unwrap_or(0) != 0 {
        0
    } else {
        1
    };
    let axis = dq.attr_opt_int("axis").ok().flatten().unwrap_or(1);
    let per_channel = s.shape().len() == 1 && w.shape().len() == 2 && {
        let n = w.shape()[n_axis];
        s.len() as i64 == n && n > 1 && (axis == n_axis as i64 || axis == n_axis as i64 - 2)
    };
    let params = (s.len() == 1 || per_channel)
        && s.elem() == F32
        && z.is_none_or(|z| z.elem() == w.elem() && z.shape() == s.shape());
    // `axis` is all the plain form has; block_size or output_dtype ask for more.
    let plain = dq.attrs.iter().all(|a| a.name == "axis");
    if !matches!(w.elem(), I8 | U8) || w.shape().len() != 2 || !params || !plain {
        return false;
    }
    let c = gm.inputs.get(2).map(String::as_str).unwrap_or("");
    let mut inputs = vec![gm.inputs[0].as_str(), &dq.inputs[0], c, &dq.inputs[1]];
    if let Some(z) = zp {
        inputs.push(z);
    }
    let mut fused = edit::node(
        "QuantizedWeightGemm",
        FUSED_DOMAIN,
        &format!("{}_quantized_weight", gm.name),
        &inputs,
        &[&gm.outputs[0]],
        vec![],
    );
    fused.attrs = gm.attrs.clone();
    edit::replace(g, &[d, i], fused);
    true
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::edit::{attr_int, node};
    use ort_core::{Dim, Tensor, TypeInfo};
    use ort_graph::ValueDecl;

    /// x [1, 4] float32 · DequantizeLinear(w [3, 4] int8, s, z) (transB) + c.
    fn graph(s: Tensor, z: Option<Tensor>, dq_attrs: Vec<ort_graph::Attr>) -> Graph {
        let w = Tensor::from_vec(&[3, 4], vec![1i8; 12]).unwrap();
        let c = Tensor::from_vec(&[3], vec![0.5f32; 3]).unwrap();
        let x = ValueDecl {
            name: "x".into(),
            ty: TypeInfo::tensor(F32, Some(vec![Dim::Known(1), Dim::Known(4)])),
        };
        let y = ValueDecl {
            name: "y".into(),
            ty: TypeInfo::tensor(F32, Some(vec![Dim::Known(1), Dim::Known(3)])),
        };
        let dq_in: &[&str] = if z.is_some() {
            &["w", "s", "z"]
        } else {
            &["w", "s"]
        };
        let mut g = Graph {
            inputs: vec![x.clone()],
            outputs: vec![y],
            nodes: vec![
                node("DequantizeLinear", "", "dq", dq_in, &["wf"], dq_attrs),
                node(
                    "Gemm",
                    "",
                    "fc",
                    &["x", "wf", "c"],
                    &["y"],
                    vec![attr_int("transB", 1)],
                ),
            ],
            ..Graph::default()
        };
        g.types.insert("x".into(), x.ty);
        for (n, t) in [("w", Some(w)), ("c", Some(c)), ("s", Some(s)), ("z", z)] {
            if let Some(t) = t {
                g.types.insert(n.into(), edit::known_type(&t));
                g.initializers.push((n.into(), t));
            }
        }
        g
    }

    fn run(g: &mut Graph) -> usize {
        crate::run_pass(&QuantizedWeightGemm, g, 13)
    }

    #[test]
    fn a_gemm_of_dequantized_constant_weights_fuses() {
        let per_channel = Tensor::from_vec(&[3], vec![0.1f32, 0.2, 0.3]).unwrap();
        let zp = Tensor::from_vec(&[3], vec![0i8, 1, -1]).unwrap();
        let mut g = graph(per_channel, Some(zp), vec![attr_int("axis", 0)]);
        assert_eq!(run(&mut g), 1);
        assert_eq!(g.nodes.len(), 1);
        let n = &g.nodes[0];
        assert_eq!(
            (n.op_type.as_str(), n.domain.as_str()),
            ("QuantizedWeightGemm", FUSED_DOMAIN)
        );
        assert_eq!(n.inputs, ["x", "w", "c", "s", "z"]);
        assert_eq!(n.attr_opt_int("transB").ok().flatten(), Some(1));

        let mut g = graph(Tensor::from_vec(&[], vec![0.5f32]).unwrap(), None, vec![]);
        assert_eq!(run(&mut g), 1);
        assert_eq!(g.nodes[0].inputs, ["x", "w", "c", "s"]);
    }

    #[test]
    fn parameters_along_k_or_in_blocks_stay_dequantized() {
        // Per-channel along axis 1 is along K for a transposed B.
        let per_k = Tensor::from_vec(&[4], vec![0.1f32; 4]).unwrap();
        let mut g = graph(per_k, None, vec![attr_int("axis", 1)]);
        assert_eq!(run(&mut g), 0);
        let s = Tensor::from_vec(&[3], vec![0.1f32; 3]).unwrap();
        let blocked = vec![attr_int("axis", 0), attr_int("block_size", 2)];
        let mut g = graph(s, None, blocked);
        assert_eq!(run(&mut g), 0);
    }
}
