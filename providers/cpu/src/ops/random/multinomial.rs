//! Multinomial: inverse-CDF sampling, a binary search of uniform draws in each row's
//! cumulative sums of max-shifted exp(x).

use ort_core::{ElemType, Error, Value};
use rand::Rng;

use super::{dtype_attr, rng, seed_attr, tensor_of};
use crate::kernel::{input, one, Ctx, Kernel, Outputs};
use crate::ops::{FLOATS, LATEST};

/// For each batch row of unnormalized log-probabilities, `sample_size` class indices
/// drawn with probability proportional to `exp(x)`.
struct Multinomial {
    elem: ElemType,
    samples: usize,
    seed: Option<u64>,
}

impl Kernel for Multinomial {
    fn compute(&self, inputs: &[Option<&Value>], ctx: &Ctx<'_>) -> Outputs {
        let x = input(inputs, 0)?;
        if x.rank() != 2 {
            return Err(Error::invalid(format!(
                "input must be [batch_size, class_size], got shape {:?}",
                x.shape()
            )));
        }
        let (batch, classes) = (x.shape()[0] as usize, x.shape()[1] as usize);
        let logits: Vec<f64> = crate::dispatch_float!(x.elem(), T => Ok::<_, Error>(
            x.as_slice::<T>()?.iter().map(|&v| crate::util::Num::to_f64(v)).collect()
        ))?;
        let mut g = rng(self.seed);
        let mut vals = Vec::with_capacity(batch * self.samples);
        let mut cdf = vec![0.0f64; classes];
        for row in logits.chunks(classes.max(1)).take(batch) {
            let max = row.iter().copied().fold(f64::NEG_INFINITY, f64::max);
            let mut total = 0.0;
            for (c, &v) in cdf.iter_mut().zip(row) {
                total += (v - max).exp();
                *c = total;
            }
            if classes == 0 || total <= 0.0 || !total.is_finite() {
                return Err(Error::invalid(
                    "each row needs at least one finite log-probability",
                ));
            }
            for _ in 0..self.samples {
                let u = g.random::<f64>() * total;
                let k = cdf.partition_point(|&c| c <= u).min(classes - 1);
                vals.push(k as f64);
            }
        }
        one(tensor_of(
            ctx,
            self.elem,
            &[batch as i64, self.samples as i64],
            &vals,
        )?)
    }
}

crate::register!("Multinomial", [7, LATEST], FLOATS, |n| {
    let elem = dtype_attr(n, Some(ElemType::I32))?.unwrap_or(ElemType::I32);
    if !matches!(elem, ElemType::I32 | ElemType::I64) {
        return Err(Error::invalid(format!(
            "Multinomial dtype must be int32 or int64, got {elem}"
        )));
    }
    let samples = n.int("sample_size", 1)?;
    if samples < 0 {
        return Err(Error::invalid(format!("sample_size {samples} is negative")));
    }
    Ok(Box::new(Multinomial {
        elem,
        samples: samples as usize,
        seed: seed_attr(n)?,
    }))
});

#[cfg(test)]
mod tests {
    use crate::testing::{attr, f32s, run_node};
    use ort_core::abi::AttrValue;
    use ort_core::ElemType;

    fn draw(seed: Option<f32>) -> ort_core::Tensor {
        // Row 0: probabilities 0.1, 0.2, 0.7; row 1: always class 2.
        let p = [0.1f32, 0.2, 0.7, 0.0, 0.0, 1.0];
        let logits: Vec<f32> = p.iter().map(|v| v.ln()).collect();
        let mut attrs = vec![
            attr("sample_size", AttrValue::Int(10000)),
            attr("dtype", AttrValue::Int(7)),
        ];
        if let Some(s) = seed {
            attrs.push(attr("seed", AttrValue::Float(s)));
        }
        let outs = run_node("Multinomial", 7, &[f32s(&[2, 3], &logits)], attrs, 1).unwrap();
        outs[0].as_ref().unwrap().as_tensor().unwrap().clone()
    }

    #[test]
    fn frequencies_follow_probabilities() {
        let t = draw(None);
        assert_eq!(t.elem(), ElemType::I64);
        assert_eq!(t.shape(), &[2, 10000]);
        let v = t.to_vec::<i64>().unwrap();
        assert!(v[10000..].iter().all(|&k| k == 2));
        for (k, want) in [(0, 0.1), (1, 0.2), (2, 0.7)] {
            let f = v[..10000].iter().filter(|&&c| c == k).count() as f64 / 10000.0;
            assert!((f - want).abs() < 0.03, "class {k}: {f}");
        }
    }

    #[test]
    fn seed_reproduces() {
        let a = draw(Some(7.0)).to_vec::<i64>().unwrap();
        let b = draw(Some(7.0)).to_vec::<i64>().unwrap();
        assert_eq!(a, b);
    }

    #[test]
    fn default_dtype_is_int32() {
        let outs = run_node("Multinomial", 7, &[f32s(&[1, 2], &[0.0, 0.0])], vec![], 1).unwrap();
        let t = outs[0].as_ref().unwrap().as_tensor().unwrap();
        assert_eq!(t.elem(), ElemType::I32);
        assert_eq!(t.shape(), &[1, 1]);
    }
}
