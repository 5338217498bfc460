//! RandomUniform(Like): `low + (high - low) · u` with u a uniform f64 in [0, 1) from a
//! (seeded) StdRng, narrowed to the output type.

use ort_core::{Error, Value};
use rand::Rng;

use super::Draws;
use crate::kernel::{one, Ctx, Kernel, Outputs};
use crate::ops::{ANY, LATEST};

/// Uniformly distributed values in `[low, high)`.
struct RandomUniform {
    draws: Draws,
    low: f64,
    high: f64,
}

impl Kernel for RandomUniform {
    fn compute(&self, inputs: &[Option<&Value>], ctx: &Ctx<'_>) -> Outputs {
        let span = self.high - self.low;
        one(self
            .draws
            .fill(inputs, ctx, |g| self.low + span * g.random::<f64>())?)
    }
}

fn build(n: &crate::kernel::NodeInfo<'_, '_>, like: bool) -> Result<Box<dyn Kernel>, Error> {
    let low = n.float("low", 0.0)? as f64;
    let high = n.float("high", 1.0)? as f64;
    if low > high || !low.is_finite() || !high.is_finite() {
        return Err(Error::invalid(format!(
            "low ({low}) must not exceed high ({high}), and both must be finite"
        )));
    }
    Ok(Box::new(RandomUniform {
        draws: Draws::new(n, like)?,
        low,
        high,
    }))
}

crate::register!("RandomUniform", [1, LATEST], ANY, |n| build(n, false));
crate::register!("RandomUniformLike", [1, LATEST], ANY, |n| build(n, true));

#[cfg(test)]
mod tests {
    use super::super::stats::moments;
    use crate::testing::{attr, i64s, run_node};
    use ort_core::abi::AttrValue;
    use ort_core::ElemType;

    fn uniform(seed: Option<f32>) -> Vec<f32> {
        let mut attrs = vec![
            attr("shape", AttrValue::Ints(vec![20000].into())),
            attr("low", AttrValue::Float(-1.0)),
            attr("high", AttrValue::Float(3.0)),
        ];
        if let Some(s) = seed {
            attrs.push(attr("seed", AttrValue::Float(s)));
        }
        let outs = run_node("RandomUniform", 22, &[], attrs, 1).unwrap();
        let t = outs[0].as_ref().unwrap().as_tensor().unwrap();
        assert_eq!(t.shape(), &[20000]);
        assert_eq!(t.elem(), ElemType::F32);
        t.to_vec::<f32>().unwrap()
    }

    #[test]
    fn range_and_moments() {
        let v = uniform(None);
        assert!(v.iter().all(|&x| (-1.0..=3.0).contains(&x)));
        let (m, var) = moments(&v.iter().map(|&x| x as f64).collect::<Vec<_>>());
        // Uniform(-1, 3): mean 1, variance 16/12.
        assert!((m - 1.0).abs() < 0.05, "mean {m}");
        assert!((var - 16.0 / 12.0).abs() < 0.08, "variance {var}");
    }

    #[test]
    fn seed_reproduces() {
        assert_eq!(uniform(Some(1.0)), uniform(Some(1.0)));
        assert_ne!(uniform(Some(1.0)), uniform(Some(2.0)));
        assert_ne!(uniform(None), uniform(None));
    }

    #[test]
    fn like_with_dtype() {
        let x = i64s(&[2, 5], &[0; 10]);
        let attrs = vec![attr("dtype", AttrValue::Int(10))];
        let outs = run_node("RandomUniformLike", 22, &[x], attrs, 1).unwrap();
        let t = outs[0].as_ref().unwrap().as_tensor().unwrap();
        assert_eq!(t.shape(), &[2, 5]);
        assert_eq!(t.elem(), ElemType::F16);
        // An int64 input without a dtype cannot give a float output.
        let x = i64s(&[2], &[0; 2]);
        assert!(run_node("RandomUniformLike", 22, &[x], vec![], 1).is_err());
    }
}
