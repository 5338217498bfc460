use ort_core::{Error, Tensor, Value};

use crate::kernel::{one, Ctx, Kernel};
use crate::ops::{ANY, LATEST};
use crate::util::{axis, Movable, PAR_MIN_LEN};

struct Concat {
    axis: i64,
}

impl Kernel for Concat {
    fn compute(
        &self,
        inputs: &[Option<&Value>],
        ctx: &Ctx<'_>,
    ) -> Result<Vec<Option<Value>>, Error> {
        let ts = inputs
            .iter()
            .flatten()
            .map(|v| v.tensor())
            .collect::<Result<Vec<&Tensor>, _>>()?;
        let first = *ts
            .first()
            .ok_or_else(|| Error::invalid("Concat needs at least one input"))?;
        let r = first.rank();
        if r == 0 {
            return Err(Error::invalid("Concat inputs must have rank 1 or more"));
        }
        let a = axis(self.axis, r)?;
        let mut shape = first.shape().to_vec();
        shape[a] = 0;
        for t in &ts {
            let same = t.rank() == r && (0..r).all(|i| i == a || t.shape()[i] == first.shape()[i]);
            if t.elem() != first.elem() || !same {
                return Err(Error::invalid(format!(
                    "cannot concatenate {}{:?} with {}{:?} on axis {a}",
                    first.elem(),
                    first.shape(),
                    t.elem(),
                    t.shape()
                )));
            }
            shape[a] += t.shape()[a];
        }
        let outer: usize = shape[..a].iter().product::<i64>() as usize;
        let inner: usize = shape[a + 1..].iter().product::<i64>() as usize;
        let row = shape[a] as usize * inner;
        one(crate::dispatch_move!(first.elem(), T => {
            let srcs = ts.iter().map(|t| T::elems_of(t)).collect::<Result<Vec<_>, _>>()?;
            let fill_row = |o: usize, out: &mut [T]| {
                let mut at = 0;
                for s in &srcs {
                    let n = s.len() / outer.max(1);
                    out[at..at + n].clone_from_slice(&s[o * n..(o + 1) * n]);
                    at += n;
                }
            };
            T::new_tensor(ctx, first.elem(), &shape, |out| {
                if row == 0 {
                    return;
                }
                if out.len() >= PAR_MIN_LEN && outer > 1 && crate::util::in_pool() {
                                        let threads = crate::parallel::pool_threads();
                    crate::parallel::for_each_chunk(threads, out, row, fill_row);
                } else {
                    out.chunks_mut(row).enumerate().for_each(|(o, c)| fill_row(o, c));
                }
            })
        })?)
    }
}

crate::register!("Concat", [4, LATEST], ANY, |n| {
    if !n.has("axis") {
        return Err(Error::invalid("Concat needs an axis attribute"));
    }
    Ok(Box::new(Concat {
        axis: n.int("axis", 0)?,
    }))
});
