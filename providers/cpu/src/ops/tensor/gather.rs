//! Gather: copies whole inner rows of the data selected by (possibly negative) indices
//! along one axis, in parallel chunks of rows when the output is large.

use ort_core::{Error, Value};

use crate::kernel::{input, one, Ctx, Kernel, Outputs};
use crate::ops::{ANY, LATEST};
use crate::util::{axis, Movable, PAR_MIN_LEN};

struct Gather {
    axis: i64,
}

impl Kernel for Gather {
    fn compute(&self, inputs: &[Option<&Value>], ctx: &Ctx<'_>) -> Outputs {
        let (x, ind) = (input(inputs, 0)?, input(inputs, 1)?);
        if x.rank() == 0 {
            return Err(Error::invalid("Gather data must have rank 1 or more"));
        }
        let a = axis(self.axis, x.rank())?;
        let d = x.shape()[a];
        let idx = ind
            .to_i64_vec()?
            .into_iter()
            .map(|i| match if i < 0 { i + d } else { i } {
                v if (0..d).contains(&v) => Ok(v as usize),
                _ => Err(Error::invalid(format!(
                    "index {i} is out of range for dimension {d}"
                ))),
            })
            .collect::<Result<Vec<_>, _>>()?;
        let shape: Vec<i64> = [&x.shape()[..a], ind.shape(), &x.shape()[a + 1..]].concat();
        let inner = x.shape()[a + 1..].iter().product::<i64>() as usize;
        let (d, k) = (d as usize, idx.len());
        one(crate::dispatch_move!(x.elem(), T => {
            let src = T::elems_of(x)?;
            // One output row per (outer, index) pair, each a copy of one source row.
            let rows = |first: usize, out: &mut [T]| {
                for (r, o) in out.chunks_mut(inner).enumerate() {
                    let (b, j) = ((first + r) / k, (first + r) % k);
                    let s = (b * d + idx[j]) * inner;
                    o.clone_from_slice(&src[s..s + inner]);
                }
            };
            T::new_tensor(ctx, x.elem(), &shape, |out| {
                if inner == 0 || out.is_empty() {
                    return;
                }
                if out.len() >= PAR_MIN_LEN && crate::util::in_pool() {
                                        let per = (PAR_MIN_LEN / 4 / inner).max(1);
                    let threads = crate::parallel::pool_threads();
                    crate::parallel::for_each_chunk(threads, out, per * inner, |c, o| rows(c * per, o));
                } else {
                    rows(0, out);
                }
            })
        })?)
    }
}

crate::register!("Gather", [1, LATEST], ANY, |n| Ok(Box::new(Gather {
    axis: n.int("axis", 0)?
})));
