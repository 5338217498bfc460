//! Bernoulli: one uniform f64 draw per element from a (seeded) StdRng, 1 when below p.

use ort_core::{ElemType, Error, Value};
use rand::Rng;

use super::{dtype_attr, rng, seed_attr, tensor_of};
use crate::kernel::{input, one, Ctx, Kernel, Outputs};
use crate::ops::{FLOATS, LATEST};

/// 1 with probability `p` (each input element), else 0; the output type is `dtype`,
/// or the input's.
struct Bernoulli {
    elem: Option<ElemType>,
    seed: Option<u64>,
}

impl Kernel for Bernoulli {
    fn compute(&self, inputs: &[Option<&Value>], ctx: &Ctx<'_>) -> Outputs {
        let x = input(inputs, 0)?;
        let p: Vec<f64> = crate::dispatch_float!(x.elem(), T => Ok::<_, Error>(
            x.as_slice::<T>()?.iter().map(|&v| crate::util::Num::to_f64(v)).collect()
        ))?;
        if let Some(bad) = p.iter().find(|v| !(0.0..=1.0).contains(*v)) {
            return Err(Error::invalid(format!(
                "probability {bad} is outside [0, 1]"
            )));
        }
        let mut g = rng(self.seed);
        let vals: Vec<f64> = p
            .iter()
            .map(|&p| if g.random::<f64>() < p { 1.0 } else { 0.0 })
            .collect();
        one(tensor_of(
            ctx,
            self.elem.unwrap_or(x.elem()),
            x.shape(),
            &vals,
        )?)
    }
}

crate::register!("Bernoulli", [15, LATEST], FLOATS, |n| Ok(Box::new(
    Bernoulli {
        elem: dtype_attr(n, None)?,
        seed: seed_attr(n)?,
    }
)));

#[cfg(test)]
mod tests {
    use crate::testing::{attr, f32s, run_node};
    use ort_core::abi::AttrValue;
    use ort_core::ElemType;

    fn draw(p: &[f32], seed: Option<f32>, dtype: Option<i64>) -> ort_core::Tensor {
        let mut attrs = vec![];
        if let Some(s) = seed {
            attrs.push(attr("seed", AttrValue::Float(s)));
        }
        if let Some(d) = dtype {
            attrs.push(attr("dtype", AttrValue::Int(d)));
        }
        let outs = run_node("Bernoulli", 22, &[f32s(&[p.len() as i64], p)], attrs, 1).unwrap();
        outs[0].as_ref().unwrap().as_tensor().unwrap().clone()
    }

    #[test]
    fn frequencies_follow_p() {
        let p: Vec<f32> = (0..20000)
            .map(|i| if i % 2 == 0 { 0.25 } else { 1.0 })
            .collect();
        let t = draw(&p, None, None);
        assert_eq!(t.elem(), ElemType::F32);
        assert_eq!(t.shape(), &[20000]);
        let v = t.to_vec::<f32>().unwrap();
        assert!(v.iter().all(|&x| x == 0.0 || x == 1.0));
        assert!(v.iter().skip(1).step_by(2).all(|&x| x == 1.0));
        let ones = v.iter().step_by(2).filter(|&&x| x == 1.0).count() as f64 / 10000.0;
        // Standard error sqrt(0.25 * 0.75 / 10000) ≈ 0.0043.
        assert!((ones - 0.25).abs() < 0.025, "frequency {ones}");
    }

    #[test]
    fn seed_and_dtype() {
        let p = vec![0.5f32; 64];
        let a = draw(&p, Some(3.0), Some(9));
        assert_eq!(a.elem(), ElemType::Bool);
        let b = draw(&p, Some(3.0), Some(9));
        assert_eq!(a.to_vec::<bool>().unwrap(), b.to_vec::<bool>().unwrap());
        let c = draw(&p, Some(3.0), Some(7));
        assert_eq!(c.elem(), ElemType::I64);
        let bad = run_node("Bernoulli", 22, &[f32s(&[1], &[1.5])], vec![], 1);
        assert!(bad.is_err());
    }
}
