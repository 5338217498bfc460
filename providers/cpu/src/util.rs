//! Shared helpers for kernels: ndarray views, broadcasting, axis handling.

use ndarray::{ArrayViewD, IxDyn};
use ort_core::{Element, Error, PodElement, Tensor};

use crate::kernel::Ctx;
use crate::parallel::{for_each_chunk, pool_threads};

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

// The one broadcasting rule, shared with every provider.
pub use ort_core::kit::broadcast_all;

/// Resolves a possibly negative axis against `rank`.
pub fn axis(a: i64, rank: usize) -> Result<usize, Error> {
    let r = rank as i64;
    let v = if a < 0 { a + r } else { a };
    if v < 0 || v >= r.max(1) {
        return Err(Error::invalid(format!(
            "axis {a} is out of range for rank {rank}"
        )));
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

/// Dispatches a generic expression over the float element types f32, f64, f16, bf16.
#[macro_export]
macro_rules! dispatch_float {
    ($elem:expr, $T:ident => $body:expr) => {{
        use ort_core::ElemType as __E;
        match $elem {
            __E::F32 => {
                type $T = f32;
                $body
            }
            __E::F64 => {
                type $T = f64;
                $body
            }
            __E::F16 => {
                type $T = half::f16;
                $body
            }
            __E::BF16 => {
                type $T = half::bf16;
                $body
            }
            e => Err(ort_core::Error::not_implemented(format!(
                "element type {e} is not supported here"
            ))),
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
            __E::I8 => {
                type $T = i8;
                $body
            }
            __E::I16 => {
                type $T = i16;
                $body
            }
            __E::I32 => {
                type $T = i32;
                $body
            }
            __E::I64 => {
                type $T = i64;
                $body
            }
            __E::U8 => {
                type $T = u8;
                $body
            }
            __E::U16 => {
                type $T = u16;
                $body
            }
            __E::U32 => {
                type $T = u32;
                $body
            }
            __E::U64 => {
                type $T = u64;
                $body
            }
            e => Err(ort_core::Error::not_implemented(format!(
                "element type {e} is not supported here"
            ))),
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

/// Element types the `gemm` crate multiplies (it panics on any other).
pub trait GemmScalar: Copy + Send + Sync + 'static + num_traits::Zero + num_traits::One {}
impl GemmScalar for f32 {}
impl GemmScalar for f64 {}

/// A read-only matrix operand: `rows × cols` elements at `data[r * rs + c * cs]`, so
/// transposed or strided views need no copy.
#[derive(Clone, Copy)]
pub struct MatRef<'a, T> {
    pub data: &'a [T],
    pub rows: usize,
    pub cols: usize,
    pub rs: usize,
    pub cs: usize,
}

impl<'a, T> MatRef<'a, T> {
    /// A dense row-major matrix.
    pub fn rows(data: &'a [T], rows: usize, cols: usize) -> Self {
        MatRef {
            data,
            rows,
            cols,
            rs: cols,
            cs: 1,
        }
    }
    /// The transpose of a dense row-major `cols × rows` matrix.
    pub fn transposed(data: &'a [T], rows: usize, cols: usize) -> Self {
        MatRef {
            data,
            rows,
            cols,
            rs: 1,
            cs: rows,
        }
    }
    fn fits(&self) -> bool {
        self.rows == 0
            || self.cols == 0
            || (self.rows - 1) * self.rs + (self.cols - 1) * self.cs < self.data.len()
    }
}

/// `c = a × b` (or `c += a × b` when `accumulate`), `c` dense with row stride `ldc`.
/// Large products run on `threads` rayon workers; small ones stay on this thread,
/// where splitting costs more than it saves.
pub fn gemm_strided<T: GemmScalar>(
    a: MatRef<'_, T>,
    b: MatRef<'_, T>,
    c: &mut [T],
    ldc: usize,
    accumulate: bool,
    threads: usize,
) -> Result<(), Error> {
    let (m, k, n) = (a.rows, a.cols, b.cols);
    if b.rows != k || !a.fits() || !b.fits() || (m > 0 && n > 0 && (m - 1) * ldc + n > c.len()) {
        return Err(Error::invalid(format!(
            "matrix product {m}x{k} by {}x{n} does not fit its buffers",
            b.rows
        )));
    }
    if m == 0 || n == 0 {
        return Ok(());
    }
    if k == 0 {
        if !accumulate {
            (0..m).for_each(|i| c[i * ldc..i * ldc + n].fill(T::zero()));
        }
        return Ok(());
    }
    let par = if m * n * k >= 1 << 18 && threads > 1 {
        gemm::Parallelism::Rayon(threads)
    } else {
        gemm::Parallelism::None
    };
    // SAFETY: every operand's extent was checked against its slice above, `c` is
    // borrowed mutably and cannot alias `a` or `b`, and T is a type gemm supports.
    unsafe {
        gemm::gemm(
            m,
            n,
            k,
            c.as_mut_ptr(),
            1,
            ldc as isize,
            accumulate,
            a.data.as_ptr(),
            a.cs as isize,
            a.rs as isize,
            b.data.as_ptr(),
            b.cs as isize,
            b.rs as isize,
            T::one(),
            T::one(),
            false,
            false,
            false,
            par,
        );
    }
    Ok(())
}

/// Numeric element types with the few operations generic kernels need. Integer
/// arithmetic wraps, as in ONNX Runtime; f16/bf16 compute through f32.
pub trait Num: PodElement + PartialOrd {
    const ZERO: Self;
    const ONE: Self;
    /// The identity of max: -inf for floats, the minimum for integers.
    const LOWEST: Self;
    /// The identity of min: +inf for floats, the maximum for integers.
    const HIGHEST: Self;
    fn to_f64(self) -> f64;
    /// `as` semantics: integers truncate toward zero and saturate.
    fn from_f64(v: f64) -> Self;
    fn wadd(self, o: Self) -> Self;
    fn wmul(self, o: Self) -> Self;
    fn is_nan(self) -> bool;
}

macro_rules! num_int {
    ($($t:ty),*) => {$(
        impl Num for $t {
            const ZERO: Self = 0;
            const ONE: Self = 1;
            const LOWEST: Self = <$t>::MIN;
            const HIGHEST: Self = <$t>::MAX;
            fn to_f64(self) -> f64 { self as f64 }
            fn from_f64(v: f64) -> Self { v as $t }
            fn wadd(self, o: Self) -> Self { self.wrapping_add(o) }
            fn wmul(self, o: Self) -> Self { self.wrapping_mul(o) }
            fn is_nan(self) -> bool { false }
        }
    )*};
}
num_int!(i8, i16, i32, i64, u8, u16, u32, u64);

macro_rules! num_float {
    ($($t:ty),*) => {$(
        impl Num for $t {
            const ZERO: Self = 0.0;
            const ONE: Self = 1.0;
            const LOWEST: Self = <$t>::NEG_INFINITY;
            const HIGHEST: Self = <$t>::INFINITY;
            fn to_f64(self) -> f64 { self as f64 }
            fn from_f64(v: f64) -> Self { v as $t }
            fn wadd(self, o: Self) -> Self { self + o }
            fn wmul(self, o: Self) -> Self { self * o }
            fn is_nan(self) -> bool { <$t>::is_nan(self) }
        }
    )*};
}
num_float!(f32, f64);

macro_rules! num_half {
    ($($t:ty),*) => {$(
        impl Num for $t {
            const ZERO: Self = <$t>::ZERO;
            const ONE: Self = <$t>::ONE;
            const LOWEST: Self = <$t>::NEG_INFINITY;
            const HIGHEST: Self = <$t>::INFINITY;
            fn to_f64(self) -> f64 { <$t>::to_f64(self) }
            fn from_f64(v: f64) -> Self { <$t>::from_f64(v) }
            fn wadd(self, o: Self) -> Self { <$t>::from_f32(self.to_f32() + o.to_f32()) }
            fn wmul(self, o: Self) -> Self { <$t>::from_f32(self.to_f32() * o.to_f32()) }
            fn is_nan(self) -> bool { <$t>::is_nan(self) }
        }
    )*};
}
num_half!(half::f16, half::bf16);

/// Element storage for ops that only move elements. Plain data moves as unsigned
/// words of the element's byte size, so every such type (float8 and int4 included)
/// shares one implementation; strings move as `RString`s.
pub trait Movable: Clone + Default + Send + Sync + 'static {
    /// The elements of `t` (copied only when the data is misaligned for `Self`).
    fn elems_of(t: &Tensor) -> Result<std::borrow::Cow<'_, [Self]>, Error>;
    /// A fresh tensor of element type `elem` whose elements `fill` writes.
    fn new_tensor(
        ctx: &Ctx<'_>,
        elem: ort_core::ElemType,
        shape: &[i64],
        fill: impl FnOnce(&mut [Self]),
    ) -> Result<Tensor, Error>;
}

macro_rules! movable_word {
    ($($t:ty),*) => {$(
        impl Movable for $t {
            fn elems_of(t: &Tensor) -> Result<std::borrow::Cow<'_, [Self]>, Error> {
                let size = std::mem::size_of::<$t>();
                if t.elem() == ort_core::ElemType::String || t.elem().size() != size {
                    return Err(Error::invalid(format!("{} elements are not {size}-byte words", t.elem())));
                }
                let bytes = t.bytes().ok_or_else(|| Error::invalid("tensor lives in device memory"))?;
                let n = t.len();
                if (bytes.as_ptr() as usize) % std::mem::align_of::<$t>() == 0 {
                    // SAFETY: aligned, n * size bytes long, and any bit pattern is a valid word.
                    Ok(std::borrow::Cow::Borrowed(unsafe { std::slice::from_raw_parts(bytes.as_ptr() as *const $t, n) }))
                } else {
                    Ok(std::borrow::Cow::Owned(
                        bytes.chunks_exact(size).map(|c| {
                            // SAFETY: each chunk holds exactly one word's bytes.
                            unsafe { std::ptr::read_unaligned(c.as_ptr() as *const $t) }
                        }).collect(),
                    ))
                }
            }
            fn new_tensor(ctx: &Ctx<'_>, elem: ort_core::ElemType, shape: &[i64], fill: impl FnOnce(&mut [Self])) -> Result<Tensor, Error> {
                let size = std::mem::size_of::<$t>();
                if elem == ort_core::ElemType::String || elem.size() != size {
                    return Err(Error::invalid(format!("{elem} elements are not {size}-byte words")));
                }
                let n = shape.iter().product::<i64>().max(0) as usize;
                let mut buf = ctx.host.alloc(n * size)?;
                let bytes = buf.bytes_mut().ok_or_else(|| Error::invalid("cannot fill a device buffer on the host"))?;
                if n == 0 {
                    // Empty buffers may have any (even unaligned) address.
                    fill(&mut []);
                } else if (bytes.as_ptr() as usize) % std::mem::align_of::<$t>() != 0 {
                    return Err(Error::invalid("arena memory is not aligned for its element type"));
                } else {
                    // SAFETY: aligned and long enough (checked above); any bytes are valid words.
                    fill(unsafe { std::slice::from_raw_parts_mut(bytes.as_mut_ptr() as *mut $t, n) });
                }
                Tensor::from_buffer(elem, shape, buf.into_inner(), 0)
            }
        }
    )*};
}
movable_word!(u8, u16, u32, u64, [u64; 2]);

impl Movable for ort_core::abi::RString {
    fn elems_of(t: &Tensor) -> Result<std::borrow::Cow<'_, [Self]>, Error> {
        t.as_slice::<Self>().map(std::borrow::Cow::Borrowed)
    }
    fn new_tensor(
        _: &Ctx<'_>,
        elem: ort_core::ElemType,
        shape: &[i64],
        fill: impl FnOnce(&mut [Self]),
    ) -> Result<Tensor, Error> {
        if elem != ort_core::ElemType::String {
            return Err(Error::invalid(format!(
                "expected a string tensor, got {elem}"
            )));
        }
        let n = shape.iter().product::<i64>().max(0) as usize;
        let mut v = vec![Self::default(); n];
        fill(&mut v);
        Tensor::from_vec(shape, v)
    }
}

/// Dispatches a data-movement body over a [`Movable`] stand-in for any element type.
#[macro_export]
macro_rules! dispatch_move {
    ($elem:expr, $T:ident => $body:expr) => {{
        let __e: ort_core::ElemType = $elem;
        match __e {
            ort_core::ElemType::String => {
                type $T = ort_core::abi::RString;
                $body
            }
            e => match e.size() {
                1 => {
                    type $T = u8;
                    $body
                }
                2 => {
                    type $T = u16;
                    $body
                }
                4 => {
                    type $T = u32;
                    $body
                }
                8 => {
                    type $T = u64;
                    $body
                }
                16 => {
                    type $T = [u64; 2];
                    $body
                }
                _ => Err(ort_core::Error::not_implemented(format!(
                    "element type {e} is not supported here"
                ))),
            },
        }
    }};
}

/// Row-major strides of `shape`, in elements.
pub fn strides_of(shape: &[usize]) -> Vec<isize> {
    let mut s = vec![1isize; shape.len()];
    for i in (0..shape.len().saturating_sub(1)).rev() {
        s[i] = s[i + 1] * shape[i + 1] as isize;
    }
    s
}

/// Drops unit dimensions and merges neighbours that are contiguous in the source, so
/// strided loops run over as few, as long rows as possible.
pub fn simplify_strided(shape: &[usize], strides: &[isize]) -> (Vec<usize>, Vec<isize>) {
    let (mut sh, mut st): (Vec<usize>, Vec<isize>) = (Vec::new(), Vec::new());
    for (&d, &s) in shape.iter().zip(strides) {
        if d == 1 {
            continue;
        }
        match (sh.last_mut(), st.last_mut()) {
            (Some(pd), Some(ps)) if *ps == s * d as isize => {
                *pd *= d;
                *ps = s;
            }
            _ => {
                sh.push(d);
                st.push(s);
            }
        }
    }
    (sh, st)
}

/// Fills `out` (row-major over `shape`) with `src[base + Σ idx[i] * strides[i]]`.
/// Strides may be 0 (broadcast) or negative (reversed); large outputs are filled in
/// parallel by rows. The caller guarantees every index is in bounds.
pub fn strided_copy<T: Clone + Send + Sync>(
    src: &[T],
    base: isize,
    shape: &[usize],
    strides: &[isize],
    out: &mut [T],
) {
    if out.is_empty() {
        return;
    }
    let (sh, st) = simplify_strided(shape, strides);
    let Some((&n, outer)) = sh.split_last() else {
        out[0] = src[base as usize].clone();
        return;
    };
    let s = *st.last().unwrap();
    let outer_st = &st[..st.len() - 1];
    let rows = |first_row: usize, chunk: &mut [T]| {
        // Odometer over the outer dimensions, starting at `first_row`.
        let mut idx = vec![0usize; outer.len()];
        let mut r = first_row;
        for i in (0..outer.len()).rev() {
            idx[i] = r % outer[i];
            r /= outer[i];
        }
        let mut off = base
            + idx
                .iter()
                .zip(outer_st)
                .map(|(&i, &s)| i as isize * s)
                .sum::<isize>();
        for row in chunk.chunks_mut(n) {
            let o = off as usize;
            match s {
                1 => row.clone_from_slice(&src[o..o + n]),
                0 => row.fill(src[o].clone()),
                _ => row
                    .iter_mut()
                    .enumerate()
                    .for_each(|(j, v)| *v = src[(off + j as isize * s) as usize].clone()),
            }
            for i in (0..outer.len()).rev() {
                idx[i] += 1;
                off += outer_st[i];
                if idx[i] < outer[i] {
                    break;
                }
                off -= outer_st[i] * outer[i] as isize;
                idx[i] = 0;
            }
        }
    };
    let total_rows = out.len() / n;
    if out.len() >= PAR_MIN && total_rows > 1 && in_pool() {
        let per = (PAR_MIN / 4 / n).max(1);
        for_each_chunk(pool_threads(), out, per * n, |c, chunk| {
            rows(c * per, chunk)
        });
    } else {
        rows(0, out);
    }
}

/// A tensor viewing `t`'s elements from `start` on under `shape` (no copy).
pub fn view_at(t: &Tensor, start: usize, shape: &[i64]) -> Result<Tensor, Error> {
    Tensor::from_buffer(
        t.elem(),
        shape,
        t.buffer().clone(),
        t.offset() + start * t.elem().size(),
    )
}

/// Element count from which helpers split work across the intra-op pool.
pub const PAR_MIN_LEN: usize = PAR_MIN;

/// An optional integer input (shapes, axes, ...) as i64s.
pub fn ints_input(
    inputs: &[Option<&ort_core::Value>],
    i: usize,
) -> Result<Option<Vec<i64>>, Error> {
    crate::kernel::opt_input(inputs, i)?
        .map(|t| t.to_i64_vec())
        .transpose()
}

/// Integers that moved from an attribute to input `i` at opset `since` (axes, split).
pub enum IntsArg {
    Attr(Option<Vec<i64>>),
    Input(usize),
}

impl IntsArg {
    pub fn new(
        n: &crate::kernel::NodeInfo<'_, '_>,
        attr: &str,
        since: i64,
        i: usize,
    ) -> Result<IntsArg, Error> {
        Ok(if n.opset() < since {
            IntsArg::Attr(n.ints(attr)?)
        } else {
            IntsArg::Input(i)
        })
    }
    pub fn get(&self, inputs: &[Option<&ort_core::Value>]) -> Result<Option<Vec<i64>>, Error> {
        match self {
            IntsArg::Attr(v) => Ok(v.clone()),
            IntsArg::Input(i) => ints_input(inputs, *i),
        }
    }
}
