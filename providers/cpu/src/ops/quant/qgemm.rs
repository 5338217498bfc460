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
//! of 32 columns with k in groups of 4, 128 bytes a group; A is packed per call
//! into rows padded to whole groups. Within a group the bytes are in the order
//! the kernel reads them without shuffles ([`Layout`]): column by column for
//! `vpdpbusd`, k-pair by k-pair for AVX2's sign-extending load and `vpmaddwd`,
//! whose A is then packed as 16-bit values.

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

/// The order of the bytes of a group of B (4 k values × 32 columns, 128
/// bytes) and the width of A's values.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum Layout {
    /// Column j's four bytes together, at `4j + t`; A as bytes. One dword of
    /// each is what `vpdpbusd` multiplies (and the portable loop reads).
    Quads,
    /// The k-pair `t / 2` of column j at `64·(t / 2) + 2j`, then `t % 2`; A as
    /// little-endian u16. Sixteen bytes of B sign-extend to eight columns'
    /// int16 pairs and a dword of A is one pair, the operands of `vpmaddwd`.
    Pairs,
}

impl Layout {
    /// The layout of this CPU's kernel.
    pub fn native() -> Layout {
        match isa() {
            Isa::Avx2 => Layout::Pairs,
            Isa::Vnni | Isa::Portable => Layout::Quads,
        }
    }

    /// The byte of k offset `t` (< 4) of panel column `j` within a group.
    #[inline(always)]
    pub fn at(self, t: usize, j: usize) -> usize {
        match self {
            Layout::Quads => 4 * j + t,
            Layout::Pairs => 64 * (t / 2) + 2 * j + t % 2,
        }
    }

    /// Bytes per value of A.
    fn a_bytes(self) -> usize {
        match self {
            Layout::Quads => 1,
            Layout::Pairs => 2,
        }
    }

    /// The kernel for this layout here: the SIMD one where the CPU has it.
    fn isa(self) -> Isa {
        match (self, isa()) {
            (Layout::Quads, Isa::Vnni) => Isa::Vnni,
            (Layout::Pairs, _) if avx2_available() => Isa::Avx2,
            _ => Isa::Portable,
        }
    }
}

/// B (K×N) in the kernels' layout, with its column sums.
pub(crate) struct PackedB {
    pub(super) layout: Layout,
    pub(super) k: usize,
    pub(super) n: usize,
    pub(super) groups: usize,
    /// Panel p, group g, column j, byte t: `data[(p·groups + g)·128 +
    /// layout.at(t, j)]`.
    pub(super) data: Vec<i8>,
    pub(super) col_sums: Vec<i32>,
    /// `cb`: what was subtracted from every element.
    pub(super) shift: i32,
}

impl PackedB {
    /// Packs B, element (kk, j) at `b[kk·rs + j·cs]`, for this CPU's kernel.
    pub fn new<T: QInt>(b: &[T], kn: (usize, usize), rs: usize, cs: usize) -> PackedB {
        PackedB::with_layout(b, kn, rs, cs, Layout::native())
    }

    pub fn with_layout<T: QInt>(
        b: &[T],
        (k, n): (usize, usize),
        rs: usize,
        cs: usize,
        layout: Layout,
    ) -> PackedB {
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
                data[(p * groups + kk / 4) * GROUP + layout.at(kk % 4, jj)] = v as i8;
            }
        }
        PackedB {
            layout,
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

/// A (M×K, rows `lda` apart) as unsigned values (bytes, or u16 for
/// [`Layout::Pairs`]), rows padded to whole groups and the row count to whole
/// tiles: packed per call, or once for a constant A.
pub(crate) struct PackedA {
    pub(crate) layout: Layout,
    k: usize,
    m: usize,
    /// Bytes from one row to the next.
    stride: usize,
    data: Vec<u8>,
    row_sums: Vec<i32>,
    shift: i32,
}

impl PackedA {
    /// Packs A for a B in `layout`.
    pub fn new<T: QInt>(a: &[T], m: usize, k: usize, lda: usize, layout: Layout) -> PackedA {
        let shift = if T::SIGNED { 128 } else { 0 };
        let stride = k.next_multiple_of(4) * layout.a_bytes();
        let mut data = vec![0u8; m.next_multiple_of(MR) * stride];
        let mut row_sums = vec![0i32; m];
        for (i, sum) in row_sums.iter_mut().enumerate() {
            let (src, row) = (&a[i * lda..i * lda + k], &mut data[i * stride..][..stride]);
            *sum = match layout {
                Layout::Quads => shift_row(src, shift, &mut row[..k]),
                Layout::Pairs => widen_row(src, shift, &mut row[..2 * k]),
            };
        }
        PackedA {
            layout,
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
    let a = PackedA::new(a, m, b.k, lda, b.layout);
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
    assert_eq!(
        a.layout, b.layout,
        "A and B are packed for different kernels"
    );
    if m == 0 || n == 0 {
        return;
    }
    let (layout, isa) = (b.layout, b.layout.isa());
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
                kernel((isa, layout), tile, a.stride, panel, b.groups, &mut acc);
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

/// [`shift_row`] into little-endian u16 (`dst` holds two bytes per value,
/// their high bytes already zero).
fn widen_row<T: QInt>(src: &[T], shift: i32, dst: &mut [u8]) -> i32 {
    assert!(dst.len() >= 2 * src.len());
    #[cfg(target_arch = "x86_64")]
    if std::mem::size_of::<T>() == 1 && avx2_available() {
        // SAFETY: T is a one-byte integer, so the slice is `src.len()` bytes.
        let bytes = unsafe { std::slice::from_raw_parts(src.as_ptr() as *const u8, src.len()) };
        // SAFETY: the CPU has AVX2; `dst` holds two bytes per value (asserted).
        // A one-byte type is shifted by 128 exactly when it is signed, which
        // flips the top bit of its byte.
        return unsafe { widen_bytes_avx2(bytes, T::SIGNED, dst) };
    }
    shift_row_wide(src, shift, dst)
}

/// Bytes (top bit flipped when `flip`) zero-extended to u16, 16 at a time,
/// and their sum.
///
/// # Safety
/// The CPU has AVX2 and `dst` holds `2 · src.len()` bytes.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
unsafe fn widen_bytes_avx2(src: &[u8], flip: bool, dst: &mut [u8]) -> i32 {
    let top = _mm_set1_epi8(if flip { -128 } else { 0 });
    let mut sum = _mm_setzero_si128();
    let whole = src.len() / 16 * 16;
    for i in (0..whole).step_by(16) {
        // SAFETY: bytes i..i + 16 of `src`, and 2i..2i + 32 of `dst`, exist.
        unsafe {
            let v = _mm_xor_si128(_mm_loadu_si128(src.as_ptr().add(i) as *const __m128i), top);
            _mm256_storeu_si256(
                dst.as_mut_ptr().add(2 * i) as *mut __m256i,
                _mm256_cvtepu8_epi16(v),
            );
            sum = _mm_add_epi64(sum, _mm_sad_epu8(v, _mm_setzero_si128()));
        }
    }
    let mut total = (_mm_cvtsi128_si64(sum) + _mm_extract_epi64::<1>(sum)) as i32;
    let f = if flip { 0x80 } else { 0 };
    for (i, &b) in src.iter().enumerate().skip(whole) {
        dst[2 * i] = b ^ f;
        total = total.wrapping_add((b ^ f) as i32);
    }
    total
}

simd_fn! {
    /// [`shift_row`] into little-endian u16 (`dst` holds two bytes per value,
    /// their high bytes already zero).
    fn shift_row_wide[T: QInt](src: &[T], shift: i32, dst: &mut [u8]) -> i32 {
        let mut sum = 0i32;
        for (d, s) in dst.chunks_exact_mut(2).zip(src) {
            let v = s.to_i32() + shift;
            d[0] = v as u8;
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

fn avx2_available() -> bool {
    #[cfg(target_arch = "x86_64")]
    {
        std::arch::is_x86_feature_detected!("avx2")
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        false
    }
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

/// `acc = a_tile · panel` for MR rows of A (`stride` bytes apart) and one
/// panel, by `isa`'s kernel for `layout` (the portable one reads either).
fn kernel(
    (isa, layout): (Isa, Layout),
    a: &[u8],
    stride: usize,
    panel: &[i8],
    groups: usize,
    acc: &mut [[i32; NR]; MR],
) {
    assert!(a.len() >= MR * stride && stride >= 4 * groups * layout.a_bytes());
    assert!(panel.len() >= groups * GROUP);
    #[cfg(target_arch = "x86_64")]
    match (isa, layout) {
        // SAFETY: VNNI is picked only where the CPU has AVX-512 VNNI and BW,
        // and the operands hold the bytes the kernel reads (asserted above).
        (Isa::Vnni, Layout::Quads) => {
            return unsafe { kernel_vnni(a.as_ptr(), stride, panel.as_ptr(), groups, acc) }
        }
        // SAFETY: AVX2 is picked only where the CPU has it; as above.
        (Isa::Avx2, Layout::Pairs) => {
            return unsafe { kernel_avx2(a.as_ptr(), stride, panel.as_ptr(), groups, acc) }
        }
        (Isa::Portable, _) => {}
        _ => unreachable!("{isa:?} reads no {layout:?} panels"),
    }
    kernel_portable(layout, a, stride, panel, groups, acc);
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
                    b.add(2 * c0),
                    groups,
                    rows,
                    c0,
                )
            };
        }
    }
}

/// Rows 0..4 of `a` times columns 0..16 of the [`Layout::Pairs`] panel at
/// `b`, into columns `c0..c0 + 16` of `out`. Per k-pair, sixteen bytes of B
/// sign-extend to eight columns' int16 pairs and a dword of A is the row's
/// pair, so one `vpmaddwd` gives a·b + a'·b' per column: at most 2·255·128
/// in magnitude, exact in int32.
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
    let mut acc = [[_mm256_setzero_si256(); 2]; 4];
    for q in 0..2 * groups {
        // SAFETY: k-pair q's 16 columns from the block's first are 32 bytes
        // of group q / 2 of the panel.
        let (b0, b1) = unsafe {
            let p = b.add((q / 2) * GROUP + 64 * (q % 2));
            (
                _mm256_cvtepi8_epi16(_mm_loadu_si128(p as *const __m128i)),
                _mm256_cvtepi8_epi16(_mm_loadu_si128(p.add(16) as *const __m128i)),
            )
        };
        for (r, row) in acc.iter_mut().enumerate() {
            // SAFETY: row r < 4 and bytes 4q..4q + 4 < stride, inside the tile.
            let av = _mm256_set1_epi32(unsafe {
                (a.add(r * stride + 4 * q) as *const i32).read_unaligned()
            });
            row[0] = _mm256_add_epi32(row[0], _mm256_madd_epi16(av, b0));
            row[1] = _mm256_add_epi32(row[1], _mm256_madd_epi16(av, b1));
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
    fn kernel_portable[](layout: Layout, a: &[u8], stride: usize, panel: &[i8], groups: usize, acc: &mut [[i32; NR]; MR]) {
        *acc = [[0; NR]; MR];
        let w = layout.a_bytes();
        for g in 0..groups {
            let bg = &panel[g * GROUP..(g + 1) * GROUP];
            for (r, row) in acc.iter_mut().enumerate() {
                // Values of A are bytes, or u16 whose high byte is zero.
                let ag = &a[r * stride + 4 * g * w..][..4 * w];
                for (j, v) in row.iter_mut().enumerate() {
                    let mut s = 0i32;
                    for t in 0..4 {
                        s += ag[t * w] as i32 * bg[layout.at(t, j)] as i32;
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
        for layout in [Layout::Quads, Layout::Pairs] {
            let pb = PackedB::with_layout(&b, (k, n), n, 1, layout);
            let mut got = vec![0i32; m * n];
            qgemm(&a, m, k, za, &pb, zb, &mut got, threads, |_, _, v, o| {
                o.copy_from_slice(v)
            });
            assert_eq!(
                got, want,
                "{layout:?} m={m} k={k} n={n} za={za:?} zb={zb:?}"
            );
            // The portable kernel agrees with every kernel this CPU has for
            // the layout, tile by tile.
            let pa = PackedA::new(&a, m, k, k, layout);
            for ir in (0..m).step_by(MR) {
                for p in 0..n.div_ceil(NR) {
                    let (at, panel) = (
                        &pa.data[ir * pa.stride..],
                        &pb.data[p * pb.groups * GROUP..],
                    );
                    let mut portable = [[0; NR]; MR];
                    kernel_portable(layout, at, pa.stride, panel, pb.groups, &mut portable);
                    for isa in available(layout) {
                        let mut picked = [[0; NR]; MR];
                        kernel((isa, layout), at, pa.stride, panel, pb.groups, &mut picked);
                        assert_eq!(portable, picked, "{isa:?}");
                    }
                }
            }
        }
    }

    #[test]
    fn rows_widen_as_the_loop_does() {
        for len in [0, 5, 16, 37] {
            let u: Vec<u8> = (0..len).map(|i| (i * 73 % 256) as u8).collect();
            let s: Vec<i8> = u.iter().map(|&b| b as i8).collect();
            let (mut w1, mut w2) = (vec![0u8; 2 * len], vec![0u8; 2 * len]);
            assert_eq!(widen_row(&u, 0, &mut w1), shift_row_wide(&u, 0, &mut w2));
            assert_eq!(w1, w2);
            let (mut w1, mut w2) = (vec![0u8; 2 * len], vec![0u8; 2 * len]);
            assert_eq!(
                widen_row(&s, 128, &mut w1),
                shift_row_wide(&s, 128, &mut w2)
            );
            assert_eq!(w1, w2);
        }
    }

    /// The SIMD kernels this CPU can run on `layout`, whatever `isa()` picks.
    fn available(layout: Layout) -> Vec<Isa> {
        match layout {
            Layout::Pairs if avx2_available() => vec![Isa::Avx2],
            Layout::Quads if vnni_available() => vec![Isa::Vnni],
            _ => vec![],
        }
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
