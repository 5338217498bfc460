//! Conv (`com.microsoft.nchwc`): `act(Conv(X, W, B) + Sum)` on blocked tensors.
//! The weights, which onnxruntime stores blocked too, are put back in OIHW
//! order once at session creation; each run moves X (and Sum) to plain NCHW,
//! runs this provider's FusedConv kernel, and blocks the result. A first
//! layer with fewer input channels than the block reads plain NCHW X.

use ort_core::ElemType::F32;
use ort_core::{Error, Tensor, Value};

use super::{block_size, to_blocked, to_plain};
use crate::kernel::{input, one, Ctx, Kernel, NodeInfo, Outputs};

struct NchwcConv {
    conv: Box<dyn Kernel>,
    /// W in OIHW order; `conv` has prepared itself from this tensor.
    w: Value,
    b: usize,
    /// X is plain NCHW (fewer input channels than the block, one group).
    plain_input: bool,
}

/// onnxruntime's blocked weights `[Opad, I, KH, KW]` in OIHW order. With
/// `by_input` they are `[O/B][I/B][KH·KW][Bi][Bo]`, else `[O/B][I][KH·KW][Bo]`.
fn unblock_weights(w: &[f32], shape: &[i64], b: usize, by_input: bool) -> Result<Vec<f32>, Error> {
    let &[o, i, ..] = shape else {
        return Err(Error::invalid(format!(
            "W must have rank 3 or more, got shape {shape:?}"
        )));
    };
    let (o, i) = (o as usize, i as usize);
    let kk: usize = shape[2..].iter().product::<i64>() as usize;
    if o % b != 0 || (by_input && i % b != 0) || w.len() != o * i * kk {
        return Err(Error::invalid(format!(
            "W of shape {shape:?} is not blocked by {b}"
        )));
    }
    let mut out = vec![0.0; w.len()];
    for oc in 0..o {
        for ic in 0..i {
            for k in 0..kk {
                let (ob, bo) = (oc / b, oc % b);
                let src = if by_input {
                    ((((ob * (i / b) + ic / b) * kk + k) * b + ic % b) * b) + bo
                } else {
                    ((ob * i + ic) * kk + k) * b + bo
                };
                out[(oc * i + ic) * kk + k] = w[src];
            }
        }
    }
    Ok(out)
}

fn build(info: &NodeInfo<'_, '_>) -> Result<Box<dyn Kernel>, Error> {
    let b = block_size(info.graph)?;
    let w = info.constant_input(1).ok_or_else(|| {
        Error::not_implemented("an NCHWc Conv needs its weights as an initializer")
    })?;
    let group = info.int("group", 1)?;
    let i = *w.shape().get(1).unwrap_or(&0) as usize;
    // Depthwise and first-layer weights are blocked by output channel only.
    let plain_input = group == 1 && i < b;
    let by_input = !(plain_input || (group > 1 && i == 1));
    let data = unblock_weights(w.as_slice::<f32>()?, w.shape(), b, by_input)?;
    let w = Tensor::from_vec(w.shape(), data)?;
    Ok(Box::new(NchwcConv {
        conv: crate::ops::nn::conv::build_fused_with(info, &w)?,
        w: Value::Tensor(w),
        b,
        plain_input,
    }))
}

impl Kernel for NchwcConv {
    fn compute(&self, inputs: &[Option<&Value>], ctx: &Ctx<'_>) -> Outputs {
        let x = input(inputs, 0)?;
        let x = if self.plain_input {
            x.clone()
        } else {
            to_plain(x, self.b, ctx)?
        };
        let x = Value::Tensor(x);
        let sum = match inputs.get(3).copied().flatten() {
            Some(s) => Some(Value::Tensor(to_plain(s.tensor()?, self.b, ctx)?)),
            None => None,
        };
        let bias = inputs.get(2).copied().flatten();
        let mut y = self
            .conv
            .compute(&[Some(&x), Some(&self.w), bias, sum.as_ref()], ctx)?;
        match y.first_mut().and_then(|v| v.take()) {
            Some(Value::Tensor(t)) => one(to_blocked(&t, self.b, ctx)?),
            _ => Err(Error::invalid("the convolution gave no tensor")),
        }
    }
}

crate::register!("Conv", "com.microsoft.nchwc", [1, 1], &[F32], 0, build);
