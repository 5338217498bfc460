//! Loss functions: SoftmaxCrossEntropyLoss, NegativeLogLikelihoodLoss.

mod negative_log_likelihood_loss;
mod softmax_cross_entropy_loss;

use ort_core::{Error, Tensor};

use crate::kernel::{Ctx, NodeInfo};
use crate::util::Num;

/// How per-element losses are combined.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Reduction {
    None,
    Sum,
    Mean,
}

/// The attributes both losses share.
pub(crate) struct LossAttrs {
    pub reduction: Reduction,
    pub ignore_index: Option<i64>,
}

impl LossAttrs {
    pub fn new(n: &NodeInfo<'_, '_>) -> Result<LossAttrs, Error> {
        let reduction = match n.string("reduction", "mean")?.as_str() {
            "none" => Reduction::None,
            "sum" => Reduction::Sum,
            "mean" => Reduction::Mean,
            r => return Err(Error::invalid(format!("unknown reduction '{r}'"))),
        };
        let ignore_index = if n.has("ignore_index") {
            Some(n.int("ignore_index", 0)?)
        } else {
            None
        };
        Ok(LossAttrs {
            reduction,
            ignore_index,
        })
    }
}

/// A float tensor's elements as f64.
pub(crate) fn f64s(t: &Tensor) -> Result<Vec<f64>, Error> {
    crate::dispatch_float!(t.elem(), T => Ok(t.as_slice::<T>()?.iter().map(|&v| v.to_f64()).collect()))
}

/// A tensor of float type `like` holding `v`.
pub(crate) fn float_tensor(
    ctx: &Ctx<'_>,
    like: ort_core::ElemType,
    shape: &[i64],
    v: &[f64],
) -> Result<Tensor, Error> {
    crate::dispatch_float!(like, T => ctx.tensor(shape, |o: &mut [T]| {
        o.iter_mut().zip(v).for_each(|(o, &v)| *o = T::from_f64(v))
    }))
}

/// Checks that input `(N, C, d1..dk)` and target `(N, d1..dk)` agree; returns
/// `(N, C, d1·…·dk)`.
pub(crate) fn loss_dims(input: &[i64], target: &[i64]) -> Result<(usize, usize, usize), Error> {
    if input.len() < 2
        || target.len() + 1 != input.len()
        || target[0] != input[0]
        || target[1..] != input[2..]
    {
        return Err(Error::invalid(format!(
            "loss input shape {input:?} and target shape {target:?} do not match (N, C, d...) and (N, d...)"
        )));
    }
    let inner = input[2..].iter().product::<i64>() as usize;
    Ok((input[0] as usize, input[1] as usize, inner))
}

/// Negative log likelihood of `logp` (`N × C × inner`) at `target`, weighted and
/// reduced. Returns the loss values and their shape.
pub(crate) fn nll(
    logp: &[f64],
    target: &Tensor,
    weight: Option<&[f64]>,
    (n, c, inner): (usize, usize, usize),
    attrs: &LossAttrs,
) -> Result<(Vec<i64>, Vec<f64>), Error> {
    let t = target.to_i64_vec()?;
    if let Some(w) = weight {
        if w.len() != c {
            return Err(Error::invalid(format!(
                "loss weight has {} entries for {c} classes",
                w.len()
            )));
        }
    }
    let mut loss = vec![0f64; n * inner];
    let mut wsum = 0f64;
    for b in 0..n {
        for i in 0..inner {
            let p = b * inner + i;
            let cls = t[p];
            if attrs.ignore_index == Some(cls) {
                continue;
            }
            if cls < 0 || cls as usize >= c {
                return Err(Error::invalid(format!(
                    "target class {cls} is out of range for {c} classes"
                )));
            }
            let w = weight.map_or(1.0, |w| w[cls as usize]);
            loss[p] = -logp[(b * c + cls as usize) * inner + i] * w;
            wsum += w;
        }
    }
    Ok(match attrs.reduction {
        Reduction::None => (target.shape().to_vec(), loss),
        Reduction::Sum => (vec![], vec![loss.iter().sum()]),
        Reduction::Mean => {
            let s: f64 = loss.iter().sum();
            (vec![], vec![s / wsum])
        }
    })
}
