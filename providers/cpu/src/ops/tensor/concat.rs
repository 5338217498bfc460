//! Concat: copies each input's block into every output row, in parallel chunks of rows,
//! or for a single row of wide planes, by per-thread column ranges to keep caches warm.

use ort_core::{Error, Tensor, Value};

use crate::kernel::{one, Ctx, Kernel, Outputs};
use crate::ops::{ANY, LATEST};
use crate::util::{axis, Movable, PAR_MIN_LEN};

/// The fewest columns per thread for which a concatenation of few planes
/// splits them by columns.
const COLUMNS: usize = 512;

pub(crate) struct Concat {
    pub axis: i64,
}

impl Kernel for Concat {
    fn compute(&self, inputs: &[Option<&Value>], ctx: &Ctx<'_>) -> Outputs {
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
                let threads = crate::parallel::pool_threads();
                let parallel = out.len() >= PAR_MIN_LEN && crate::util::in_pool();
                if parallel && outer > 1 {
                    crate::parallel::for_each_chunk(threads, out, row, fill_row);
                } else if parallel && inner >= COLUMNS * threads {
                    // A channel concatenation of one image: each thread copies
                    // the same columns of every plane, as the convolutions
                    // around it split their outputs, so that what a core wrote
                    // it reads back from its own cache.
                    let parts = 2 * threads;
                    let dst = crate::parallel::Disjoint::new(out);
                    crate::parallel::for_each(threads, parts, |t| {
                        let cols = t * inner / parts..(t + 1) * inner / parts;
                        for o in 0..outer {
                            let mut at = o * row;
                            for s in &srcs {
                                let n = s.len() / outer;
                                for src in s[o * n..(o + 1) * n].chunks_exact(inner) {
                                    let span = at + cols.start..at + cols.end;
                                    // SAFETY: task t alone writes columns
                                    // `cols` of every plane.
                                    unsafe { dst.part(span) }.clone_from_slice(&src[cols.clone()]);
                                    at += inner;
                                }
                            }
                        }
                    });
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
