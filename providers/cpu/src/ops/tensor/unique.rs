//! Unique: stable-sorts slice indices lexicographically (NaN last), groups equal runs,
//! reorders groups by first occurrence unless sorted, then gathers each group's first.

use std::cmp::Ordering;

use ort_core::abi::RString;
use ort_core::{ElemType, Error, Value};

use super::indexing::gather_blocks;
use crate::kernel::{input, Ctx, Kernel, Outputs};
use crate::ops::{ANY, LATEST};
use crate::util::axis;

/// The distinct elements (or slices along `axis`), sorted or in order of first
/// appearance, with first-occurrence indices, inverse indices and counts.
struct Unique {
    axis: Option<i64>,
    sorted: bool,
}

/// Total order for one element: NaN after every number, as numpy sorts.
fn cmp_elem<T: PartialOrd>(a: &T, b: &T) -> Ordering {
    match a.partial_cmp(b) {
        Some(o) => o,
        None => {
            #[allow(clippy::eq_op)]
            let (an, bn) = (a != a, b != b);
            an.cmp(&bn)
        }
    }
}

/// Groups the `d` slices of `x` (viewed as `outer × d × inner`): for each distinct
/// slice in output order, its first index; and for each slice, its group's position.
fn groups<T: PartialOrd>(
    x: &[T],
    (outer, d, inner): (usize, usize, usize),
    sorted: bool,
) -> (Vec<usize>, Vec<usize>, Vec<i64>) {
    let cmp = |a: usize, b: usize| -> Ordering {
        for o in 0..outer {
            for n in 0..inner {
                let (p, q) = (&x[(o * d + a) * inner + n], &x[(o * d + b) * inner + n]);
                match cmp_elem(p, q) {
                    Ordering::Equal => {}
                    r => return r,
                }
            }
        }
        Ordering::Equal
    };
    let mut ord: Vec<usize> = (0..d).collect();
    ord.sort_by(|&a, &b| cmp(a, b));
    // Groups in sorted order: (first index, count); slice -> group.
    let mut firsts: Vec<usize> = Vec::new();
    let mut counts: Vec<i64> = Vec::new();
    let mut group = vec![0usize; d];
    for (p, &i) in ord.iter().enumerate() {
        if p == 0 || cmp(ord[p - 1], i) != Ordering::Equal {
            firsts.push(i);
            counts.push(0);
        }
        *counts.last_mut().expect("a group was started") += 1;
        group[i] = firsts.len() - 1;
    }
    if !sorted {
        let mut by_first: Vec<usize> = (0..firsts.len()).collect();
        by_first.sort_by_key(|&g| firsts[g]);
        let mut rank = vec![0usize; firsts.len()];
        for (r, &g) in by_first.iter().enumerate() {
            rank[g] = r;
        }
        firsts = by_first.iter().map(|&g| firsts[g]).collect();
        counts = by_first.iter().map(|&g| counts[g]).collect();
        group.iter_mut().for_each(|g| *g = rank[*g]);
    }
    (firsts, group, counts)
}

impl Kernel for Unique {
    fn compute(&self, inputs: &[Option<&Value>], ctx: &Ctx<'_>) -> Outputs {
        let x = input(inputs, 0)?;
        let (dims, a) = match self.axis {
            None => ((1usize, x.len(), 1usize), None),
            Some(ax) => {
                let a = axis(ax, x.rank())?;
                let s = x.shape();
                (
                    (
                        s[..a].iter().product::<i64>() as usize,
                        s[a] as usize,
                        s[a + 1..].iter().product::<i64>() as usize,
                    ),
                    Some(a),
                )
            }
        };
        let (firsts, group, counts) = match x.elem() {
            ElemType::String => groups(x.as_slice::<RString>()?, dims, self.sorted),
            ElemType::Bool => groups(x.as_slice::<bool>()?, dims, self.sorted),
            e => {
                crate::dispatch_numeric!(e, T => Ok::<_, Error>(groups(x.as_slice::<T>()?, dims, self.sorted)))?
            }
        };
        let (outer, d, inner) = dims;
        let u = firsts.len();
        let shape = match a {
            None => vec![u as i64],
            Some(a) => {
                let mut s = x.shape().to_vec();
                s[a] = u as i64;
                s
            }
        };
        let offs: Vec<usize> = (0..outer)
            .flat_map(|o| firsts.iter().map(move |&f| (o * d + f) * inner))
            .collect();
        let y = gather_blocks(ctx, x, &shape, &offs, inner)?;
        let idx: Vec<i64> = firsts.iter().map(|&f| f as i64).collect();
        let inv: Vec<i64> = group.iter().map(|&g| g as i64).collect();
        Ok(vec![
            Some(Value::Tensor(y)),
            Some(Value::Tensor(ctx.tensor_from(&[u as i64], &idx)?)),
            Some(Value::Tensor(ctx.tensor_from(&[d as i64], &inv)?)),
            Some(Value::Tensor(ctx.tensor_from(&[u as i64], &counts)?)),
        ])
    }
}

crate::register!("Unique", [11, LATEST], ANY, |n| Ok(Box::new(Unique {
    axis: if n.has("axis") {
        Some(n.int("axis", 0)?)
    } else {
        None
    },
    sorted: n.int("sorted", 1)? != 0,
})));
