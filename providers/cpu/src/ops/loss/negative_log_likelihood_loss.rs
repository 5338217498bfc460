//! NegativeLogLikelihoodLoss: `-input[n, target, d] · weight[target]` gathered in f64,
//! skipping ignore_index, then no reduction, a sum or the weight-normalized mean.

use ort_core::Value;

use super::{f64s, float_tensor, loss_dims, nll, LossAttrs};
use crate::kernel::{input, one, opt_input, Ctx, Kernel, Outputs};
use crate::ops::{FLOATS, LATEST};

/// `-input[n, target[n, d], d] · weight[target]`, reduced; ignored targets add nothing.
struct NegativeLogLikelihoodLoss {
    attrs: LossAttrs,
}

impl Kernel for NegativeLogLikelihoodLoss {
    fn compute(&self, inputs: &[Option<&Value>], ctx: &Ctx<'_>) -> Outputs {
        let (x, target) = (input(inputs, 0)?, input(inputs, 1)?);
        let dims = loss_dims(x.shape(), target.shape())?;
        let weight = opt_input(inputs, 2)?.map(f64s).transpose()?;
        let (shape, loss) = nll(&f64s(x)?, target, weight.as_deref(), dims, &self.attrs)?;
        one(float_tensor(ctx, x.elem(), &shape, &loss)?)
    }
}

crate::register!("NegativeLogLikelihoodLoss", [12, LATEST], FLOATS, |n| Ok(
    Box::new(NegativeLogLikelihoodLoss {
        attrs: LossAttrs::new(n)?
    })
));
