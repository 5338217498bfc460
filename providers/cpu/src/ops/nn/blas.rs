//! Matrix products over strided operands: the `gemm` crate for floats, a plain
//! loop for integers.

use ::gemm::Parallelism;
use num_traits::{WrappingAdd, WrappingMul, Zero};

use super::sgemm::{ASrc, BSrc, PackedA, PackedB, Strided, Then};
use super::{as_f32, as_f32_mut, Flt};

/// Float32 products of at least this many multiply-adds take the AVX-512
/// kernel where the CPU has it: below, packing costs more than it saves.
const SGEMM_WORK: usize = 1 << 15;

/// Columns per part at least, when a vector-matrix product is split.
const GEMV_COLUMNS: usize = 64;

/// Products with fewer columns than this do not take the AVX-512 kernel's
/// packed entry points: its tiles are 32 columns wide.
pub(crate) const THIN: usize = 16;

/// A read-only matrix operand: element (i, j) is `data[i * rs + j * cs]`.
#[derive(Clone, Copy)]
pub(crate) struct Mat<'a, T> {
    pub data: &'a [T],
    pub rs: usize,
    pub cs: usize,
}

impl<'a, T> Mat<'a, T> {
    /// A row-major matrix with `cols` columns.
    pub fn rows(data: &'a [T], cols: usize) -> Self {
        Mat {
            data,
            rs: cols,
            cs: 1,
        }
    }
    /// The transpose (no copy).
    pub fn t(self) -> Self {
        Mat {
            data: self.data,
            rs: self.cs,
            cs: self.rs,
        }
    }
    fn fits(&self, rows: usize, cols: usize) -> bool {
        rows == 0 || cols == 0 || (rows - 1) * self.rs + (cols - 1) * self.cs < self.data.len()
    }
}

/// `c[m×n] = alpha·a[m×k]·b[k×n] (+ c when acc)`, `c` row-major with row stride `ldc`.
/// `threads > 1` lets the product split across the current rayon pool when large.
#[allow(clippy::too_many_arguments)]
pub(crate) fn gemm<F: Flt>(
    (m, n, k): (usize, usize, usize),
    a: Mat<'_, F>,
    b: Mat<'_, F>,
    c: &mut [F],
    ldc: usize,
    alpha: F,
    acc: bool,
    threads: usize,
) {
    if m == 0 || n == 0 {
        return;
    }
    // The raw call below trusts these bounds.
    assert!(a.fits(m, k) && b.fits(k, n) && (m - 1) * ldc + n <= c.len() && ldc >= n);
    if k == 0 {
        if !acc {
            c.chunks_mut(ldc)
                .take(m)
                .for_each(|r| r[..n].fill(F::zero()));
        }
        return;
    }
    let parallel = threads > 1 && m * n * k >= super::PAR_WORK * 4;
    if parallel && m == 1 && n >= 2 * GEMV_COLUMNS {
        // A vector times a matrix (a batch-1 classifier) reads all of B once:
        // column ranges side by side, each on one thread, share that
        // bandwidth-bound pass; the crate keeps such a product on one thread.
        let parts = (2 * threads).min(n / GEMV_COLUMNS);
        let c = crate::parallel::Disjoint::new(&mut c[..n]);
        crate::parallel::for_each(threads, parts, |i| {
            let (j0, j1) = (i * n / parts, (i + 1) * n / parts);
            let bj = Mat {
                data: &b.data[j0 * b.cs..],
                ..b
            };
            // SAFETY: the parts' column ranges of C's one row are disjoint.
            let cj = unsafe { c.part(j0..j1) };
            gemm((1, j1 - j0, k), a, bj, cj, j1 - j0, alpha, acc, 1);
        });
        return;
    }
    // Single-threaded products with room for whole tiles; the crate keeps the
    // threaded ones (it splits both dimensions) and thin ones (packing a
    // panel for a row or a few columns costs more than it saves).
    if std::any::TypeId::of::<F>() == std::any::TypeId::of::<f32>()
        && !parallel
        && m * n * k >= SGEMM_WORK
        && m >= 24
        && n >= 64
        && super::sgemm::available()
    {
        let alpha = alpha.f64() as f32;
        super::sgemm::sgemm(
            (m, n, k),
            ASrc::Strided(strided_f32(a)),
            BSrc::Strided(strided_f32(b)),
            f32_mut(c),
            ldc,
            alpha,
            acc,
            1,
        );
        return;
    }
    let par = if parallel {
        Parallelism::Rayon(threads)
    } else {
        Parallelism::None
    };
    // SAFETY: bounds checked above; F is f32 or f64, both supported by gemm; c is
    // exclusively borrowed and does not overlap a or b.
    unsafe {
        ::gemm::gemm(
            m,
            n,
            k,
            c.as_mut_ptr(),
            1,
            ldc as isize,
            acc,
            a.data.as_ptr(),
            a.cs as isize,
            a.rs as isize,
            b.data.as_ptr(),
            b.cs as isize,
            b.rs as isize,
            F::one(),
            alpha,
            false,
            false,
            false,
            par,
        )
    }
}

/// Packs a constant float32 B (k×n, transposed when `trans`) for [`gemm_prepacked`],
/// where this CPU runs the AVX-512 kernel.
pub(crate) fn prepack_b(b: &ort_core::Tensor, trans: bool) -> Option<PackedB> {
    let &[r, c] = b.shape() else { return None };
    let data = b.as_slice::<f32>().ok()?;
    if !super::sgemm::available() || data.is_empty() {
        return None;
    }
    let (r, c) = (r as usize, c as usize);
    let (k, n, rs, cs) = if trans { (c, r, 1, c) } else { (r, c, c, 1) };
    Some(PackedB::new(Strided { data, rs, cs }, k, n))
}

/// Whether [`gemm_prepacked`] takes an m-row product with `b` of (k, n): it
/// declines products too thin to fill the kernel's row tiles.
pub(crate) fn takes_prepacked_b(m: usize, b: &PackedB, (k, n): (usize, usize)) -> bool {
    m >= 8 && b.dims() == (k, n) && k > 0 && n > 0
}

/// Packs a float32 B (k×n) at run time for [`gemm_prepacked`], for an operand that
/// several products share (attention's keys and values). None where F is not
/// f32 or this CPU does not run the AVX-512 kernel.
pub(crate) fn pack_b<F: Flt>(b: Mat<'_, F>, k: usize, n: usize) -> Option<PackedB> {
    if !runs_f32_kernel::<F>() || k == 0 || n == 0 {
        return None;
    }
    assert!(b.fits(k, n));
    Some(PackedB::new(strided_f32(b), k, n))
}

/// `c[m×n] = alpha·a·b (+ c when acc)` with b packed by [`prepack_b`] or
/// [`pack_b`]. Returns false, doing nothing, when F is not f32 or the product is
/// not one [`takes_prepacked_b`] takes.
#[allow(clippy::too_many_arguments)]
pub(crate) fn gemm_prepacked<F: Flt>(
    dims: (usize, usize, usize),
    a: Mat<'_, F>,
    b: &PackedB,
    c: &mut [F],
    ldc: usize,
    alpha: F,
    acc: bool,
    threads: usize,
) -> bool {
    gemm_prepacked_then(dims, a, b, c, ldc, alpha, acc, threads, None)
}

/// [`gemm_prepacked`] with an epilogue (see [`Then`]).
#[allow(clippy::too_many_arguments)]
pub(crate) fn gemm_prepacked_then<F: Flt>(
    (m, n, k): (usize, usize, usize),
    a: Mat<'_, F>,
    b: &PackedB,
    c: &mut [F],
    ldc: usize,
    alpha: F,
    acc: bool,
    threads: usize,
    then: Option<Then<'_>>,
) -> bool {
    if std::any::TypeId::of::<F>() != std::any::TypeId::of::<f32>()
        || !takes_prepacked_b(m, b, (k, n))
    {
        return false;
    }
    assert!(a.fits(m, k) && (m - 1) * ldc + n <= c.len() && ldc >= n);
    let threads = kernel_threads((m, n, k), threads);
    super::sgemm::sgemm_then(
        (m, n, k),
        ASrc::Strided(strided_f32(a)),
        BSrc::Packed(b),
        f32_mut(c),
        ldc,
        alpha.f64() as f32,
        acc,
        threads,
        then,
    );
    true
}

/// Packs a constant float32 A (m×k, rows `k` apart) for [`gemm_prepacked_a`], where
/// this CPU runs the AVX-512 kernel.
pub(crate) fn prepack_a(a: &[f32], m: usize, k: usize) -> Option<PackedA> {
    if !super::sgemm::available() || m == 0 || k == 0 || a.len() < m * k {
        return None;
    }
    Some(PackedA::new(
        Strided {
            data: a,
            rs: k,
            cs: 1,
        },
        m,
        k,
    ))
}

/// `c[m×n] = a·b (+ c when acc)` with a packed by [`prepack_a`]. Returns false,
/// doing nothing, when F is not f32 or the product is too thin for the kernel.
#[allow(clippy::too_many_arguments)]
pub(crate) fn gemm_prepacked_a<F: Flt>(
    (m, n, k): (usize, usize, usize),
    a: &PackedA,
    b: Mat<'_, F>,
    c: &mut [F],
    ldc: usize,
    acc: bool,
    threads: usize,
) -> bool {
    if std::any::TypeId::of::<F>() != std::any::TypeId::of::<f32>()
        || a.dims() != (m, k)
        || n < THIN
        || m < 8
    {
        return false;
    }
    assert!(b.fits(k, n) && (m - 1) * ldc + n <= c.len() && ldc >= n);
    let (b, c) = (strided_f32(b), f32_mut(c));
    let threads = kernel_threads((m, n, k), threads);
    super::sgemm::sgemm(
        (m, n, k),
        ASrc::Packed(a),
        BSrc::Strided(b),
        c,
        ldc,
        1.0,
        acc,
        threads,
    );
    true
}

/// The threads the AVX-512 kernel splits an (m, n, k) product over: one below
/// the size where a parallel region pays.
fn kernel_threads((m, n, k): (usize, usize, usize), threads: usize) -> usize {
    if threads > 1 && m * n * k >= super::PAR_WORK * 4 {
        threads
    } else {
        1
    }
}

/// Whether F is f32 and this CPU runs the AVX-512 kernel (so that [`gemm_rows`]
/// and the other packed entry points take its products).
pub(crate) fn runs_f32_kernel<F: Flt>() -> bool {
    std::any::TypeId::of::<F>() == std::any::TypeId::of::<f32>() && super::sgemm::available()
}

/// `c[m×n] = a·b (+ c when acc)` where row p of b is `data[rows[p]..][..n]` (a
/// convolution's input shifted per tap) and a is `packed` when given, else the
/// row-major `a`. Returns false, doing nothing, when F is not f32, this CPU
/// does not run the AVX-512 kernel, or the product is too thin for it (fewer
/// than [`THIN`] columns: a squeeze-and-excite block's 1×1 convolutions have one).
/// With `after`, each task hands what it computed to it (`sgemm_then`).
#[allow(clippy::too_many_arguments)]
pub(crate) fn gemm_rows<F: Flt>(
    (m, n, k): (usize, usize, usize),
    packed: Option<&PackedA>,
    a: Mat<'_, F>,
    (data, rows): (&[F], &[usize]),
    c: &mut [F],
    ldc: usize,
    acc: bool,
    threads: usize,
    after: Option<Then<'_>>,
) -> bool {
    if !runs_f32_kernel::<F>() || m == 0 || n < THIN || k == 0 {
        return false;
    }
    assert!(a.fits(m, k) && rows.len() == k && (m - 1) * ldc + n <= c.len() && ldc >= n);
    let threads = kernel_threads((m, n, k), threads);
    let data = strided_f32(Mat::rows(data, 1)).data;
    let a = match packed {
        Some(p) if p.dims() == (m, k) => ASrc::Packed(p),
        _ => ASrc::Strided(strided_f32(a)),
    };
    super::sgemm::sgemm_then(
        (m, n, k),
        a,
        BSrc::Rows(data, rows),
        f32_mut(c),
        ldc,
        1.0,
        acc,
        threads,
        after,
    );
    true
}

/// A float matrix operand as f32. Callers check that F is f32.
fn strided_f32<F: Flt>(m: Mat<'_, F>) -> Strided<'_> {
    Strided {
        data: as_f32(m.data).expect("F is f32"),
        rs: m.rs,
        cs: m.cs,
    }
}

/// A float output as f32. Callers check that F is f32.
fn f32_mut<F: Flt>(c: &mut [F]) -> &mut [f32] {
    as_f32_mut(c).expect("F is f32")
}

/// Integer `c[m×n] = a·b` with wrapping arithmetic (as integer MatMul overflows in
/// ONNX Runtime); `c` row-major with row stride `ldc`.
pub(crate) fn gemm_int<T: Copy + Zero + WrappingAdd + WrappingMul>(
    (m, n, k): (usize, usize, usize),
    a: Mat<'_, T>,
    b: Mat<'_, T>,
    c: &mut [T],
    ldc: usize,
) {
    for i in 0..m {
        let row = &mut c[i * ldc..i * ldc + n];
        row.fill(T::zero());
        for p in 0..k {
            let av = a.data[i * a.rs + p * a.cs];
            let boff = p * b.rs;
            for (j, o) in row.iter_mut().enumerate() {
                *o = o.wrapping_add(&av.wrapping_mul(&b.data[boff + j * b.cs]));
            }
        }
    }
}
