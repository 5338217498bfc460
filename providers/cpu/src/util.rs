//! Shared helpers for kernels: ndarray views, broadcasting, axis handling.

use ndarray::{ArrayViewD, IxDyn};
use ort_core::{Element, Error, PodElement, Tensor};

use crate::kernel::Ctx;

/// An ndarray view of a host tensor.
pub fn view<T: Element>(t: &Tensor) -> Result<ArrayViewD<'_, T>, Error> {
    let data = t.as_slice::<T>()?;
    ArrayViewD::from_shape(IxDyn(&dims(t.shape())), data).map_err(|e| Error::invalid(e.to_string()))
}

/// A shape as usizes.
pub fn dims(shape: &[i64]) -> Vec<usize> {
    shape.iter().map(|&d| d as usize).collect()
}

/// A shape as i64s.
pub fn shape_i64(dims: &[usize]) -> Vec<i64> {
    dims.iter().map(|&d| d as i64).collect()
}

/// Numpy-style broadcast of several shapes.
pub fn broadcast_shapes(shapes: &[&[i64]]) -> Result<Vec<i64>, Error> {
    let rank = shapes.iter().map(|s| s.len()).max().unwrap_or(0);
    let mut out = vec![1i64; rank];
    for s in shapes {
        let off = rank - s.len();
        for (i, &d) in s.iter().enumerate() {
            let o = &mut out[off + i];
            if *o == 1 {
                *o = d;
            } else if d != 1 && d != *o {
                return Err(Error::invalid(format!(
                    "shapes {:?} cannot be broadcast together",
                    shapes
                )));
            }
        }
    }
    Ok(out)
}

/// Resolves a possibly negative axis against `rank`.
pub fn axis(a: i64, rank: usize) -> Result<usize, Error> {
    let r = rank as i64;
    let v = if a < 0 { a + r } else { a };
    if v < 0 || v >= r.max(1) {
        return Err(Error::invalid(format!("axis {a} is out of range for rank {rank}")));
    }
    Ok(v as usize)
}

/// Writes `f(a, b)` elementwise with broadcasting into a fresh tensor.
pub fn binary<A: Element + Copy, B: Element + Copy, O: PodElement>(
    ctx: &Ctx<'_>,
    a: &Tensor,
    b: &Tensor,
    f: impl Fn(A, B) -> O + Sync + Send,
) -> Result<Tensor, Error> {
    let shape = broadcast_shapes(&[a.shape(), b.shape()])?;
    let (av, bv) = (a.as_slice::<A>()?, b.as_slice::<B>()?);
    ctx.tensor(&shape, |out: &mut [O]| {
        if a.shape() == b.shape() {
            par_zip2(out, av, bv, &f);
        } else if bv.len() == 1 {
            let s = bv[0];
            par_map(out, av, |x| f(x, s));
        } else if av.len() == 1 {
            let s = av[0];
            par_map(out, bv, |y| f(s, y));
        } else {
            let d = dims(&shape);
            let a_b = view::<A>(a).unwrap();
            let b_b = view::<B>(b).unwrap();
            let a_b = a_b.broadcast(IxDyn(&d)).unwrap();
            let b_b = b_b.broadcast(IxDyn(&d)).unwrap();
            let mut o = ndarray::ArrayViewMutD::from_shape(IxDyn(&d), out).unwrap();
            ndarray::Zip::from(&mut o)
                .and(&a_b)
                .and(&b_b)
                .for_each(|o, &x, &y| *o = f(x, y));
        }
    })
}

const PAR_MIN: usize = 1 << 15;

/// `out[i] = f(a[i])`, in parallel chunks on the current pool when large.
pub fn par_map<A: Copy + Sync, O: Send>(out: &mut [O], a: &[A], f: impl Fn(A) -> O + Sync + Send) {
    use rayon::prelude::*;
    if out.len() >= PAR_MIN {
        out.par_chunks_mut(PAR_MIN / 4)
            .zip(a.par_chunks(PAR_MIN / 4))
            .for_each(|(o, a)| o.iter_mut().zip(a).for_each(|(o, &x)| *o = f(x)));
    } else {
        out.iter_mut().zip(a).for_each(|(o, &x)| *o = f(x));
    }
}

/// `out[i] = f(a[i], b[i])`, in parallel chunks when large.
pub fn par_zip2<A: Copy + Sync, B: Copy + Sync, O: Send>(
    out: &mut [O],
    a: &[A],
    b: &[B],
    f: impl Fn(A, B) -> O + Sync + Send,
) {
    use rayon::prelude::*;
    if out.len() >= PAR_MIN {
        let c = PAR_MIN / 4;
        out.par_chunks_mut(c)
            .zip(a.par_chunks(c).zip(b.par_chunks(c)))
            .for_each(|(o, (a, b))| {
                for i in 0..o.len() {
                    o[i] = f(a[i], b[i]);
                }
            });
    } else {
        for i in 0..out.len() {
            out[i] = f(a[i], b[i]);
        }
    }
}

/// Applies `f` elementwise into a fresh tensor of the same shape.
pub fn unary<A: Element + Copy, O: PodElement>(
    ctx: &Ctx<'_>,
    a: &Tensor,
    f: impl Fn(A) -> O + Sync + Send,
) -> Result<Tensor, Error> {
    let av = a.as_slice::<A>()?;
    ctx.tensor(a.shape(), |out: &mut [O]| par_map(out, av, f))
}

/// Dispatches a generic expression over the float element types f32, f64, f16, bf16.
#[macro_export]
macro_rules! dispatch_float {
    ($elem:expr, $T:ident => $body:expr) => {{
        use ort_core::ElemType as __E;
        match $elem {
            __E::F32 => { type $T = f32; $body }
            __E::F64 => { type $T = f64; $body }
            __E::F16 => { type $T = half::f16; $body }
            __E::BF16 => { type $T = half::bf16; $body }
            e => Err(ort_core::Error::not_implemented(format!("element type {e} is not supported here"))),
        }
    }};
}

/// Dispatches over the numeric element types (floats and integers).
#[macro_export]
macro_rules! dispatch_numeric {
    ($elem:expr, $T:ident => $body:expr) => {{
        use ort_core::ElemType as __E;
        match $elem {
            __E::F32 => { type $T = f32; $body }
            __E::F64 => { type $T = f64; $body }
            __E::F16 => { type $T = half::f16; $body }
            __E::BF16 => { type $T = half::bf16; $body }
            e => $crate::dispatch_int!(e, $T => $body),
        }
    }};
}

/// Dispatches over the integer element types.
#[macro_export]
macro_rules! dispatch_int {
    ($elem:expr, $T:ident => $body:expr) => {{
        use ort_core::ElemType as __E;
        match $elem {
            __E::I8 => { type $T = i8; $body }
            __E::I16 => { type $T = i16; $body }
            __E::I32 => { type $T = i32; $body }
            __E::I64 => { type $T = i64; $body }
            __E::U8 => { type $T = u8; $body }
            __E::U16 => { type $T = u16; $body }
            __E::U32 => { type $T = u32; $body }
            __E::U64 => { type $T = u64; $body }
            e => Err(ort_core::Error::not_implemented(format!("element type {e} is not supported here"))),
        }
    }};
}

/// Dispatches over every plain-data element type (numeric and bool).
#[macro_export]
macro_rules! dispatch_pod {
    ($elem:expr, $T:ident => $body:expr) => {{
        use ort_core::ElemType as __E;
        match $elem {
            __E::Bool => { type $T = bool; $body }
            e => $crate::dispatch_numeric!(e, $T => $body),
        }
    }};
}
