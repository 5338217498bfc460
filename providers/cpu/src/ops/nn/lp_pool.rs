//! LpPool (opsets 1 to 22, with opset 18's ceil_mode and dilations) and
//! GlobalLpPool: the p-norm of every window.

use ort_core::{Error, Value};

use super::global_average_pool::global_shape;
use super::pool::{stencil, Pool};
use super::window::Window;
use super::{data, output, sum_by, Flt};
use crate::kernel::{input, one, Ctx, Kernel, NodeInfo, Outputs};
use crate::ops::{FLOATS, LATEST};

/// `|v|^p`, with the common small integer powers exact.
#[inline(always)]
fn pow_abs<F: Flt>(v: F, p: f64) -> F {
    let a = v.abs();
    if p == 1.0 {
        a
    } else if p == 2.0 {
        a * a
    } else if p.fract() == 0.0 && p.abs() < 64.0 {
        a.powi(p as i32)
    } else {
        a.powf(F::of(p))
    }
}

#[inline(always)]
fn root<F: Flt>(s: F, p: f64) -> F {
    if p == 1.0 {
        s
    } else if p == 2.0 {
        s.sqrt()
    } else {
        s.powf(F::of(1.0 / p))
    }
}

/// The exponent: a float attribute in opset 1, an int afterwards.
fn exponent(info: &NodeInfo<'_, '_>) -> Result<f64, Error> {
    let p = if info.opset() < 2 {
        info.float("p", 2.0)? as f64
    } else {
        info.int("p", 2)? as f64
    };
    if p <= 0.0 || p.is_nan() {
        return Err(Error::invalid(format!(
            "LpPool: p must be positive, got {p}"
        )));
    }
    Ok(p)
}

struct LpPool {
    window: Window,
    p: f64,
}

fn build(info: &NodeInfo<'_, '_>) -> Result<Box<dyn Kernel>, Error> {
    Ok(Box::new(LpPool {
        window: Window::parse(info)?,
        p: exponent(info)?,
    }))
}

impl Kernel for LpPool {
    fn compute(&self, inputs: &[Option<&Value>], ctx: &Ctx<'_>) -> Outputs {
        let x = input(inputs, 0)?;
        let pool = Pool::new(&self.window, x)?;
        let p = self.p;
        one(with_float!(x.elem(), F => {
            let xd = data::<F>(x)?;
            let powered: Vec<F> = xd.iter().map(|&v| pow_abs(v, p)).collect();
            let in_sz = pool.in_size();
            let spans = pool.spans();
            output::<F>(ctx, x.elem(), &pool.out_shape, |o| {
                pool.each(o, None, ctx.threads, |pi, o, _| {
                    stencil(&pool, &powered[pi * in_sz..(pi + 1) * in_sz], o, F::zero(), &spans, |s, v| s + v);
                    o.iter_mut().for_each(|v| *v = root(*v, p));
                })
            })
        })?)
    }
}

struct GlobalLpPool {
    p: f64,
}

impl Kernel for GlobalLpPool {
    fn compute(&self, inputs: &[Option<&Value>], ctx: &Ctx<'_>) -> Outputs {
        let x = input(inputs, 0)?;
        let (shape, n) = global_shape(x.shape())?;
        let p = self.p;
        one(with_float!(x.elem(), F => {
            let xd = data::<F>(x)?;
            output::<F>(ctx, x.elem(), &shape, |o| {
                for (i, o) in o.iter_mut().enumerate() {
                    *o = root(sum_by(&xd[i * n..(i + 1) * n], |v| pow_abs(v, p)), p);
                }
            })
        })?)
    }
}

crate::register!("LpPool", [1, LATEST], FLOATS, build);
crate::register!("GlobalLpPool", [1, LATEST], FLOATS, |info| Ok(Box::new(
    GlobalLpPool { p: exponent(info)? }
)));
