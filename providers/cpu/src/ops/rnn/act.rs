//! The activation functions of the ONNX recurrent-op table, with their alpha and beta.

use ort_core::Error;

use super::Real;

/// An activation function of the ONNX recurrent-op table, alpha/beta bound.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) enum Act {
    Sigmoid,
    Tanh,
    Relu,
    Affine(f32, f32),
    LeakyRelu(f32),
    ThresholdedRelu(f32),
    ScaledTanh(f32, f32),
    HardSigmoid(f32, f32),
    Elu(f32),
    Softsign,
    Softplus,
}

impl Act {
    /// Parses a (case-insensitive) name. Like ONNX Runtime, only functions that take
    /// alpha (beta) consume the next value of `activation_alpha` (`_beta`); when the
    /// list runs out the function's ONNX default applies.
    pub(super) fn parse(
        name: &str,
        alphas: &mut impl Iterator<Item = f32>,
        betas: &mut impl Iterator<Item = f32>,
    ) -> Result<Act, Error> {
        let mut a = |d: f32| alphas.next().unwrap_or(d);
        Ok(match name.to_ascii_lowercase().as_str() {
            "sigmoid" => Act::Sigmoid,
            "tanh" => Act::Tanh,
            "relu" => Act::Relu,
            "softsign" => Act::Softsign,
            "softplus" => Act::Softplus,
            "leakyrelu" => Act::LeakyRelu(a(0.01)),
            "thresholdedrelu" => Act::ThresholdedRelu(a(1.0)),
            "elu" => Act::Elu(a(1.0)),
            "affine" => Act::Affine(a(1.0), betas.next().unwrap_or(0.0)),
            "scaledtanh" => Act::ScaledTanh(a(1.0), betas.next().unwrap_or(1.0)),
            "hardsigmoid" => Act::HardSigmoid(a(0.2), betas.next().unwrap_or(0.5)),
            _ => {
                return Err(Error::invalid(format!(
                    "unknown activation function {name:?}"
                )))
            }
        })
    }

    #[inline]
    pub fn apply<F: Real>(self, x: F) -> F {
        let one = F::one();
        let c = |v: f32| F::of(v as f64);
        match self {
            Act::Sigmoid => one / (one + (-x).exp()),
            Act::Tanh => x.tanh(),
            Act::Relu => x.max(F::zero()),
            Act::Affine(a, b) => c(a) * x + c(b),
            Act::LeakyRelu(a) => {
                if x >= F::zero() {
                    x
                } else {
                    c(a) * x
                }
            }
            Act::ThresholdedRelu(a) => {
                if x >= c(a) {
                    x
                } else {
                    F::zero()
                }
            }
            Act::ScaledTanh(a, b) => c(a) * (c(b) * x).tanh(),
            Act::HardSigmoid(a, b) => (c(a) * x + c(b)).max(F::zero()).min(one),
            Act::Elu(a) => {
                if x >= F::zero() {
                    x
                } else {
                    c(a) * (x.exp() - one)
                }
            }
            Act::Softsign => x / (one + x.abs()),
            // Written so large |x| neither overflows nor loses the linear part.
            Act::Softplus => x.max(F::zero()) + (-x.abs()).exp().ln_1p(),
        }
    }
}
