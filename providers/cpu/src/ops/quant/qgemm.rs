//! Exact 8-bit integer GEMM: `Σ_k (a - za)(b - zb)` in wrapping int32, as
//! MatMulInteger defines it, for any mix of u8 and i8 operands.
//!
//! The kernels multiply unsigned A bytes by signed B bytes and accumulate in
//! int32 without saturating: AVX-512 VNNI's `vpdpbusd` where the CPU has it
//! (64 products per instruction), else AVX2's `vpmaddwd` on bytes widened to
//! int16 in registers (16 products per instruction), else a portable loop. (The
//! u8×s8 `vpmaddubsw` of AVX2 saturates its int16 pair sums, which is why it is
//! not used: its results would be inexact.) Other operand types are moved into
//! that form with exact corrections:
//!
//! - A is stored as `A' = A + ca` (ca = 128 for i8, else 0), so it is u8;
//! - B is stored as `B' = B - cb` (cb = 128 for u8, else 0), so it is i8;
//! - with `α = za + ca` per row and `β = zb - cb` per column,
//!   `Σ(A - za)(B - zb) = ΣA'B' - α·ΣB' - β·(ΣA' - K·α)`.
//!
//! B is packed once (at session creation when it is a constant) into panels
//! of 32 columns with k in groups of 4 bytes, the layout `vpdpbusd` reads; A
//! is packed per call into rows padded to whole groups.

#[cfg(target_arch = "x86_64")]
use std::arch::x86_64::*;

use super::QInt;
use crate::ops::nn::simd_fn;
use crate::parallel::Disjoint;

/// Columns per panel: two 16-lane registers.
pub(crate) const NR: usize = 32;
/// Rows per register tile.
pub(crate) const MR: usize = 8;
/// Bytes of one k-group of a panel.
pub(super) const GROUP: usize = 4 * NR;
/// Rows per parallel task.
const MB: usize = 4 * MR;

/// B (K×N) in the kernels' layout, with its column sums.
pub(crate) struct PackedB {
    pub(super) k: usize,
    pub(super) n: usize,
    pub(super) groups: usize,
    /// Panel p, group g, column j, byte t: `data[(p·groups + g)·128 + 4j + t]`.
    pub(super) data: Vec<i8>,
    pub(super) col_sums: Vec<i32>,
    /// `cb`: what was subtracted from every element.
    pub(super) shift: i32,
}

impl PackedB {
    /// Packs B, element (kk, j) at `b[kk·rs + j·cs]`.
    pub fn new<T: QInt>(b: &[T], (k, n): (usize, usize), rs: usize, cs: usize) -> PackedB {
        let shift = if T::SIGNED { 0 } else { 128 };
        let groups = k.div_ceil(4);
        let panels = n.div_ceil(NR);
        let mut data = vec![0i8; panels * groups * GROUP];
        let mut col_sums = vec![0i32; n];
        for (j, sum) in col_sums.iter_mut().enumerate() {
            let (p, jj) = (j / NR, j % NR);
            for kk in 0..k {
                let v = b[kk * rs + j * cs].to_i32() - shift;
                *sum += v;
                data[(p * groups + kk / 4) * GROUP + 4 * jj + kk % 4] = v as i8;
            }
        }
        PackedB {
            k,
            n,
            groups,
            data,
            col_sums,
            shift,
        }
    }

    pub fn k(&self) -> usize {
        self.k
    }

    pub fn n(&self) -> usize {
        self.n
    }
}

/// A (M×K, rows `lda` apart) as unsigned bytes, rows padded to whole groups and
/// the row count to whole tiles: packed per call, or once for a constant A.
pub(crate) struct PackedA {
    k: usize,
    m: usize,
    stride: usize,
    data: Vec<u8>,
    row_sums: Vec<i32>,
    shift: i32,
}

impl PackedA {
    pub fn new<T: QInt>(a: &[T], m: usize, k: usize, lda: usize) -> PackedA {
        let shift = if T::SIGNED { 128 } else { 0 };
        let stride = k.next_multiple_of(4);
        let mut data = vec![0u8; m.next_multiple_of(MR) * stride];
        let mut row_sums = vec![0i32; m];
        for (i, sum) in row_sums.iter_mut().enumerate() {
            let row = &mut data[i * stride..i * stride + k];
            *sum = shift_row(&a[i * lda..i * lda + k], shift, row);
        }
        PackedA {
            k,
            m,
            stride,
            data,
            row_sums,
            shift,
        }
    }
}

/// `Σ_k (a[i][k] - za_i)(b[k][j] - zb_j)` for every (i, j), each handed to
/// `store(i, j0, values, out_row)` a run of columns at a time, where `out_row`
/// is `out[i·n + j0..][..values.len()]`. `a` is M×K with rows `lda` apart; `za`
/// holds one value or M, `zb` one or N.
#[allow(clippy::too_many_arguments)]
pub(crate) fn qgemm<T: QInt + Sync, O: Send + Sync>(
    a: &[T],
    m: usize,
    lda: usize,
    za: &[i32],
    b: &PackedB,
    zb: &[i32],
    out: &mut [O],
    threads: usize,
    store: impl Fn(usize, usize, &[i32], &mut [O]) + Sync,
) {
    if m == 0 || b.n == 0 {
        return;
    }
    let a = PackedA::new(a, m, b.k, lda);
    qgemm_packed(&a, za, b, zb, out, threads, store)
}

/// [`qgemm`] with A already packed.
pub(crate) fn qgemm_packed<O: Send + Sync>(
    a: &PackedA,
    za: &[i32],
    b: &PackedB,
    zb: &[i32],
    out: &mut [O],
    threads: usize,
    store: impl Fn(usize, usize, &[i32], &mut [O]) + Sync,
) {
    qgemm_tiles(a, za, b, zb, out, threads, |t, out| {
        let mut vals = [0i32; NR];
        for r in 0..t.rows {
            let (sums, beta) = (&t.sums[..t.cols], &t.beta[..t.cols]);
            let vals = &mut vals[..t.cols];
            correct(&t.acc[r][..t.cols], sums, beta, t.alpha[r], t.u[r], vals);
            store(t.i0 + r, t.j0, vals, out.row(r));
        }
    })
}

/// One tile of raw products `Σ_k A'B'` and what its zero-point corrections
/// need: the value at (r, c) is `acc[r][c] − alpha[r]·sums[c] − beta[c]·u[r]`.
pub(crate) struct Tile<'t> {
    /// The output row and column of the tile's first value.
    pub i0: usize,
    pub j0: usize,
    pub rows: usize,
    pub cols: usize,
    pub acc: &'t [[i32; NR]; MR],
    pub alpha: [i32; MR],
    pub u: [i32; MR],
    /// From column `j0` on.
    pub sums: &'t [i32],
    pub beta: &'t [i32],
}

/// Where a tile's values go: its part of each of its rows of the output.
pub(crate) struct TileOut<'a, 'o, O> {
    out: &'a Disjoint<'o, O>,
    n: usize,
    i0: usize,
    j0: usize,
    cols: usize,
}

impl<O: Send> TileOut<'_, '_, O> {
    /// Row `r` of the tile: `cols` values of output row `i0 + r` from `j0`.
    pub fn row(&mut self, r: usize) -> &mut [O] {
        let start = (self.i0 + r) * self.n + self.j0;
        // SAFETY: tiles cover disjoint rows × columns of the output, each
        // handled by one task, and `&mut self` keeps one row borrowed at a time.
        unsafe { self.out.part(start..start + self.cols) }
    }
}

/// The products tile by tile: `store(tile, out)` gets each tile with the
/// places its values go. Tasks are blocks of rows, split by columns too when
/// the rows alone would leave threads idle (a convolution with few output
/// channels over many positions).
pub(crate) fn qgemm_tiles<O: Send + Sync>(
    a: &PackedA,
    za: &[i32],
    b: &PackedB,
    zb: &[i32],
    out: &mut [O],
    threads: usize,
    store: impl Fn(&Tile<'_>, &mut TileOut<'_, '_, O>) + Sync,
) {
    let (m, k, n) = (a.m, b.k, b.n);
    assert_eq!(a.k, k, "A's and B's k differ");
    if m == 0 || n == 0 {
        return;
    }
    let isa = isa();
    // Per column: its zero point (shifted), so that the corrections are one
    // vectorizable pass per row.
    let bz: Vec<i32> = (0..n)
        .map(|j| zb[if zb.len() == 1 { 0 } else { j }].wrapping_sub(b.shift))
        .collect();
    let threads = if m * n * k >= 1 << 18 { threads } else { 1 };
    let (blocks, panels) = (m.div_ceil(MB), n.div_ceil(NR));
    let splits = if threads > 1 && blocks < 4 * threads {
        (4 * threads).div_ceil(blocks).min(panels)
    } else {
        1
    };
    let per_split = panels.div_ceil(splits);
    let out = Disjoint::new(&mut out[..m * n]);
    let task = |t: usize| {
        let (bi, si) = (t / splits, t % splits);
        let r0 = bi * MB;
        let rows = MB.min(m - r0);
        let mut acc = [[0i32; NR]; MR];
        for p in si * per_split..((si + 1) * per_split).min(panels) {
            let panel = &b.data[p * b.groups * GROUP..][..b.groups * GROUP];
            let (j0, cols) = (p * NR, NR.min(n - p * NR));
            for ir in (0..rows).step_by(MR) {
                let at = (r0 + ir) * a.stride;
                let tile = &a.data[at..at + MR * a.stride];
                kernel(isa, tile, a.stride, panel, b.groups, &mut acc);
                let tile_rows = MR.min(rows - ir);
                let (mut alpha, mut u) = ([0; MR], [0; MR]);
                for r in 0..tile_rows {
                    let i = r0 + ir + r;
                    alpha[r] = za[if za.len() == 1 { 0 } else { i }].wrapping_add(a.shift);
                    u[r] = a.row_sums[i].wrapping_sub((k as i32).wrapping_mul(alpha[r]));
                }
                let t = Tile {
                    i0: r0 + ir,
                    j0,
                    rows: tile_rows,
                    cols,
                    acc: &acc,
                    alpha,
                    u,
                    sums: &b.col_sums[j0..],
                    beta: &bz[j0..],
                };
                let mut place = TileOut {
                    out: &out,
                    n,
                    i0: r0 + ir,
                    j0,
                    cols,
                };
                store(&t, &mut place);
            }
        }
    };
    crate::parallel::for_each(threads, blocks * splits, task);
}

simd_fn! {
    /// A row of A as u8 (shifted by `shift` into 0..=255), returning its sum.
    fn shift_row[T: QInt](src: &[T], shift: i32, dst: &mut [u8]) -> i32 {
        let mut sum = 0i32;
        for (d, s) in dst.iter_mut().zip(src) {
            let v = s.to_i32() + shift;
            *d = v as u8;
            sum += v;
        }
        sum
    }
}

simd_fn! {
    /// The zero-point corrections of one row of a tile: `acc − α·Σb − β·u` per
    /// column, with α the row's zero point, u its corrected sum, Σb and β the
    /// columns' sums and zero points.
    fn correct[](acc: &[i32], sums: &[i32], beta: &[i32], alpha: i32, u: i32, vals: &mut [i32]) {
        for (((v, &a), &s), &b) in vals.iter_mut().zip(acc).zip(sums).zip(beta) {
            *v = a.wrapping_sub(alpha.wrapping_mul(s)).wrapping_sub(b.wrapping_mul(u));
        }
    }
}

/// The integer kernels, fastest first.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum Isa {
    Vnni,
    Avx2,
    Portable,
}

/// The kernel this CPU runs: VNNI where the float kernels run AVX-512 and the
/// CPU has VNNI, AVX2 where they run AVX2 (so `ORT_CPU_ISA` caps both alike),
/// else the portable loop.
pub(crate) fn isa() -> Isa {
    use crate::ops::nn::sgemm;
    match sgemm::isa() {
        Some(sgemm::Isa::Avx512) if vnni_available() => Isa::Vnni,
        Some(_) => Isa::Avx2,
        None => Isa::Portable,
    }
}

/// Whether the integer GEMM has a SIMD kernel here, so that it beats
/// dequantizing to the float kernels.
pub(crate) fn simd() -> bool {
    isa() != Isa::Portable
}

fn vnni_available() -> bool {
    #[cfg(target_arch = "x86_64")]
    {
        std::arch::is_x86_feature_detected!("avx512vnni")
            && std::arch::is_x86_feature_detected!("avx512bw")
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        false
    }
}

/// `acc = a_tile · panel` for MR rows of A (`stride` bytes apart) and one panel.
fn kernel(
    isa: Isa,
    a: &[u8],
    stride: usize,
    panel: &[i8],
    groups: usize,
    acc: &mut [[i32; NR]; MR],
) {
    assert!(a.len() >= MR * stride && stride >= 4 * groups && panel.len() >= groups * GROUP);
    #[cfg(target_arch = "x86_64")]
    match isa {
        // SAFETY: `isa()` picked VNNI only where the CPU has AVX-512 VNNI and
        // BW, and the operands hold the bytes the kernel reads (asserted above).
        Isa::Vnni => {
            return unsafe { kernel_vnni(a.as_ptr(), stride, panel.as_ptr(), groups, acc) }
        }
        // SAFETY: `isa()` picked AVX2 only where the CPU has it; as above.
        Isa::Avx2 => {
            return unsafe { kernel_avx2(a.as_ptr(), stride, panel.as_ptr(), groups, acc) }
        }
        Isa::Portable => {}
    }
    let _ = isa;
    kernel_portable(a, stride, panel, groups, acc);
}

/// 8×32 int32 accumulators in 16 zmm registers; per k-group, two loads of B,
/// one 4-byte broadcast of A per row and two `vpdpbusd` per row.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f,avx512bw,avx512vnni")]
unsafe fn kernel_vnni(
    a: *const u8,
    stride: usize,
    b: *const i8,
    groups: usize,
    out: &mut [[i32; NR]; MR],
) {
    let mut acc = [[_mm512_setzero_si512(); 2]; MR];
    for g in 0..groups {
        // SAFETY: g < groups, and the panel holds groups·128 bytes.
        let (b0, b1) = unsafe {
            let p = b.add(g * GROUP);
            (
                _mm512_loadu_si512(p as *const __m512i),
                _mm512_loadu_si512(p.add(64) as *const __m512i),
            )
        };
        for (r, row) in acc.iter_mut().enumerate() {
            // SAFETY: row r < MR and byte 4g + 3 < stride, inside the tile.
            let av = _mm512_set1_epi32(unsafe {
                (a.add(r * stride + 4 * g) as *const i32).read_unaligned()
            });
            row[0] = _mm512_dpbusd_epi32(row[0], av, b0);
            row[1] = _mm512_dpbusd_epi32(row[1], av, b1);
        }
    }
    for (o, row) in out.iter_mut().zip(&acc) {
        // SAFETY: each output row holds 32 int32 values.
        unsafe {
            _mm512_storeu_si512(o.as_mut_ptr() as *mut __m512i, row[0]);
            _mm512_storeu_si512(o.as_mut_ptr().add(16) as *mut __m512i, row[1]);
        }
    }
}

/// The 8×32 tile as four 4×16 blocks, each a pass over k with its own eight
/// ymm accumulators.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
unsafe fn kernel_avx2(
    a: *const u8,
    stride: usize,
    b: *const i8,
    groups: usize,
    out: &mut [[i32; NR]; MR],
) {
    for (h, rows) in out.chunks_exact_mut(4).enumerate() {
        for c0 in (0..NR).step_by(16) {
            // SAFETY: rows 4h..4h + 4 of the tile and columns c0..c0 + 16 of
            // the panel are inside the operands the caller vouched for.
            unsafe {
                block_avx2(
                    a.add(4 * h * stride),
                    stride,
                    b.add(4 * c0),
                    groups,
                    rows,
                    c0,
                )
            };
        }
    }
}

/// Rows 0..4 of `a` times columns 0..16 of the panel at `b`, into columns
/// `c0..c0 + 16` of `out`. A dword of a group holds four k values of one
/// column (B) or row (A); per 16-bit half, the low bytes are k0 and k2 and the
/// high bytes k1 and k3. Splitting them into even and odd halves widens both
/// operands to int16 in place, and two `vpmaddwd` give k0·k0 + k2·k2 and
/// k1·k1 + k3·k3 per column: at most 2·255·128 in magnitude, exact in int32.
#[cfg(target_arch = "x86_64")]
#[inline]
#[target_feature(enable = "avx2")]
unsafe fn block_avx2(
    a: *const u8,
    stride: usize,
    b: *const i8,
    groups: usize,
    out: &mut [[i32; NR]],
    c0: usize,
) {
    let low = _mm256_set1_epi16(0xff);
    let mut acc = [[_mm256_setzero_si256(); 2]; 4];
    for g in 0..groups {
        // SAFETY: group g's 16 columns from the block's first are 64 bytes of
        // the panel.
        let (b0, b1) = unsafe {
            let p = b.add(g * GROUP);
            (
                _mm256_loadu_si256(p as *const __m256i),
                _mm256_loadu_si256(p.add(32) as *const __m256i),
            )
        };
        let even = |v| _mm256_srai_epi16::<8>(_mm256_slli_epi16::<8>(v));
        let (b0e, b0o) = (even(b0), _mm256_srai_epi16::<8>(b0));
        let (b1e, b1o) = (even(b1), _mm256_srai_epi16::<8>(b1));
        for (r, row) in acc.iter_mut().enumerate() {
            // SAFETY: row r < 4 and byte 4g + 3 < stride, inside the tile.
            let av = _mm256_set1_epi32(unsafe {
                (a.add(r * stride + 4 * g) as *const i32).read_unaligned()
            });
            let (ae, ao) = (_mm256_and_si256(av, low), _mm256_srli_epi16::<8>(av));
            row[0] = _mm256_add_epi32(row[0], _mm256_madd_epi16(ae, b0e));
            row[0] = _mm256_add_epi32(row[0], _mm256_madd_epi16(ao, b0o));
            row[1] = _mm256_add_epi32(row[1], _mm256_madd_epi16(ae, b1e));
            row[1] = _mm256_add_epi32(row[1], _mm256_madd_epi16(ao, b1o));
        }
    }
    for (o, row) in out.iter_mut().zip(&acc) {
        // SAFETY: c0 + 16 <= NR values of each output row.
        unsafe {
            _mm256_storeu_si256(o.as_mut_ptr().add(c0) as *mut __m256i, row[0]);
            _mm256_storeu_si256(o.as_mut_ptr().add(c0 + 8) as *mut __m256i, row[1]);
        }
    }
}

simd_fn! {
    fn kernel_portable[](a: &[u8], stride: usize, panel: &[i8], groups: usize, acc: &mut [[i32; NR]; MR]) {
        *acc = [[0; NR]; MR];
        for g in 0..groups {
            let bg = &panel[g * GROUP..(g + 1) * GROUP];
            for (r, row) in acc.iter_mut().enumerate() {
                let ag = &a[r * stride + 4 * g..r * stride + 4 * g + 4];
                for (j, v) in row.iter_mut().enumerate() {
                    let mut s = 0i32;
                    for t in 0..4 {
                        s += ag[t] as i32 * bg[4 * j + t] as i32;
                    }
                    *v = v.wrapping_add(s);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The definition, in i64, wrapped to i32 at the end.
    fn reference<A: QInt, B: QInt>(
        a: &[A],
        b: &[B],
        (m, k, n): (usize, usize, usize),
        za: &[i32],
        zb: &[i32],
    ) -> Vec<i32> {
        let mut out = vec![0; m * n];
        for i in 0..m {
            for j in 0..n {
                let zai = za[if za.len() == 1 { 0 } else { i }] as i64;
                let zbj = zb[if zb.len() == 1 { 0 } else { j }] as i64;
                let s: i64 = (0..k)
                    .map(|kk| {
                        (a[i * k + kk].to_i32() as i64 - zai)
                            * (b[kk * n + j].to_i32() as i64 - zbj)
                    })
                    .sum();
                out[i * n + j] = s as i32;
            }
        }
        out
    }

    fn check<A: QInt + Sync, B: QInt>(
        m: usize,
        k: usize,
        n: usize,
        za: &[i32],
        zb: &[i32],
        threads: usize,
    ) {
        let a: Vec<A> = (0..m * k)
            .map(|i| A::from_i32(((i * 37 + 11) % 256) as i32 - if A::SIGNED { 128 } else { 0 }))
            .collect();
        let b: Vec<B> = (0..k * n)
            .map(|i| B::from_i32(((i * 91 + 5) % 256) as i32 - if B::SIGNED { 128 } else { 0 }))
            .collect();
        let want = reference(&a, &b, (m, k, n), za, zb);
        let pb = PackedB::new(&b, (k, n), n, 1);
        let mut got = vec![0i32; m * n];
        qgemm(&a, m, k, za, &pb, zb, &mut got, threads, |_, _, v, o| {
            o.copy_from_slice(v)
        });
        assert_eq!(got, want, "m={m} k={k} n={n} za={za:?} zb={zb:?}");
        // The portable kernel agrees with the one picked for this CPU, tile by tile.
        let pa = PackedA::new(&a, m, k, k);
        for ir in (0..m).step_by(MR) {
            for p in 0..n.div_ceil(NR) {
                let (at, panel) = (
                    &pa.data[ir * pa.stride..],
                    &pb.data[p * pb.groups * GROUP..],
                );
                let mut portable = [[0; NR]; MR];
                kernel_portable(at, pa.stride, panel, pb.groups, &mut portable);
                for isa in available() {
                    let mut picked = [[0; NR]; MR];
                    kernel(isa, at, pa.stride, panel, pb.groups, &mut picked);
                    assert_eq!(portable, picked, "{isa:?}");
                }
            }
        }
    }

    /// Every kernel this CPU can run, whatever `isa()` picks.
    fn available() -> Vec<Isa> {
        let mut all = vec![Isa::Portable];
        #[cfg(target_arch = "x86_64")]
        if std::arch::is_x86_feature_detected!("avx2") {
            all.push(Isa::Avx2);
        }
        if vnni_available() {
            all.push(Isa::Vnni);
        }
        all
    }

    #[test]
    fn all_operand_types_and_zero_points_are_exact() {
        check::<u8, i8>(5, 7, 3, &[0], &[0], 1);
        check::<u8, i8>(37, 130, 70, &[3], &[0], 2);
        check::<u8, u8>(9, 64, 33, &[128], &[200], 1);
        check::<i8, i8>(17, 33, 65, &[-5], &[7], 1);
        check::<i8, u8>(8, 4, 32, &[0], &[255], 1);
        let za: Vec<i32> = (0..40).map(|i| i * 3).collect();
        let zb: Vec<i32> = (0..50).map(|j| j * 5).collect();
        check::<u8, u8>(40, 300, 50, &za, &zb, 2);
    }
}
