//! Strided matrix products through the `gemm` crate.

use ort_core::Error;

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
