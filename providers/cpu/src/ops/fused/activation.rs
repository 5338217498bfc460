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
}

impl Act {
    /// The node's `activation` / `activation_params`; None when it has none.
    pub fn parse(info: &NodeInfo<'_, '_>) -> Result<Option<Act>, Error> {
        if !info.has("activation") {
            return Ok(None);
        }
        let name = info.string("activation", "")?;
        let p: Vec<f64> = match info.attr("activation_params") {
            None => vec![],
            Some(AttrValue::Floats(v)) => v.iter().map(|&f| f as f64).collect(),
            Some(_) => return Err(Error::invalid("activation_params must be floats")),
        };
        let want = |k: usize| -> Result<(), Error> {
            if p.len() == k {
                Ok(())
            } else {
                Err(Error::invalid(format!(
                    "activation {name} takes {k} activation_params, got {}",
                    p.len()
                )))
            }
        };
        let act = match name.as_str() {
            "Relu" => want(0).map(|_| Act::Relu),
            "Sigmoid" => want(0).map(|_| Act::Sigmoid),
            "Tanh" => want(0).map(|_| Act::Tanh),
            "HardSwish" => want(0).map(|_| Act::HardSwish),
            "Gelu" => want(0).map(|_| Act::Gelu),
            "GeluTanh" => want(0).map(|_| Act::GeluTanh),
            "LeakyRelu" => want(1).map(|_| Act::LeakyRelu(p[0])),
            "Clip" => want(2).map(|_| Act::Clip(p[0], p[1])),
            "HardSigmoid" => want(2).map(|_| Act::HardSigmoid(p[0], p[1])),
            "QuantizeDequantize" => {
                want(4).map(|_| Act::QuantizeDequantize(p[0], p[1], p[2], p[3]))
            }
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
