//! CumSum: a sequential running sum (or product) along the axis for each inner index,
//! with exclusive (identity first) and reverse variants; integers wrap.

use ort_core::{Error, Value};

use crate::kernel::{input, one, Ctx, Kernel, Outputs};
use crate::ops::{LATEST, NUMERIC};
use crate::util::Num;

/// A running sum or product along one axis; `exclusive` shifts by one (starting
/// from the identity) and `reverse` runs from the end.
pub(crate) struct Cumulative {
    pub prod: bool,
    pub exclusive: bool,
    pub reverse: bool,
}

fn scan<T: Num>(x: &[T], out: &mut [T], len: usize, inner: usize, c: &Cumulative) {
    let (id, f): (T, fn(T, T) -> T) = if c.prod {
        (T::ONE, |a, b| a.wmul(b))
    } else {
        (T::ZERO, |a, b| a.wadd(b))
    };
    if len == 0 || inner == 0 {
        return;
    }
    for (src, dst) in x.chunks(len * inner).zip(out.chunks_mut(len * inner)) {
        for j in 0..inner {
            let mut acc = id;
            for k in 0..len {
                let i = if c.reverse { len - 1 - k } else { k } * inner + j;
                if c.exclusive {
                    dst[i] = acc;
                    acc = f(acc, src[i]);
                } else {
                    acc = f(acc, src[i]);
                    dst[i] = acc;
                }
            }
        }
    }
}

impl Kernel for Cumulative {
    fn compute(&self, inputs: &[Option<&Value>], ctx: &Ctx<'_>) -> Outputs {
        let x = input(inputs, 0)?;
        let a = input(inputs, 1)?.to_i64_vec()?;
        let &[a] = a.as_slice() else {
            return Err(Error::invalid("the axis input must hold one value"));
        };
        let a = crate::util::axis(a, x.rank())?;
        let shape = x.shape();
        let (len, inner) = if shape.is_empty() {
            (1, 1)
        } else {
            (
                shape[a] as usize,
                shape[a + 1..].iter().product::<i64>() as usize,
            )
        };
        one(crate::dispatch_numeric!(x.elem(), T => {
            let src = x.as_slice::<T>()?;
            ctx.tensor(shape, |o: &mut [T]| scan(src, o, len, inner, self))
        })?)
    }
}

crate::register!("CumSum", [11, LATEST], NUMERIC, |n| Ok(Box::new(
    Cumulative {
        prod: false,
        exclusive: n.int("exclusive", 0)? != 0,
        reverse: n.int("reverse", 0)? != 0,
    }
)));
