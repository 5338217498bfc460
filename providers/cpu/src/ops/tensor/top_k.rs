//! TopK: per line along the axis, select_nth_unstable partitions out the k best, which
//! are then sorted, ties broken by the lower index and NaN ordered after every number.

use std::cmp::Ordering;

use ort_core::{Error, Value};

use crate::kernel::{input, Ctx, Kernel, Outputs};
use crate::ops::{LATEST, NUMERIC};
use crate::util::{axis, Num};

/// The `k` largest (or smallest) elements along an axis and their indices. Equal
/// values keep their original order (the lower index first).
struct TopK {
    /// Before opset 10 `k` is an attribute.
    k: Option<i64>,
    axis: i64,
    largest: bool,
}

/// `a` before `b` in the output order; NaN comes after every number either way,
/// as in ONNX Runtime.
fn order<T: Num>(largest: bool, a: T, b: T) -> Ordering {
    match (a.is_nan(), b.is_nan()) {
        (true, true) => Ordering::Equal,
        (true, false) => Ordering::Greater,
        (false, true) => Ordering::Less,
        _ => {
            let o = a.partial_cmp(&b).unwrap_or(Ordering::Equal);
            if largest {
                o.reverse()
            } else {
                o
            }
        }
    }
}

fn top_k<T: Num>(
    x: &[T],
    (outer, d, inner): (usize, usize, usize),
    k: usize,
    largest: bool,
    vals: &mut [T],
    idx: &mut [i64],
) {
    let mut line: Vec<(T, usize)> = Vec::with_capacity(d);
    for o in 0..outer {
        for n in 0..inner {
            line.clear();
            line.extend((0..d).map(|j| (x[(o * d + j) * inner + n], j)));
            let cmp = |a: &(T, usize), b: &(T, usize)| order(largest, a.0, b.0).then(a.1.cmp(&b.1));
            if k < d && k > 0 {
                line.select_nth_unstable_by(k - 1, cmp);
            }
            line[..k].sort_unstable_by(cmp);
            for (j, &(v, i)) in line[..k].iter().enumerate() {
                let p = (o * k + j) * inner + n;
                vals[p] = v;
                idx[p] = i as i64;
            }
        }
    }
}

impl Kernel for TopK {
    fn compute(&self, inputs: &[Option<&Value>], ctx: &Ctx<'_>) -> Outputs {
        let x = input(inputs, 0)?;
        let k = match self.k {
            Some(k) => k,
            None => *input(inputs, 1)?
                .to_i64_vec()?
                .first()
                .ok_or_else(|| Error::invalid("TopK k is empty"))?,
        };
        let a = axis(self.axis, x.rank())?;
        let s = x.shape();
        if x.rank() == 0 || k < 0 || k > s[a] {
            return Err(Error::invalid(format!(
                "TopK k {k} is out of range for axis {a} of shape {s:?}"
            )));
        }
        let dims = (
            s[..a].iter().product::<i64>() as usize,
            s[a] as usize,
            s[a + 1..].iter().product::<i64>() as usize,
        );
        let mut shape = s.to_vec();
        shape[a] = k;
        let n = shape.iter().product::<i64>() as usize;
        let mut idx = vec![0i64; n];
        let vals = crate::dispatch_numeric!(x.elem(), T => {
            let src = x.as_slice::<T>()?;
            ctx.tensor(&shape, |v: &mut [T]| {
                top_k(src, dims, k as usize, self.largest, v, &mut idx)
            })
        })?;
        let idx = ctx.tensor_from(&shape, &idx)?;
        Ok(vec![Some(Value::Tensor(vals)), Some(Value::Tensor(idx))])
    }
}

crate::register!("TopK", [1, LATEST], NUMERIC, |n| Ok(Box::new(TopK {
    k: if n.opset() < 10 {
        Some(n.int("k", 0)?)
    } else {
        None
    },
    axis: n.int("axis", -1)?,
    largest: n.int("largest", 1)? != 0,
})));
