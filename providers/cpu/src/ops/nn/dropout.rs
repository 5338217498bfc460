//! Dropout: identity at inference; in training a SplitMix64 mask keeps each element with
//! probability 1 - ratio and scales the kept ones by 1 / (1 - ratio).

use ort_core::{ElemType, Error, Value};

use super::{data, output};
use crate::kernel::{input, opt_input, Ctx, Kernel, NodeInfo, Outputs};
use crate::ops::{FLOATS, LATEST};

struct Dropout {
    /// The attribute ratio (before opset 12 ratio is no input).
    ratio: f32,
    seed: Option<i64>,
    /// Element type of the mask output, when wanted (before opset 10 it is T).
    mask: Option<ElemType>,
}

fn build(info: &NodeInfo<'_, '_>) -> Result<Box<dyn Kernel>, Error> {
    let wanted = info.num_outputs() > 1 && !info.node.outputs[1].is_empty();
    let mask = match info.opset() {
        _ if !wanted => None,
        ..=9 => Some(info.input_type(0).unwrap_or(ElemType::F32)),
        _ => Some(ElemType::Bool),
    };
    Ok(Box::new(Dropout {
        ratio: info.float("ratio", 0.5)?,
        seed: info.attr("seed").map(|_| info.int("seed", 0)).transpose()?,
        mask,
    }))
}

impl Kernel for Dropout {
    fn compute(&self, inputs: &[Option<&Value>], ctx: &Ctx<'_>) -> Outputs {
        let x = input(inputs, 0)?;
        let training = match opt_input(inputs, 2)? {
            Some(t) => t.as_slice::<bool>()?.first().copied().unwrap_or(false),
            None => false,
        };
        let ratio = match opt_input(inputs, 1)? {
            Some(r) => {
                with_float!(r.elem(), F => Ok(data::<F>(r)?.first().map_or(0.5, |v| v.f64())))?
            }
            None => self.ratio as f64,
        };
        if !training || ratio == 0.0 {
            // Inference: the input itself (buffers are shared, never written in place).
            let mask = match self.mask {
                Some(ElemType::Bool) => Some(ctx.tensor::<bool>(x.shape(), |m| m.fill(true))?),
                Some(e) => {
                    Some(with_float!(e, F => output::<F>(ctx, e, x.shape(), |m| m.fill(F::one())))?)
                }
                None => None,
            };
            return Ok(vec![Some(x.clone().into()), mask.map(Value::from)]);
        }
        if !(0.0..=1.0).contains(&ratio) {
            return Err(Error::invalid(format!("ratio {ratio} is outside [0, 1]")));
        }
        let keep: Vec<bool> = {
            let mut rng = SplitMix(self.seed.map_or_else(entropy, |s| s as u64));
            (0..x.len()).map(|_| rng.unit() >= ratio).collect()
        };
        let y = with_float!(x.elem(), F => {
            let xd = data::<F>(x)?;
            let scale = if ratio < 1.0 { F::of(1.0 / (1.0 - ratio)) } else { F::zero() };
            output::<F>(ctx, x.elem(), x.shape(), |o| {
                for ((o, &v), &k) in o.iter_mut().zip(xd.iter()).zip(&keep) {
                    *o = if k { v * scale } else { F::zero() };
                }
            })
        })?;
        let mask = match self.mask {
            Some(_) => Some(ctx.tensor_from::<bool>(x.shape(), &keep)?.into()),
            None => None,
        };
        Ok(vec![Some(y.into()), mask])
    }
}

/// A seed that differs between calls when the node gives none.
fn entropy() -> u64 {
    use std::hash::{BuildHasher, RandomState};
    RandomState::new().hash_one(std::time::SystemTime::now())
}

/// A small, fast generator; dropout needs no cryptographic quality.
struct SplitMix(u64);

impl SplitMix {
    fn unit(&mut self) -> f64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        ((z ^ (z >> 31)) >> 11) as f64 / (1u64 << 53) as f64
    }
}

crate::register!("Dropout", [1, LATEST], FLOATS, build);
