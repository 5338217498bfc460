//! Elementwise loops: unary and broadcasting binary maps into fresh tensors, in
//! parallel chunks on the provider's pool when large.

use ort_core::{Element, Error, PodElement, Tensor};

use super::{broadcast_all, dims};
use crate::kernel::Ctx;
use crate::parallel::{for_each_chunk, pool_threads};

/// Writes `f(a, b)` elementwise with broadcasting into a fresh tensor.
pub fn binary<A: Element + Copy, B: Element + Copy, O: PodElement>(
    ctx: &Ctx<'_>,
    a: &Tensor,
    b: &Tensor,
    f: impl Fn(A, B) -> O + Sync + Send,
) -> Result<Tensor, Error> {
    let shape = broadcast_all(&[a.shape(), b.shape()])?;
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
            broadcast_zip(out, &dims(&shape), av, a.shape(), bv, b.shape(), &f);
        }
    })
}

/// Broadcasting `out = f(a, b)`: the shapes are reduced to rows of an innermost run
/// where each operand is either contiguous or one repeated element, so the inner
/// loop is a plain (vectorizable) slice loop; rows go in parallel when large.
pub(crate) fn broadcast_zip<A: Copy + Sync, B: Copy + Sync, O: Send>(
    out: &mut [O],
    shape: &[usize],
    a: &[A],
    a_shape: &[i64],
    b: &[B],
    b_shape: &[i64],
    f: &(impl Fn(A, B) -> O + Sync + Send),
) {
    let rank = shape.len();
    // Element strides per output axis, zero where the operand is broadcast.
    let strides = |s: &[i64]| -> Vec<usize> {
        let mut st = vec![0usize; rank];
        let mut acc = 1usize;
        for (i, &d) in s.iter().enumerate().rev() {
            let j = rank - s.len() + i;
            st[j] = if d == 1 { 0 } else { acc };
            acc *= d as usize;
        }
        st
    };
    let (sa, sb) = (strides(a_shape), strides(b_shape));
    // Merge axes from the inside while both operands keep the same kind of stride.
    let mut dims: Vec<(usize, usize, usize)> = Vec::new(); // (extent, stride a, stride b)
    for i in (0..rank).rev() {
        let (d, x, y) = (shape[i], sa[i], sb[i]);
        if d == 1 {
            continue;
        }
        if let Some(last) = dims.last_mut() {
            let fits = |s: usize, ls: usize| (s == 0 && ls == 0) || (ls != 0 && s == ls * last.0);
            if fits(x, last.1) && fits(y, last.2) {
                last.0 *= d;
                continue;
            }
        }
        dims.push((d, x, y));
    }
    let (n, ia, ib) = dims.first().copied().unwrap_or((1, 1, 1));
    let outer: Vec<(usize, usize, usize)> = dims.iter().skip(1).copied().collect();
    let row = |r: usize, o: &mut [O]| {
        let (mut rem, mut oa, mut ob) = (r, 0usize, 0usize);
        for &(d, x, y) in &outer {
            let k = rem % d;
            rem /= d;
            oa += k * x;
            ob += k * y;
        }
        match (ia != 0, ib != 0) {
            (true, true) => {
                let (a, b) = (&a[oa..oa + n], &b[ob..ob + n]);
                for i in 0..n {
                    o[i] = f(a[i], b[i]);
                }
            }
            (true, false) => {
                let (a, y) = (&a[oa..oa + n], b[ob]);
                for i in 0..n {
                    o[i] = f(a[i], y);
                }
            }
            (false, true) => {
                let (x, b) = (a[oa], &b[ob..ob + n]);
                for i in 0..n {
                    o[i] = f(x, b[i]);
                }
            }
            (false, false) => {
                let v = (a[oa], b[ob]);
                o.iter_mut().for_each(|o| *o = f(v.0, v.1));
            }
        }
    };
    if n == 0 {
        return;
    }
    let rows_per = (PAR_MIN / 4).div_ceil(n).max(1);
    for_each_chunk(large_threads(out.len()), out, rows_per * n, |c, chunk| {
        for (k, o) in chunk.chunks_mut(n).enumerate() {
            row(c * rows_per + k, o);
        }
    });
}

const PAR_MIN: usize = 1 << 15;

/// Element count from which helpers split work across the intra-op pool.
pub const PAR_MIN_LEN: usize = PAR_MIN;

/// Whether the parallel loops of `crate::parallel` have threads to spread
/// over: in a run with helpers, or on the provider's pool. Elsewhere (a kernel
/// called inline, off both) a parallel iterator would go to rayon's global
/// pool: other threads than the session asked for, and a wake-up per call.
pub fn in_pool() -> bool {
    crate::parallel::in_run() || rayon::current_thread_index().is_some()
}

/// The pool's threads for a loop over `len` elements (1 below `PAR_MIN`).
fn large_threads(len: usize) -> usize {
    if len >= PAR_MIN {
        pool_threads()
    } else {
        1
    }
}

/// `out[i] = f(a[i])`, in parallel chunks on the current pool when large.
pub fn par_map<A: Copy + Sync, O: Send>(out: &mut [O], a: &[A], f: impl Fn(A) -> O + Sync + Send) {
    let c = PAR_MIN / 4;
    for_each_chunk(large_threads(out.len()), out, c, |i, o| {
        o.iter_mut().zip(&a[i * c..]).for_each(|(o, &x)| *o = f(x))
    });
}

/// `out[i] = f(a[i], b[i])`, in parallel chunks when large.
pub fn par_zip2<A: Copy + Sync, B: Copy + Sync, O: Send>(
    out: &mut [O],
    a: &[A],
    b: &[B],
    f: impl Fn(A, B) -> O + Sync + Send,
) {
    let c = PAR_MIN / 4;
    for_each_chunk(large_threads(out.len()), out, c, |k, o| {
        let (a, b) = (&a[k * c..], &b[k * c..]);
        for i in 0..o.len() {
            o[i] = f(a[i], b[i]);
        }
    });
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
