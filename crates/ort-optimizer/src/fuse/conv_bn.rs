//! Conv → BatchNormalization (inference) folds into the Conv's weights and bias:
//! `W' = W · s`, `B' = (B − mean) · s + beta` with `s = scale / √(var + ε)` per
//! output channel.

use ort_core::kit::Attributes;
use ort_core::{ElemType, Tensor};
use ort_graph::Graph;

use crate::edit::{self, constant, float_attr, is, Uses};
use crate::{Level, Pass, PassContext};

pub struct ConvBatchNorm;

impl Pass for ConvBatchNorm {
    fn name(&self) -> &str {
        "conv-batchnorm-fusion"
    }
    fn level(&self) -> Level {
        Level::Extended
    }
    fn run(&self, g: &mut Graph, _ctx: &PassContext<'_>) -> Result<usize, String> {
        Ok(edit::rewrite_each(g, |g, uses, i| {
            fold(g, uses, i).is_some()
        }))
    }
}

fn fold(g: &mut Graph, uses: &Uses, i: usize) -> Option<()> {
    let bn = &g.nodes[i];
    if !is(bn, "BatchNormalization") || bn.inputs.len() < 5 {
        return None;
    }
    // Training mode (opset 14+) or the running-stat outputs in use: not a pure affine.
    if bn.attr_opt_int("training_mode").ok().flatten().unwrap_or(0) != 0
        || bn.outputs[1..]
            .iter()
            .any(|o| !o.is_empty() && (!uses.readers(o).is_empty() || uses.is_graph_output(o)))
    {
        return None;
    }
    let x = &bn.inputs[0];
    let p = uses.producer(x)?;
    if uses.only_reader(x) != Some(i) {
        return None;
    }
    let conv = &g.nodes[p];
    if !is(conv, "Conv") {
        return None;
    }
    let w = constant(g, &conv.inputs[1])?;
    if !matches!(w.elem(), ElemType::F32 | ElemType::F64) {
        return None;
    }
    let vals = |k: usize| constant(g, &bn.inputs[k]).and_then(|t| t.to_f64_vec().ok());
    let (scale, beta, mean, var) = (vals(1)?, vals(2)?, vals(3)?, vals(4)?);
    let m = w.shape()[0] as usize;
    if [&scale, &beta, &mean, &var].iter().any(|v| v.len() != m) {
        return None;
    }
    let eps = float_attr(bn, "epsilon").unwrap_or(1e-5) as f64;
    let b = match conv.inputs.get(2).filter(|v| !v.is_empty()) {
        Some(v) => constant(g, v)?.to_f64_vec().ok()?,
        None => vec![0.0; m],
    };
    let s: Vec<f64> = (0..m).map(|c| scale[c] / (var[c] + eps).sqrt()).collect();
    let per = w.len() / m.max(1);
    let wv = w.to_f64_vec().ok()?;
    let new_w: Vec<f64> = wv
        .iter()
        .enumerate()
        .map(|(k, &v)| v * s[k / per])
        .collect();
    let new_b: Vec<f64> = (0..m).map(|c| (b[c] - mean[c]) * s[c] + beta[c]).collect();
    let make = |shape: &[i64], v: &[f64]| -> Option<Tensor> {
        match w.elem() {
            ElemType::F32 => Tensor::from_vec(shape, v.iter().map(|&x| x as f32).collect()).ok(),
            _ => Tensor::from_vec(shape, v.to_vec()).ok(),
        }
    };
    let (wt, bt) = (make(w.shape(), &new_w)?, make(&[m as i64], &new_b)?);
    let mut node = conv.clone();
    node.outputs = vec![bn.outputs[0].clone()];
    let base = conv.name.clone();
    let wn = edit::add_initializer(g, &format!("{base}_w_bn"), wt);
    let bname = edit::add_initializer(g, &format!("{base}_b_bn"), bt);
    node.inputs.truncate(2);
    node.inputs[1] = wn;
    node.inputs.push(bname);
    edit::replace(g, &[p, i], node);
    Some(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use edit::node;
    use ort_core::TypeInfo;
    use ort_graph::ValueDecl;

    fn graph(extra_reader: bool) -> Graph {
        let d = |n: &str| ValueDecl {
            name: n.into(),
            ty: TypeInfo::Unknown,
        };
        let t = |v: Vec<f32>| Tensor::from_vec(&[2], v).unwrap();
        let mut nodes = vec![
            node("Conv", "", "c", &["x", "w"], &["h"], vec![]),
            node(
                "BatchNormalization",
                "",
                "bn",
                &["h", "s", "b", "m", "v"],
                &["y"],
                vec![],
            ),
        ];
        if extra_reader {
            nodes.push(node("Relu", "", "r", &["h"], &["z"], vec![]));
        }
        Graph {
            inputs: vec![d("x")],
            outputs: vec![d("y")],
            nodes,
            initializers: vec![
                (
                    "w".into(),
                    Tensor::from_vec(&[2, 1, 1, 1], vec![1.0f32, 2.0]).unwrap(),
                ),
                ("s".into(), t(vec![2.0, 3.0])),
                ("b".into(), t(vec![0.5, -1.0])),
                ("m".into(), t(vec![1.0, 2.0])),
                ("v".into(), t(vec![4.0 - 1e-5, 9.0 - 1e-5])),
            ],
            ..Graph::default()
        }
    }

    fn run(g: &mut Graph) -> usize {
        crate::run_pass(&ConvBatchNorm, g, 17)
    }

    #[test]
    fn folds_into_weights_and_bias() {
        let mut g = graph(false);
        assert_eq!(run(&mut g), 1);
        assert_eq!(g.nodes.len(), 1);
        let n = &g.nodes[0];
        assert_eq!((n.op_type.as_str(), n.outputs[0].as_str()), ("Conv", "y"));
        // s = scale / sqrt(var + eps) = [1, 1]; W' = W; B' = (0 - mean) * s + beta.
        let w = g
            .initializer(&n.inputs[1])
            .unwrap()
            .to_vec::<f32>()
            .unwrap();
        let b = g
            .initializer(&n.inputs[2])
            .unwrap()
            .to_vec::<f32>()
            .unwrap();
        assert!(
            (w[0] - 1.0).abs() < 1e-5 && (w[1] - 2.0).abs() < 1e-5,
            "{w:?}"
        );
        assert!(
            (b[0] + 0.5).abs() < 1e-5 && (b[1] + 3.0).abs() < 1e-5,
            "{b:?}"
        );
    }

    #[test]
    fn a_second_reader_of_the_conv_output_blocks_it() {
        let mut g = graph(true);
        assert_eq!(run(&mut g), 0);
        assert_eq!(g.nodes.len(), 3);
    }
}
