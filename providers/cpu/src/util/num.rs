//! Element traits for generic kernels: [`Num`] for arithmetic, [`Movable`] for
//! ops that only move elements.

use ort_core::{Error, PodElement, Tensor};

use crate::kernel::Ctx;

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
