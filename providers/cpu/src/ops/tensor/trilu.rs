//! Trilu: for each matrix of the last two axes, copies element (i, j) when j − i ≥ k
//! (upper) or j − i ≤ k (lower) and writes the default (zero) value elsewhere.

use ort_core::{Error, Value};

use crate::kernel::{input, one, opt_input, Ctx, Kernel, Outputs};
use crate::ops::{ANY, LATEST};
use crate::util::Movable;

/// Keeps the upper (or lower) triangle of the last two axes, from diagonal `k` on.
struct Trilu {
    upper: bool,
}

impl Kernel for Trilu {
    // The bodies are generic over movable words and strings; words are Copy.
    #[allow(clippy::clone_on_copy)]
    fn compute(&self, inputs: &[Option<&Value>], ctx: &Ctx<'_>) -> Outputs {
        let x = input(inputs, 0)?;
        let r = x.rank();
        if r < 2 {
            return Err(Error::invalid("Trilu input must have rank 2 or more"));
        }
        let k = match opt_input(inputs, 1)? {
            Some(t) => *t
                .to_i64_vec()?
                .first()
                .ok_or_else(|| Error::invalid("Trilu k is empty"))?,
            None => 0,
        };
        let (rows, cols) = (x.shape()[r - 2], x.shape()[r - 1]);
        let upper = self.upper;
        let keep = move |i: i64, j: i64| if upper { j - i >= k } else { j - i <= k };
        one(crate::dispatch_move!(x.elem(), T => {
            let src = T::elems_of(x)?;
            T::new_tensor(ctx, x.elem(), x.shape(), |out| {
                let m = (rows * cols) as usize;
                if m == 0 {
                    return;
                }
                for (o, s) in out.chunks_mut(m).zip(src.chunks(m)) {
                    for i in 0..rows {
                        for j in 0..cols {
                            let p = (i * cols + j) as usize;
                            o[p] = if keep(i, j) { s[p].clone() } else { T::default() };
                        }
                    }
                }
            })
        })?)
    }
}

crate::register!("Trilu", [14, LATEST], ANY, |n| Ok(Box::new(Trilu {
    upper: n.int("upper", 1)? != 0
})));
