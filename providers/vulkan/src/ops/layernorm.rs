//! LayerNormalization (ONNX-17 and the fused-domain op for older opsets) over the
//! axes from `axis` on (`shaders/layernorm.wgsl`), and SkipLayerNormalization as
//! the residual sum then the normalization.

use ort_core::kit::Attributes;
use ort_core::{Error, GraphView, NodeView};

use super::binary::Binary;
use super::{axis, dispatch, is, is_fused, numel, row_grid, Io};
use super::{Arg, Builder, Claim, Ints, Kernel, Lower, Lowered};
use crate::gpu::Gpu;

#[derive(Clone, Debug)]
pub struct LayerNorm {
    axis: i64,
    eps: f32,
    bias: bool,
}

pub fn claim(node: &NodeView<'_>, _: &GraphView<'_>) -> Result<Option<Claim>, String> {
    if is(node, "LayerNormalization") || is_fused(node, "LayerNormalization") {
        let bias = node.has_input(2);
        let ln = LayerNorm {
            axis: node.attr_int("axis", -1)?,
            eps: node.attr_float("epsilon", 1e-5)?,
            bias,
        };
        return Ok(Some(Claim::one(Lowered::inputs(
            ln,
            if bias { 3 } else { 2 },
        ))));
    }
    if !is_fused(node, "SkipLayerNormalization") {
        return Ok(None);
    }
    // (X, Skip, Scale, B?, Bias?) → (Y, Sum?)
    let mut steps = vec![Lowered::new(
        Binary::ADD,
        vec![Arg::Input(0), Arg::Input(1)],
    )];
    if node.has_input(4) {
        steps.push(Lowered::new(Binary::ADD, vec![Arg::Prev(0), Arg::Input(4)]));
    }
    let sum = steps.len() - 1;
    let bias = node.has_input(3);
    let mut args = vec![Arg::Prev(sum), Arg::Input(2)];
    if bias {
        args.push(Arg::Input(3));
    }
    let ln = LayerNorm {
        axis: -1,
        eps: node.attr_float("epsilon", 1e-5)?,
        bias,
    };
    steps.push(Lowered::new(ln, args));
    Ok(Some(Claim {
        outputs: vec![steps.len() - 1, sum],
        steps,
    }))
}

impl Kernel for LayerNorm {
    fn shape(&self, inputs: &[&[i64]], _: &[Ints]) -> Result<Vec<i64>, Error> {
        Ok(inputs[0].to_vec())
    }

    fn record(&self, gpu: &Gpu, b: &mut Builder, io: Io<'_>) -> Result<(), Error> {
        let Io { inputs, out: y, .. } = io;
        let x = &inputs[0];
        let a = axis(self.axis, x.1.len())?;
        let rows = numel(&x.1[..a]);
        let len = numel(&x.1[a..]);
        for (what, t) in inputs[1..].iter().enumerate() {
            if numel(&t.1) != len {
                let name = ["scale", "bias"][what];
                return Err(Error::not_implemented(format!(
                    "LayerNormalization {name} {:?} for rows of {len}: the shader takes one value per element",
                    t.1
                )));
            }
        }
        if rows * len == 0 {
            return Ok(());
        }
        let (groups, gx) = row_grid(rows)?;
        let pc: [u32; 8] = [
            rows as u32,
            len as u32,
            gx,
            self.bias as u32,
            self.eps.to_bits(),
            0,
            0,
            0,
        ];
        let bias = if self.bias {
            &inputs[2].0
        } else {
            &inputs[1].0
        };
        dispatch(
            gpu,
            b,
            &gpu.pipelines.layernorm,
            &[&x.0, &inputs[1].0, bias, &y.0],
            pc,
            groups,
        )
    }
}
