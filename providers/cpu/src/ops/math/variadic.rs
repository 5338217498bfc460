//! Max, Min, Mean and Sum: any number of inputs folded pairwise with
//! broadcasting.

use ort_core::{Error, Tensor, Value};

use crate::kernel::{one, Ctx, Kernel, Outputs};
use crate::ops::{FLOATS, LATEST, NUMERIC};
use crate::util::{binary, unary, Num};

/// The inputs of a variadic op (their common type is checked by `same: all`).
fn variadic<'v>(inputs: &[Option<&'v Value>]) -> Result<Vec<&'v Tensor>, Error> {
    let ts = inputs
        .iter()
        .flatten()
        .map(|v| v.tensor())
        .collect::<Result<Vec<_>, _>>()?;
    if ts.is_empty() {
        return Err(Error::invalid("at least one input is required"));
    }
    Ok(ts)
}

/// Folds a variadic op's inputs pairwise with broadcasting: `f(f(x0, x1), x2)...`.
fn fold<T: Num>(
    ctx: &Ctx<'_>,
    ts: &[&Tensor],
    f: impl Fn(T, T) -> T + Copy + Send + Sync,
) -> Result<Tensor, Error> {
    let mut acc = ts[0].clone();
    for t in &ts[1..] {
        acc = binary(ctx, &acc, t, f)?;
    }
    Ok(acc)
}

struct Max;

impl Kernel for Max {
    fn compute(&self, inputs: &[Option<&Value>], ctx: &Ctx<'_>) -> Outputs {
        let ts = variadic(inputs)?;
        // NaN wins, as in numpy.maximum.
        one(
            crate::dispatch_numeric!(ts[0].elem(), T => fold(ctx, &ts, |a: T, b: T| if a >= b || a.is_nan() { a } else { b }))?,
        )
    }
}

crate::register!("Max", [6, LATEST], NUMERIC, same: all, |_| Ok(Box::new(Max)));

struct Min;

impl Kernel for Min {
    fn compute(&self, inputs: &[Option<&Value>], ctx: &Ctx<'_>) -> Outputs {
        let ts = variadic(inputs)?;
        // NaN wins, as in numpy.minimum.
        one(
            crate::dispatch_numeric!(ts[0].elem(), T => fold(ctx, &ts, |a: T, b: T| if a <= b || a.is_nan() { a } else { b }))?,
        )
    }
}

crate::register!("Min", [6, LATEST], NUMERIC, same: all, |_| Ok(Box::new(Min)));

struct Mean;

impl Kernel for Mean {
    fn compute(&self, inputs: &[Option<&Value>], ctx: &Ctx<'_>) -> Outputs {
        let ts = variadic(inputs)?;
        let n = ts.len() as f64;
        one(crate::dispatch_float!(ts[0].elem(), T => {
            let sum = fold(ctx, &ts, |a: T, b: T| a.wadd(b))?;
            unary(ctx, &sum, |v: T| T::from_f64(v.to_f64() / n))
        })?)
    }
}

crate::register!("Mean", [6, LATEST], FLOATS, same: all, |_| Ok(Box::new(Mean)));

struct Sum;

impl Kernel for Sum {
    fn compute(&self, inputs: &[Option<&Value>], ctx: &Ctx<'_>) -> Outputs {
        let ts = variadic(inputs)?;
        one(crate::dispatch_numeric!(ts[0].elem(), T => fold(ctx, &ts, |a: T, b: T| a.wadd(b)))?)
    }
}

crate::register!("Sum", [6, LATEST], FLOATS, same: all, |_| Ok(Box::new(Sum)));
