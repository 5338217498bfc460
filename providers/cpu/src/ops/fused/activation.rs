//! The activations that FusedConv, FusedGemm and FusedMatMul apply to their
//! output while it is still in cache (`docs/fused-ops.md`), and the epilogue that
//! adds a residual first.

use ort_core::{AttrValue, Error};

use crate::kernel::NodeInfo;
use crate::ops::nn::gelu::{erf, tanh_of};
use crate::ops::nn::{simd_fn, Flt, PAR_WORK};
use crate::ops::quant::loops::Qdq;

#[derive(Clone, Copy, Debug)]
pub(crate) enum Act {
    Relu,
    Sigmoid,
    Tanh,
    LeakyRelu(f64),
    Clip(f64, f64),
    HardSigmoid(f64, f64),
    HardSwish,
    Gelu,
    GeluTanh,
    /// QuantizeLinear then DequantizeLinear: scale, zero point, and the
    /// integer type's range.
    QuantizeDequantize(f64, f64, f64, f64),
    /// The ONNX activations of the same names, which onnxruntime's FusedGemm
    /// also fuses (alpha, and Selu's gamma).
    Elu(f64),
    Selu(f64, f64),
    Softsign,
    Softplus,
    ThresholdedRelu(f64),
    /// onnxruntime's `alpha · tanh(beta · x)` and `alpha · ln(1 + e^(beta · x))`.
    ScaledTanh(f64, f64),
    ParametricSoftplus(f64, f64),
}

impl Act {
    /// The node's `activation` and its parameters; None when it has none.
    /// Parameters come from `activation_params` (this project's fused ops and
    /// onnxruntime's FusedConv) or, when that is absent, from the activation's
    /// own attributes prefixed with `activation_` (onnxruntime's FusedGemm:
    /// `activation_alpha`, ...), with the ONNX defaults; the fused domain's
    /// ops must list them.
    pub fn parse(info: &NodeInfo<'_, '_>) -> Result<Option<Act>, Error> {
        if !info.has("activation") {
            return Ok(None);
        }
        let name = info.string("activation", "")?;
        let fused = info.node.domain.as_str() == ort_core::FUSED_DOMAIN;
        let listed = match info.attr("activation_params") {
            None => None,
            Some(AttrValue::Floats(v)) => Some(v.iter().map(|&f| f as f64).collect::<Vec<_>>()),
            Some(_) => return Err(Error::invalid("activation_params must be floats")),
        };
        // The parameters `names` of the activation, in order, with their defaults.
        let p = |names: &[(&str, f32)]| -> Result<Vec<f64>, Error> {
            match &listed {
                Some(p) if p.len() == names.len() => Ok(p.clone()),
                Some(p) => Err(Error::invalid(format!(
                    "activation {name} takes {} activation_params, got {}",
                    names.len(),
                    p.len()
                ))),
                // The project's fused domain always lists its parameters.
                None if fused && !names.is_empty() => Err(Error::invalid(format!(
                    "activation {name} takes {} activation_params, got 0",
                    names.len()
                ))),
                None => names
                    .iter()
                    .map(|&(n, d)| Ok(info.float(&format!("activation_{n}"), d)? as f64))
                    .collect(),
            }
        };
        let act = match name.as_str() {
            "Relu" => p(&[]).map(|_| Act::Relu),
            "Sigmoid" => p(&[]).map(|_| Act::Sigmoid),
            "Tanh" => p(&[]).map(|_| Act::Tanh),
            "HardSwish" => p(&[]).map(|_| Act::HardSwish),
            "Gelu" => p(&[]).map(|_| Act::Gelu),
            "GeluTanh" => p(&[]).map(|_| Act::GeluTanh),
            "Softsign" => p(&[]).map(|_| Act::Softsign),
            "Softplus" => p(&[]).map(|_| Act::Softplus),
            "LeakyRelu" => p(&[("alpha", 0.01)]).map(|v| Act::LeakyRelu(v[0])),
            "Elu" => p(&[("alpha", 1.0)]).map(|v| Act::Elu(v[0])),
            "ThresholdedRelu" => p(&[("alpha", 1.0)]).map(|v| Act::ThresholdedRelu(v[0])),
            "Selu" => {
                p(&[("alpha", 1.673_263_2), ("gamma", 1.050_701)]).map(|v| Act::Selu(v[0], v[1]))
            }
            "Clip" => p(&[("min", f32::MIN), ("max", f32::MAX)]).map(|v| Act::Clip(v[0], v[1])),
            "HardSigmoid" => {
                p(&[("alpha", 0.2), ("beta", 0.5)]).map(|v| Act::HardSigmoid(v[0], v[1]))
            }
            "ScaledTanh" => {
                p(&[("alpha", 1.0), ("beta", 1.0)]).map(|v| Act::ScaledTanh(v[0], v[1]))
            }
            "ParametricSoftplus" => {
                p(&[("alpha", 1.0), ("beta", 1.0)]).map(|v| Act::ParametricSoftplus(v[0], v[1]))
            }
            "QuantizeDequantize" => p(&[
                ("scale", 1.0),
                ("zero_point", 0.0),
                ("lo", 0.0),
                ("hi", 0.0),
            ])
            .and_then(|v| match listed {
                Some(_) => Ok(Act::QuantizeDequantize(v[0], v[1], v[2], v[3])),
                None => Err(Error::invalid(
                    "activation QuantizeDequantize takes 4 activation_params, got 0",
                )),
            }),
            _ => Err(Error::invalid(format!("unknown activation '{name}'"))),
        }?;
        Ok(Some(act))
    }
}

/// When `act` is no more than a clamp (none, ReLU, Clip), its bounds, for
/// kernels that fold it into the store that adds the bias. `Some(None)` is
/// "no clamp": a max/min against infinite bounds would turn NaN into a bound.
pub(crate) fn clamp_bounds(act: Option<Act>) -> Option<Option<(f64, f64)>> {
    match act {
        None => Some(None),
        Some(Act::Relu) => Some(Some((0.0, f64::INFINITY))),
        Some(Act::Clip(lo, hi)) => Some(Some((lo, hi))),
        Some(_) => None,
    }
}

simd_fn! {
    /// Applies the activation in place; one loop per kind so each vectorizes.
    fn apply[F: Flt](act: Act, o: &mut [F]) {
        if let (Act::Gelu | Act::GeluTanh, Some(o)) = (act, crate::ops::nn::as_f32_mut(o)) {
            if crate::ops::nn::gelu::gelu_f32(None, o, matches!(act, Act::GeluTanh)) {
                return;
            }
        }
        let (zero, one) = (F::zero(), F::one());
        match act {
            Act::Relu => o.iter_mut().for_each(|v| *v = v.max(zero)),
            Act::Sigmoid => o
                .iter_mut()
                .for_each(|v| *v = one / (one + (-*v).fast_exp())),
            Act::Tanh => o.iter_mut().for_each(|v| *v = v.tanh()),
            Act::LeakyRelu(a) => {
                let a = F::of(a);
                o.iter_mut()
                    .for_each(|v| *v = if *v < zero { a * *v } else { *v })
            }
            Act::Clip(lo, hi) => {
                let (lo, hi) = (F::of(lo), F::of(hi));
                o.iter_mut().for_each(|v| *v = v.max(lo).min(hi))
            }
            Act::HardSigmoid(a, b) => {
                let (a, b) = (F::of(a), F::of(b));
                o.iter_mut()
                    .for_each(|v| *v = (a * *v + b).max(zero).min(one))
            }
            Act::QuantizeDequantize(s, z, lo, hi) => {
                let q = Qdq::new(F::of(s), F::of(z), F::of(lo), F::of(hi));
                if q.product {
                    o.iter_mut().for_each(|v| *v = q.by_product(*v))
                } else {
                    o.iter_mut().for_each(|v| *v = q.by_division(*v))
                }
            }
            Act::HardSwish => {
                let (a, b) = (F::of(1.0 / 6.0), F::of(0.5));
                o.iter_mut()
                    .for_each(|v| *v = *v * (a * *v + b).max(zero).min(one))
            }
            Act::Gelu => {
                let (h, r) = (F::of(0.5), F::of(std::f64::consts::FRAC_1_SQRT_2));
                o.iter_mut().for_each(|v| *v = h * *v * (one + erf(*v * r)))
            }
            Act::GeluTanh => {
                let (h, k, c) = (
                    F::of(0.5),
                    F::of((2.0 / std::f64::consts::PI).sqrt()),
                    F::of(0.044715),
                );
                o.iter_mut()
                    .for_each(|v| *v = h * *v * (one + tanh_of(k * (*v + c * *v * *v * *v))))
            }
            Act::Elu(a) => {
                let a = F::of(a);
                o.iter_mut()
                    .for_each(|v| *v = if *v < zero { a * (v.exp() - one) } else { *v })
            }
            Act::Selu(a, g) => {
                let (a, g) = (F::of(a), F::of(g));
                o.iter_mut()
                    .for_each(|v| *v = g * if *v <= zero { a * (v.exp() - one) } else { *v })
            }
            Act::Softsign => o.iter_mut().for_each(|v| *v = *v / (one + v.abs())),
            Act::Softplus => o
                .iter_mut()
                .for_each(|v| *v = v.max(zero) + (-v.abs()).exp().ln_1p()),
            Act::ThresholdedRelu(a) => {
                let a = F::of(a);
                o.iter_mut()
                    .for_each(|v| *v = if *v > a { *v } else { zero })
            }
            Act::ScaledTanh(a, b) => {
                let (a, b) = (F::of(a), F::of(b));
                o.iter_mut().for_each(|v| *v = a * (b * *v).tanh())
            }
            Act::ParametricSoftplus(a, b) => {
                let (a, b) = (F::of(a), F::of(b));
                o.iter_mut().for_each(|v| {
                    let x = b * *v;
                    *v = a * (x.max(zero) + (-x.abs()).exp().ln_1p())
                })
            }
        }
    }
}

simd_fn! {
    /// `o = act(o + z)`.
    pub(crate) fn add_then_apply[F: Flt](o: &mut [F], z: Option<&[F]>, act: Option<Act>) {
        if let Some(z) = z {
            o.iter_mut().zip(z).for_each(|(o, &z)| *o += z);
        }
        if let Some(a) = act {
            apply(a, o);
        }
    }
}

/// `out = act(out + z)` over a finished output, in parallel chunks when large.
pub(crate) fn finish<F: Flt>(out: &mut [F], z: Option<&[F]>, act: Option<Act>, threads: usize) {
    if z.is_none() && act.is_none() {
        return;
    }
    let c = PAR_WORK / 4;
    if threads > 1 && out.len() >= PAR_WORK {
        crate::parallel::for_each_chunk(threads, out, c, |i, o| {
            add_then_apply(o, z.map(|z| &z[i * c..][..o.len()]), act)
        });
    } else {
        add_then_apply(out, z, act);
    }
}
