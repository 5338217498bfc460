//! The kernel behind ReduceL1, ReduceLogSum and ReduceLogSumExp, built on this
//! family's shared grouping and folding helpers.

use ort_core::{Error, Value};

use super::{groups, run};
use crate::kernel::{input, one, Ctx, Kernel, NodeInfo, Outputs};
use crate::ops::{LATEST, NUMERIC};
use crate::util::{par_map, IntsArg, Num};

#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    L1,
    LogSum,
    LogSumExp,
}

pub(crate) struct LogAbsReduce {
    kind: Kind,
    axes: IntsArg,
    keepdims: bool,
    noop: bool,
}

impl LogAbsReduce {
    pub fn build(n: &NodeInfo<'_, '_>, kind: Kind) -> Result<Box<dyn Kernel>, Error> {
        Ok(Box::new(LogAbsReduce {
            kind,
            axes: IntsArg::new(n, "axes", 18, 1)?,
            keepdims: n.int("keepdims", 1)? != 0,
            noop: n.int("noop_with_empty_axes", 0)? != 0,
        }))
    }
}

/// Running `(max, sum of exp(x - max))`, merged without overflow.
type Lse = (f64, f64);

fn lse_step(a: Lse, v: f64) -> Lse {
    let (m, s) = a;
    if v == f64::NEG_INFINITY {
        a
    } else if v.is_nan() || m.is_nan() {
        (f64::NAN, f64::NAN)
    } else if v > m {
        (v, s * (m - v).exp() + 1.0)
    } else if v == m {
        (m, s + 1.0)
    } else {
        (m, s + (v - m).exp())
    }
}

fn lse_merge(a: Lse, b: Lse) -> Lse {
    if a.1 == 0.0 {
        b
    } else if b.1 == 0.0 {
        a
    } else if a.0.is_nan() || b.0.is_nan() {
        (f64::NAN, f64::NAN)
    } else if a.0 == b.0 {
        (a.0, a.1 + b.1)
    } else if a.0 > b.0 {
        (a.0, a.1 + b.1 * (b.0 - a.0).exp())
    } else {
        (b.0, b.1 + a.1 * (a.0 - b.0).exp())
    }
}

fn reduce<T: Num>(kind: Kind, x: &[T], g: &[(usize, bool)], out: &mut [T]) {
    let n_out = out.len();
    let fsum = |a: f64, b: f64| a + b;
    match kind {
        Kind::L1 if T::TYPE.is_float() => {
            let acc = run(x, g, n_out, 0.0, |a, v: T| a + v.to_f64().abs(), fsum);
            par_map(out, &acc, T::from_f64);
        }
        Kind::L1 => {
            let neg = T::from_f64(-1.0);
            let abs = move |v: T| if v < T::ZERO { v.wmul(neg) } else { v };
            let acc = run(
                x,
                g,
                n_out,
                T::ZERO,
                |a: T, v| a.wadd(abs(v)),
                |a, b| a.wadd(b),
            );
            out.copy_from_slice(&acc);
        }
        Kind::LogSum => {
            let acc = run(x, g, n_out, 0.0, |a, v: T| a + v.to_f64(), fsum);
            par_map(out, &acc, |s: f64| T::from_f64(s.ln()));
        }
        Kind::LogSumExp => {
            let init = (f64::NEG_INFINITY, 0.0);
            let acc = run(
                x,
                g,
                n_out,
                init,
                |a, v: T| lse_step(a, v.to_f64()),
                lse_merge,
            );
            par_map(out, &acc, |(m, s): Lse| T::from_f64(m + s.ln()));
        }
    }
}

impl Kernel for LogAbsReduce {
    fn compute(&self, inputs: &[Option<&Value>], ctx: &Ctx<'_>) -> Outputs {
        let x = input(inputs, 0)?;
        let r = x.rank();
        let axes = self.axes.get(inputs)?.unwrap_or_default();
        if axes.is_empty() && self.noop {
            return one(x.clone());
        }
        let reduced: Vec<bool> = if axes.is_empty() {
            vec![true; r]
        } else {
            let a = crate::ops::tensor::norm_axes(&axes, r)?;
            (0..r).map(|i| a.contains(&i)).collect()
        };
        let shape: Vec<i64> = x
            .shape()
            .iter()
            .zip(&reduced)
            .filter(|&(_, &red)| !red || self.keepdims)
            .map(|(&d, &red)| if red { 1 } else { d })
            .collect();
        let g = groups(x.shape(), &reduced);
        let kind = self.kind;
        one(crate::dispatch_numeric!(x.elem(), T => {
            let src = x.as_slice::<T>()?;
            ctx.tensor(&shape, |o: &mut [T]| reduce(kind, src, &g, o))
        })?)
    }
}

crate::register!("ReduceL1", [1, LATEST], NUMERIC, |n| LogAbsReduce::build(
    n,
    Kind::L1
));
crate::register!("ReduceLogSum", [1, LATEST], NUMERIC, |n| {
    LogAbsReduce::build(n, Kind::LogSum)
});
crate::register!("ReduceLogSumExp", [1, LATEST], NUMERIC, |n| {
    LogAbsReduce::build(n, Kind::LogSumExp)
});
