//! SoftmaxCrossEntropyLoss: log-softmax over the class axis by a max-shifted log-sum-exp
//! in f64, then the shared weighted negative log likelihood and reduction.

use ort_core::Value;

use super::{f64s, float_tensor, loss_dims, nll, LossAttrs};
use crate::kernel::{input, opt_input, Ctx, Kernel, Outputs};
use crate::ops::{FLOATS, LATEST};

/// Log-softmax over the class axis, then the negative log likelihood; the second
/// output, when asked for, is the log-softmax itself.
struct SoftmaxCrossEntropyLoss {
    attrs: LossAttrs,
}

impl Kernel for SoftmaxCrossEntropyLoss {
    fn compute(&self, inputs: &[Option<&Value>], ctx: &Ctx<'_>) -> Outputs {
        let (x, target) = (input(inputs, 0)?, input(inputs, 1)?);
        let (n, c, inner) = loss_dims(x.shape(), target.shape())?;
        let mut lp = f64s(x)?;
        for b in 0..n {
            for i in 0..inner {
                let at = |k: usize| (b * c + k) * inner + i;
                let m = (0..c).map(|k| lp[at(k)]).fold(f64::NEG_INFINITY, f64::max);
                let s: f64 = (0..c).map(|k| (lp[at(k)] - m).exp()).sum();
                let lse = m + s.ln();
                for k in 0..c {
                    lp[at(k)] -= lse;
                }
            }
        }
        let weight = opt_input(inputs, 2)?.map(f64s).transpose()?;
        let (shape, loss) = nll(&lp, target, weight.as_deref(), (n, c, inner), &self.attrs)?;
        Ok(vec![
            Some(Value::Tensor(float_tensor(ctx, x.elem(), &shape, &loss)?)),
            Some(Value::Tensor(float_tensor(ctx, x.elem(), x.shape(), &lp)?)),
        ])
    }
}

crate::register!("SoftmaxCrossEntropyLoss", [12, LATEST], FLOATS, |n| Ok(
    Box::new(SoftmaxCrossEntropyLoss {
        attrs: LossAttrs::new(n)?
    })
));
