//! Inference BatchNormalization with constant parameters, folded at compile
//! time into one scale and shift per channel (`channel_*` in
//! `kernels/elementwise.cu`).

use ort_core::kit::Attributes;
use ort_core::{GraphView, NodeView};

use super::conv::Channel;
use super::{constant_f32, Arg, Claim, Lower, Lowered};

pub fn claim(node: &NodeView<'_>, graph: &GraphView<'_>) -> Result<Option<Claim>, String> {
    if !node.is_onnx("BatchNormalization") {
        return Ok(None);
    }
    if node.outputs.iter().skip(1).any(|o| !o.is_empty()) || node.attr_int("training_mode", 0)? != 0
    {
        return Err("BatchNormalization in training mode is left to the CPU".into());
    }
    if node.attr_int("spatial", 1)? == 0 {
        return Err("BatchNormalization with spatial=0 is left to the CPU".into());
    }
    let p: Vec<&[f32]> = (1..5)
        .map(|k| constant_f32(node, graph, k).map(|c| c.0))
        .collect::<Option<_>>()
        .ok_or(
            "BatchNormalization parameters that are not float32 constants are left to the CPU",
        )?;
    let (scale, bias, mean, var) = (p[0], p[1], p[2], p[3]);
    let c = scale.len();
    if [bias, mean, var].iter().any(|v| v.len() != c) {
        return Err("BatchNormalization parameters differ in length".into());
    }
    let eps = node.attr_float("epsilon", 1e-5)?;
    let mul: Vec<f32> = (0..c).map(|i| scale[i] / (var[i] + eps).sqrt()).collect();
    let add: Vec<f32> = (0..c).map(|i| bias[i] - mean[i] * mul[i]).collect();
    let n = c as i64;
    let ch = Channel {
        scale: true,
        shift: true,
        residual: false,
        act: None,
    };
    Ok(Some(Claim::one(Lowered::new(
        ch,
        vec![
            Arg::Input(0),
            Arg::Tensor(mul, vec![n]),
            Arg::Tensor(add, vec![n]),
        ],
    ))))
}
