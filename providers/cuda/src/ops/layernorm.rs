//! LayerNormalization (ONNX 17 and the fused-domain one for older models),
//! RMSNormalization, and the fused SkipLayerNormalization as an Add (and a
//! bias Add) followed by the normalization (`layernorm_*` in `kernels/rows.cu`).

use cudarc::driver::PushKernelArg;
use ort_core::kit::Attributes;
use ort_core::kit::{axis, numel};
use ort_core::{Error, GraphView, NodeView};

use super::binary::Binary;
use super::{invalid, is_fused, launch, per_row, Arg, Claim, Cx, Ints, Io, Kernel, Lower, Lowered};

#[derive(Clone, Debug)]
pub struct LayerNorm {
    pub axis: i64,
    pub eps: f32,
    /// RMSNormalization: no mean subtracted.
    pub rms: bool,
}

pub fn claim(node: &NodeView<'_>, _: &GraphView<'_>) -> Result<Option<Claim>, String> {
    let eps = node.attr_float("epsilon", 1e-5)?;
    if is_fused(node, "SkipLayerNormalization") {
        // (X, Skip, Scale, B?, Bias?) -> (Y, Sum?)
        let mut steps = vec![Lowered::new(
            Binary::ADD,
            vec![Arg::Input(0), Arg::Input(1)],
        )];
        if node.has_input(4) {
            steps.push(Lowered::new(Binary::ADD, vec![Arg::Prev(0), Arg::Input(4)]));
        }
        let sum = steps.len() - 1;
        let mut args = vec![Arg::Prev(sum), Arg::Input(2)];
        if node.has_input(3) {
            args.push(Arg::Input(3));
        }
        steps.push(Lowered::new(
            LayerNorm {
                axis: -1,
                eps,
                rms: false,
            },
            args,
        ));
        let y = steps.len() - 1;
        return Ok(Some(Claim {
            steps,
            outputs: vec![y, sum],
        }));
    }
    let rms = node.is_onnx("RMSNormalization");
    if !(rms || node.is_onnx("LayerNormalization") || is_fused(node, "LayerNormalization")) {
        return Ok(None);
    }
    if node.outputs.iter().skip(1).any(|o| !o.is_empty()) {
        return Err("the mean and inverse deviation outputs are left to the CPU".into());
    }
    let n = if node.has_input(2) && !rms { 3 } else { 2 };
    let l = LayerNorm {
        axis: node.attr_int("axis", -1)?,
        eps,
        rms,
    };
    Ok(Some(Claim::one(Lowered::inputs(l, n))))
}

impl Kernel for LayerNorm {
    fn shape(&self, inputs: &[&[i64]], _: &[Ints]) -> Result<Vec<i64>, Error> {
        Ok(inputs[0].to_vec())
    }
    fn launch(&self, cx: &Cx<'_>, io: Io<'_>) -> Result<(), Error> {
        let Io { inputs, out, .. } = io;
        let s = &out.shape;
        let a = axis(self.axis, s.len())?;
        let n = numel(&s[a..]);
        // The kernel reads scale and bias as one row: they must span the
        // normalized axes exactly (broadcast ones are left to a later version).
        for p in &inputs[1..] {
            if p.len() != n {
                return Err(invalid(format!(
                    "LayerNormalization parameter {:?} for rows of {n}",
                    p.shape
                )));
            }
        }
        let rows = (numel(s) / n.max(1)) as i64;
        let f = cx.float_fn("layernorm", out.elem)?;
        let bias = inputs.get(2).map_or(0, |b| b.ptr());
        let (x, scale, y, n, rms) = (
            inputs[0].ptr(),
            inputs[1].ptr(),
            out.ptr(),
            n as i64,
            self.rms as i32,
        );
        let mut args = cx.args(f);
        args.arg(&x)
            .arg(&scale)
            .arg(&bias)
            .arg(&y)
            .arg(&rows)
            .arg(&n)
            .arg(&self.eps)
            .arg(&rms);
        launch(args, per_row(rows as usize), "layernorm")
    }
}
