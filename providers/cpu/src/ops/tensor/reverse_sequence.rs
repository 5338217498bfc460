//! ReverseSequence: copies each (time, batch) block from time l − 1 − t while t < l, the
//! batch entry's length, and from t itself after, in time-major or batch-major layout.

use ort_core::{Error, Value};

use crate::kernel::{input, one, Ctx, Kernel, Outputs};
use crate::ops::{ANY, LATEST};
use crate::util::Movable;

/// Reverses the first `sequence_lens[b]` steps of each batch entry along the time
/// axis; later steps are copied as they are.
struct ReverseSequence {
    time_axis: i64,
    batch_axis: i64,
}

impl Kernel for ReverseSequence {
    fn compute(&self, inputs: &[Option<&Value>], ctx: &Ctx<'_>) -> Outputs {
        let (x, lens) = (input(inputs, 0)?, input(inputs, 1)?);
        let ok = matches!((self.time_axis, self.batch_axis), (0, 1) | (1, 0));
        if !ok || x.rank() < 2 {
            return Err(Error::invalid(
                "ReverseSequence needs rank 2 or more and time/batch axes 0 and 1",
            ));
        }
        let s = x.shape();
        let (t_len, b_len) = (s[self.time_axis as usize], s[self.batch_axis as usize]);
        let lens = lens.to_i64_vec()?;
        if lens.len() as i64 != b_len || lens.iter().any(|&l| l < 0 || l > t_len) {
            return Err(Error::invalid(format!(
                "ReverseSequence sequence_lens {lens:?} do not fit batch {b_len} and time {t_len}"
            )));
        }
        let inner = s[2..].iter().product::<i64>() as usize;
        let time_first = self.time_axis == 0;
        let (tl, bl) = (t_len as usize, b_len as usize);
        let off = move |t: usize, b: usize| {
            if time_first {
                (t * bl + b) * inner
            } else {
                (b * tl + t) * inner
            }
        };
        one(crate::dispatch_move!(x.elem(), T => {
            let src = T::elems_of(x)?;
            T::new_tensor(ctx, x.elem(), s, |out| {
                for (b, &l) in lens.iter().enumerate() {
                    let l = l as usize;
                    for t in 0..tl {
                        let from = if t < l { l - 1 - t } else { t };
                        let (o, i) = (off(t, b), off(from, b));
                        out[o..o + inner].clone_from_slice(&src[i..i + inner]);
                    }
                }
            })
        })?)
    }
}

crate::register!("ReverseSequence", [10, LATEST], ANY, |n| Ok(Box::new(
    ReverseSequence {
        time_axis: n.int("time_axis", 0)?,
        batch_axis: n.int("batch_axis", 1)?,
    }
)));
