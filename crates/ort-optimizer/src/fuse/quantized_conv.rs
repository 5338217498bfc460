//! A pointwise Conv whose input is a DequantizeLinear output and whose weights
//! are DequantizeLinear of a constant int8/uint8 tensor (a QDQ model's 1×1
//! convolutions) becomes QuantizedConv (`docs/fused-ops.md`): the weights stay
//! integers and the input is read as the levels it was made from, so the CPU
//! runs the product as an integer GEMM. Convolutions with larger windows are
//! left to fold their weights to floats, where the float kernels are as fast.
//! Runs before `DequantizeConstants`, which would fold the weights.

use ort_core::kit::Attributes;
use ort_core::ElemType::{F32, I8, U8};
use ort_core::Tensor;
use ort_graph::{Graph, Node};

use crate::edit::{self, constant, is, Uses};
use crate::{Level, Pass, PassContext, FUSED_DOMAIN};

pub struct QuantizedConv;

impl Pass for QuantizedConv {
    fn name(&self) -> &str {
        "quantized-conv"
    }
    fn level(&self) -> Level {
        Level::Extended
    }
    fn run(&self, g: &mut Graph, _ctx: &PassContext<'_>) -> Result<usize, String> {
        Ok(edit::rewrite_each(g, try_fuse))
    }
}

/// Only `axis`: `block_size` or `output_dtype` ask for more than the op reads.
fn plain(dq: &Node) -> bool {
    is(dq, "DequantizeLinear") && dq.attrs.iter().all(|a| a.name == "axis")
}

fn try_fuse(g: &mut Graph, uses: &Uses, i: usize) -> bool {
    let conv = &g.nodes[i];
    if !is(conv, "Conv") || conv.inputs.len() < 2 || conv.outputs.len() != 1 {
        return false;
    }
    let (Some(dx), Some(dw)) = (
        uses.producer(&conv.inputs[0]),
        uses.producer(&conv.inputs[1]),
    ) else {
        return false;
    };
    let (xq, wq) = (&g.nodes[dx], &g.nodes[dw]);
    if !plain(xq) || !plain(wq) || uses.only_reader(&wq.outputs[0]) != Some(i) {
        return false;
    }
    let bias = conv.inputs.get(2).filter(|b| !b.is_empty());
    if edit::elem_type(g, &conv.inputs[0]) != Some(F32)
        || bias.is_some_and(|b| edit::elem_type(g, b) != Some(F32))
        || !pointwise(conv)
    {
        return false;
    }
    // X: one scale and one zero point, which says the integer type.
    let (Some(xs), Some(xz)) = (
        arg(xq, 1).and_then(|s| constant(g, s)),
        arg(xq, 2).and_then(|z| constant(g, z)),
    ) else {
        return false;
    };
    let scale = xs.as_slice::<f32>().ok().and_then(|s| s.first().copied());
    if xs.len() != 1 || xz.len() != 1 || !matches!(xz.elem(), I8 | U8) {
        return false;
    }
    if !scale.is_some_and(|s| s > 0.0 && s.is_normal() && (1.0 / s).is_normal()) {
        return false;
    }
    // W: an 8-bit constant with a 1×1 window, per tensor or per output channel.
    let (Some(w), Some(ws)) = (
        constant(g, &wq.inputs[0]),
        arg(wq, 1).and_then(|s| constant(g, s)),
    ) else {
        return false;
    };
    let wz = arg(wq, 2);
    let wzt = wz.and_then(|z| constant(g, z));
    if wz.is_some() && wzt.is_none() || !weights_fit(wq, w, ws, wzt) {
        return false;
    }
    let mut inputs = vec![
        conv.inputs[0].as_str(),
        &xq.inputs[1],
        &xq.inputs[2],
        &wq.inputs[0],
        &wq.inputs[1],
    ];
    inputs.push(wz.map_or("", |z| z.as_str()));
    inputs.push(bias.map_or("", |b| b.as_str()));
    let mut fused = edit::node(
        "QuantizedConv",
        FUSED_DOMAIN,
        &format!("{}_quantized", conv.name),
        &inputs,
        &[&conv.outputs[0]],
        vec![],
    );
    fused.attrs = conv.attrs.clone();
    edit::replace(g, &[dw, i], fused);
    true
}

/// Input `k` of `n`, when present.
fn arg(n: &Node, k: usize) -> Option<&String> {
    n.inputs.get(k).filter(|v| !v.is_empty())
}

/// One group, stride 1, no padding or dilation (a 1×1 window is checked on W).
fn pointwise(conv: &Node) -> bool {
    let all = |name: &str, v: i64| match conv.attr_ints(name) {
        Ok(a) => a.is_none_or(|a| a.iter().all(|&x| x == v)),
        Err(_) => false,
    };
    conv.attr_opt_int("group").ok().flatten().unwrap_or(1) == 1
        && all("strides", 1)
        && all("dilations", 1)
        && all("pads", 0)
        && all("kernel_shape", 1)
}

fn weights_fit(dq: &Node, w: &Tensor, s: &Tensor, z: Option<&Tensor>) -> bool {
    let shape = w.shape();
    if !matches!(w.elem(), I8 | U8) || shape.len() < 3 || shape[2..].iter().any(|&d| d != 1) {
        return false;
    }
    let axis = dq.attr_opt_int("axis").ok().flatten().unwrap_or(1);
    let m = shape[0];
    let per_channel = s.shape().len() == 1 && s.len() as i64 == m && m > 1 && axis == 0;
    (s.len() == 1 || per_channel)
        && s.elem() == F32
        && z.is_none_or(|z| z.elem() == w.elem() && z.shape() == s.shape())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::edit::{attr_int, attr_ints, node};
    use ort_core::{Dim, TypeInfo};
    use ort_graph::ValueDecl;

    /// DequantizeLinear(x [1, 4, 2, 2] uint8) → Conv with DequantizeLinear(w
    /// [3, 4, k, k] int8, per channel) and a bias.
    fn graph(k: i64, conv_attrs: Vec<ort_graph::Attr>) -> Graph {
        let t = |shape: &[i64], v: Vec<f32>| Tensor::from_vec(shape, v).unwrap();
        let consts = [
            ("xs", t(&[], vec![0.1])),
            ("xz", Tensor::from_vec(&[], vec![3u8]).unwrap()),
            (
                "w",
                Tensor::from_vec(&[3, 4, k, k], vec![1i8; (12 * k * k) as usize]).unwrap(),
            ),
            ("ws", t(&[3], vec![0.1, 0.2, 0.3])),
            ("wz", Tensor::from_vec(&[3], vec![0i8; 3]).unwrap()),
            ("b", t(&[3], vec![0.5; 3])),
        ];
        let decl = |name: &str, elem, dims: &[i64]| ValueDecl {
            name: name.into(),
            ty: TypeInfo::tensor(elem, Some(dims.iter().map(|&d| Dim::Known(d)).collect())),
        };
        let (x, y) = (decl("xq", U8, &[1, 4, 2, 2]), decl("y", F32, &[1, 3, 2, 2]));
        let mut g = Graph {
            inputs: vec![x.clone()],
            outputs: vec![y],
            nodes: vec![
                node(
                    "DequantizeLinear",
                    "",
                    "dx",
                    &["xq", "xs", "xz"],
                    &["x"],
                    vec![],
                ),
                node(
                    "DequantizeLinear",
                    "",
                    "dw",
                    &["w", "ws", "wz"],
                    &["wf"],
                    vec![attr_int("axis", 0)],
                ),
                node("Conv", "", "conv", &["x", "wf", "b"], &["y"], conv_attrs),
            ],
            ..Graph::default()
        };
        g.types.insert("xq".into(), x.ty);
        g.types.insert("x".into(), decl("x", F32, &[1, 4, 2, 2]).ty);
        for (n, t) in consts {
            g.types.insert(n.into(), edit::known_type(&t));
            g.initializers.push((n.into(), t));
        }
        g
    }

    fn run(g: &mut Graph) -> usize {
        crate::run_pass(&QuantizedConv, g, 13)
    }

    #[test]
    fn a_pointwise_conv_of_dequantized_values_fuses() {
        let mut g = graph(1, vec![attr_ints("kernel_shape", vec![1, 1])]);
        assert_eq!(run(&mut g), 1);
        assert_eq!(g.nodes.len(), 2);
        let n = &g.nodes[1];
        assert_eq!(
            (n.op_type.as_str(), n.domain.as_str()),
            ("QuantizedConv", FUSED_DOMAIN)
        );
        assert_eq!(n.inputs, ["x", "xs", "xz", "w", "ws", "wz", "b"]);
        assert_eq!(n.outputs, ["y"]);
    }

    #[test]
    fn windows_strides_and_groups_stay_float() {
        let mut g = graph(3, vec![]);
        assert_eq!(run(&mut g), 0);
        let mut g = graph(1, vec![attr_ints("strides", vec![2, 2])]);
        assert_eq!(run(&mut g), 0);
        let mut g = graph(1, vec![attr_ints("pads", vec![0, 0, 1, 1])]);
        assert_eq!(run(&mut g), 0);
    }
}
