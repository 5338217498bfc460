//! ArrayFeatureExtractor: copies the indexed columns of the last axis, row by row.

use ort_core::{Error, Value};

use crate::kernel::{input, one, Ctx, Kernel, Outputs};
use crate::ops::{ANY, LATEST};
use crate::util::Movable;

/// ArrayFeatureExtractor: picks columns of the last axis; 1-D data gives `[1, K]`.
struct ArrayFeatureExtractor;

impl Kernel for ArrayFeatureExtractor {
    // The element stand-ins are Copy words, except RString.
    #[allow(clippy::clone_on_copy)]
    fn compute(&self, inputs: &[Option<&Value>], ctx: &Ctx<'_>) -> Outputs {
        let (x, ind) = (input(inputs, 0)?, input(inputs, 1)?);
        let Some((&c, lead)) = x.shape().split_last() else {
            return Err(Error::invalid(
                "ArrayFeatureExtractor data must have rank 1 or more",
            ));
        };
        let idx = ind
            .to_i64_vec()?
            .into_iter()
            .map(|i| {
                if (0..c).contains(&i) {
                    Ok(i as usize)
                } else {
                    Err(Error::invalid(format!(
                        "index {i} is out of range for {c} columns"
                    )))
                }
            })
            .collect::<Result<Vec<_>, _>>()?;
        let k = idx.len();
        let shape: Vec<i64> = if lead.is_empty() {
            vec![1, k as i64]
        } else {
            [lead, &[k as i64]].concat()
        };
        let c = c as usize;
        one(crate::dispatch_move!(x.elem(), T => {
            let src = T::elems_of(x)?;
            T::new_tensor(ctx, x.elem(), &shape, |out| {
                if k == 0 {
                    return;
                }
                for (r, o) in out.chunks_mut(k).enumerate() {
                    for (o, &j) in o.iter_mut().zip(&idx) {
                        *o = src[r * c + j].clone();
                    }
                }
            })
        })?)
    }
}

crate::register!(
    "ArrayFeatureExtractor",
    "ai.onnx.ml",
    [1, LATEST],
    ANY,
    0,
    |_| Ok(Box::new(ArrayFeatureExtractor))
);
