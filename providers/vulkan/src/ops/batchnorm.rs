//! BatchNormalization (inference): with constant statistics the host folds
//! them into a per-channel scale and shift, `y = x·a + b`, two broadcast steps.

use ort_core::kit::Attributes;
use ort_core::{GraphView, NodeView};

use super::binary::Binary;
use super::{constant_f32, is, Arg, Claim, Lower, Lowered};

pub fn claim(node: &NodeView<'_>, graph: &GraphView<'_>) -> Result<Option<Claim>, String> {
    if !is(node, "BatchNormalization") {
        return Ok(None);
    }
    if node.attr_int("training_mode", 0)? != 0 {
        return Err("BatchNormalization in training mode".into());
    }
    if node.opset < 9 && node.attr_int("spatial", 1)? == 0 {
        return Err("BatchNormalization with spatial = 0".into());
    }
    let r = graph
        .rank_of(&node.inputs[0])
        .ok_or("the input rank is not known")?;
    if r < 2 {
        return Err(format!("BatchNormalization of rank {r}"));
    }
    let param = |k: usize| -> Result<&[f32], String> {
        constant_f32(node, graph, k)
            .map(|(d, _)| d)
            .ok_or(format!("{} is not a constant float tensor", node.inputs[k]))
    };
    let (scale, bias, mean, var) = (param(1)?, param(2)?, param(3)?, param(4)?);
    let c = scale.len();
    if [bias.len(), mean.len(), var.len()].iter().any(|&l| l != c) {
        return Err("BatchNormalization parameters differ in length".into());
    }
    let eps = node.attr_float("epsilon", 1e-5)?;
    let a: Vec<f32> = (0..c).map(|i| scale[i] / (var[i] + eps).sqrt()).collect();
    let b: Vec<f32> = (0..c).map(|i| bias[i] - mean[i] * a[i]).collect();
    let mut shape = vec![c as i64];
    shape.extend(std::iter::repeat_n(1, r - 2));
    Ok(Some(Claim::steps(vec![
        Lowered::new(
            Binary::MUL,
            vec![Arg::Input(0), Arg::Tensor(a, shape.clone())],
        ),
        Lowered::new(Binary::ADD, vec![Arg::Prev(0), Arg::Tensor(b, shape)]),
    ])))
}
