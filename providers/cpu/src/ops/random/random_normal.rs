//! RandomNormal(Like): `mean + scale · z` with z from rand_distr's StandardNormal on a
//! (seeded) StdRng, drawn in f64 and narrowed to the output type.

use ort_core::{Error, Value};
use rand_distr::{Distribution, StandardNormal};

use super::Draws;
use crate::kernel::{one, Ctx, Kernel, Outputs};
use crate::ops::{ANY, LATEST};

/// Normally distributed values, `mean + scale · z`.
struct RandomNormal {
    draws: Draws,
    mean: f64,
    scale: f64,
}

impl Kernel for RandomNormal {
    fn compute(&self, inputs: &[Option<&Value>], ctx: &Ctx<'_>) -> Outputs {
        one(self.draws.fill(inputs, ctx, |g| {
            let z: f64 = StandardNormal.sample(g);
            self.mean + self.scale * z
        })?)
    }
}

fn build(n: &crate::kernel::NodeInfo<'_, '_>, like: bool) -> Result<Box<dyn Kernel>, Error> {
    Ok(Box::new(RandomNormal {
        draws: Draws::new(n, like)?,
        mean: n.float("mean", 0.0)? as f64,
        scale: n.float("scale", 1.0)? as f64,
    }))
}

crate::register!("RandomNormal", [1, LATEST], ANY, |n| build(n, false));
crate::register!("RandomNormalLike", [1, LATEST], ANY, |n| build(n, true));

#[cfg(test)]
mod tests {
    use super::super::stats::moments;
    use crate::testing::{attr, f32s, run_node};
    use ort_core::abi::AttrValue;
    use ort_core::ElemType;

    fn normal(seed: Option<f32>, dtype: i64) -> ort_core::Tensor {
        let mut attrs = vec![
            attr("shape", AttrValue::Ints(vec![100, 100].into())),
            attr("mean", AttrValue::Float(2.0)),
            attr("scale", AttrValue::Float(3.0)),
            attr("dtype", AttrValue::Int(dtype)),
        ];
        if let Some(s) = seed {
            attrs.push(attr("seed", AttrValue::Float(s)));
        }
        let outs = run_node("RandomNormal", 22, &[], attrs, 1).unwrap();
        outs[0].as_ref().unwrap().as_tensor().unwrap().clone()
    }

    #[test]
    fn shape_dtype_and_moments() {
        let t = normal(None, 11);
        assert_eq!(t.shape(), &[100, 100]);
        assert_eq!(t.elem(), ElemType::F64);
        let (m, v) = moments(&t.to_vec::<f64>().unwrap());
        // 10000 draws: the mean's standard error is 0.03, the variance's about 0.13.
        assert!((m - 2.0).abs() < 0.15, "mean {m}");
        assert!((v - 9.0).abs() < 0.7, "variance {v}");
    }

    #[test]
    fn seed_reproduces() {
        let a = normal(Some(5.0), 1).to_vec::<f32>().unwrap();
        let b = normal(Some(5.0), 1).to_vec::<f32>().unwrap();
        let c = normal(Some(6.0), 1).to_vec::<f32>().unwrap();
        assert_eq!(a, b);
        assert_ne!(a, c);
        let d = normal(None, 1).to_vec::<f32>().unwrap();
        let e = normal(None, 1).to_vec::<f32>().unwrap();
        assert_ne!(d, e);
    }

    #[test]
    fn like_takes_shape_and_type() {
        let x = f32s(&[3, 4], &[0.0; 12]);
        let outs = run_node("RandomNormalLike", 22, &[x], vec![], 1).unwrap();
        let t = outs[0].as_ref().unwrap().as_tensor().unwrap();
        assert_eq!(t.shape(), &[3, 4]);
        assert_eq!(t.elem(), ElemType::F32);
    }
}
