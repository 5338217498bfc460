//! Single-precision GEMM: packed panels of 12 rows of A and 32 columns of B,
//! and a micro-kernel per instruction set, picked at run time: AVX-512
//! (`sgemm_avx512`, a 12×32 tile in zmm registers) or AVX2 + FMA
//! (`sgemm_avx2`, the tile as 6×16 parts). Both read the same panels, so a
//! weight packed at session creation serves either. `blas::gemm` picks this
//! path for float32 products large enough to pay for the packing; elsewhere
//! (no AVX2, or not x86-64) the `gemm` crate computes them.
//!
//! Blocking: B is packed KC×NC at a time into 32-column panels (k-major), and
//! each 12×32 tile of C is accumulated in registers over KC steps. A
//! row-major A is read in place, a row at a time per register row (as MLAS
//! does); any other A is packed into 12-row panels for MC rows at a time. Tiles
//! run in parallel as (row block, column group) tasks when asked.

use super::sgemm_columns as columns;
#[cfg(target_arch = "x86_64")]
use super::{sgemm_avx2 as avx2, sgemm_avx512 as avx512};

pub(crate) const MR: usize = 12;
pub(super) const NR: usize = 32;
const KC: usize = 256;
const MC: usize = MR * 10;
const NC: usize = NR * 24;
/// The depth from which a `BSrc::Rows` operand whose rows do not overlap is
/// packed by each task, a k block of its own panels at a time. Rows read in
/// place touch a cache line more per row and, when far apart (a 1×1
/// convolution's input planes), a page per row; packed, the block stays in L1
/// across row tiles. Overlapping rows (conv_shift's shifted runs) are read in
/// place: packing would copy the input once per tap.
const PACK_ROWS_DEPTH: usize = 256;
/// How far ahead of the kernel a packed A is prefetched, in floats (4 KiB).
/// A packed weight larger than L2 streams from memory once per run, and in a
/// deep product with few columns (a late 3×3 layer: 512 channels at 7×7) each
/// value serves only two tiles: left to the hardware prefetcher, the kernel
/// waits on memory (resnet18 runs 14% faster with it on a Xeon with 2 MiB
/// L2; 512 to 2048 floats measure the same).
pub(super) const A_AHEAD: usize = 1024;
/// How far ahead of a tile's columns the first tile of a panel prefetches a
/// B read in place, in floats: the panel after next.
pub(super) const B_AHEAD: usize = 2 * NR;
/// Row tiles in a row block.
const BLOCK_TILES: usize = MC / MR;

/// How a product whose B needs no packing splits into tasks over `threads`:
/// (row groups, column groups), each group an even share of the row tiles or
/// column panels. Every column group reads all of A and every row group all of
/// B, so the grid with the least of that traffic wins; two tasks per thread
/// let a thread that is late (descheduled, or woken late) hand work to the
/// others.
fn task_grid(
    threads: usize,
    (row_tiles, panels): (usize, usize),
    (m, n): (usize, usize),
) -> (usize, usize) {
    if threads <= 1 {
        return (1, 1);
    }
    let tasks = 2 * threads;
    // Grids too small for the threads (few tiles) come last, then the traffic,
    // then more tasks first.
    (1..=tasks.min(row_tiles))
        .filter(|&rg| tasks.is_multiple_of(rg))
        .map(|rg| (rg, (tasks / rg).min(panels)))
        .min_by_key(|&(rg, cg)| (rg * cg < threads, cg * m + rg * n, usize::MAX - rg * cg))
        .unwrap_or((1, 1))
}

/// The depth of the k blocks for a product of depth k: at most KC, as even as
/// possible (K = 576 runs as 3×192, not 256 + 256 + 64, whose last block pays
/// a full load and store of C for a quarter of the work).
fn kc_step(k: usize) -> usize {
    k.div_ceil(k.div_ceil(KC).max(1)).max(1)
}

/// The micro-kernels, by instruction set.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum Isa {
    Avx512,
    Avx2,
}

/// The kernel this CPU runs, if any: AVX-512 where present, else AVX2 with
/// FMA. `ORT_CPU_ISA=avx2` keeps an AVX-512 CPU on the AVX2 kernel, and
/// `ORT_CPU_ISA=none` on the `gemm` crate (to compare them, or to test a
/// path the CI machine would not take).
pub(crate) fn isa() -> Option<Isa> {
    static ISA: std::sync::OnceLock<Option<Isa>> = std::sync::OnceLock::new();
    *ISA.get_or_init(|| {
        let cap = std::env::var("ORT_CPU_ISA").unwrap_or_default();
        detect()
            .filter(|&i| match cap.as_str() {
                "none" => false,
                "avx2" => i == Isa::Avx2,
                _ => true,
            })
            .or_else(|| detect_avx2().filter(|_| cap == "avx2"))
    })
}

#[cfg(target_arch = "x86_64")]
fn detect() -> Option<Isa> {
    if std::arch::is_x86_feature_detected!("avx512f") {
        Some(Isa::Avx512)
    } else {
        detect_avx2()
    }
}

#[cfg(target_arch = "x86_64")]
fn detect_avx2() -> Option<Isa> {
    (std::arch::is_x86_feature_detected!("avx2") && std::arch::is_x86_feature_detected!("fma"))
        .then_some(Isa::Avx2)
}

#[cfg(not(target_arch = "x86_64"))]
fn detect() -> Option<Isa> {
    None
}

#[cfg(not(target_arch = "x86_64"))]
fn detect_avx2() -> Option<Isa> {
    None
}

/// Whether this CPU runs a kernel here.
pub(crate) fn available() -> bool {
    isa().is_some()
}

/// Whether this CPU runs the AVX-512 kernel (Winograd's transforms need it).
pub(crate) fn avx512() -> bool {
    isa() == Some(Isa::Avx512)
}

/// A strided read-only operand: element (i, j) is `data[i * rs + j * cs]`.
#[derive(Clone, Copy)]
pub(crate) struct Strided<'a> {
    pub data: &'a [f32],
    pub rs: usize,
    pub cs: usize,
}

/// B packed once (a constant weight, at session creation): every KC×NC block
/// in the layout `pack_b` gives it, blocks in the order `sgemm` visits them.
pub(crate) struct PackedB {
    k: usize,
    n: usize,
    data: Vec<f32>,
}

impl PackedB {
    pub fn new(b: Strided<'_>, k: usize, n: usize) -> PackedB {
        let mut data = Vec::with_capacity(k * n.next_multiple_of(NR));
        for jc in (0..n).step_by(NC) {
            let nc = NC.min(n - jc);
            let step = kc_step(k);
            for pc in (0..k).step_by(step) {
                let kc = step.min(k - pc);
                let at = data.len();
                data.resize(at + kc * nc.next_multiple_of(NR), 0.0);
                pack_b(b, pc, kc, jc, nc, &mut data[at..]);
            }
        }
        PackedB { k, n, data }
    }

    pub fn dims(&self) -> (usize, usize) {
        (self.k, self.n)
    }

    /// The block at rows `pc..pc + kc` and columns `jc..jc + nc`: every block
    /// before it in its column block has `kc_step(k)` rows, every column block before it NC
    /// columns.
    fn block(&self, jc: usize, nc: usize, pc: usize, kc: usize) -> &[f32] {
        let ncr = nc.next_multiple_of(NR);
        let at = jc * self.k + pc * ncr;
        &self.data[at..at + kc * ncr]
    }
}

/// A packed once (a constant weight, at session creation): every MC×KC block in
/// the layout `pack_a` gives it (alpha 1), blocks in the order `sgemm` visits them.
pub(crate) struct PackedA {
    m: usize,
    k: usize,
    data: Vec<f32>,
}

impl PackedA {
    pub fn new(a: Strided<'_>, m: usize, k: usize) -> PackedA {
        let mut data = Vec::with_capacity(m.next_multiple_of(MR) * k);
        for ic in (0..m).step_by(MC) {
            let mc = MC.min(m - ic);
            let step = kc_step(k);
            for pc in (0..k).step_by(step) {
                let kc = step.min(k - pc);
                let at = data.len();
                data.resize(at + kc * mc.next_multiple_of(MR), 0.0);
                pack_a(a, 1.0, ic, mc, pc, kc, &mut data[at..]);
            }
        }
        PackedA { m, k, data }
    }

    pub fn dims(&self) -> (usize, usize) {
        (self.m, self.k)
    }

    /// The block at rows `ic..ic + mc` and columns `pc..pc + kc` (row blocks
    /// before it have MC rows, column blocks before it in its row block `kc_step(k)`).
    fn block(&self, ic: usize, mc: usize, pc: usize, kc: usize) -> &[f32] {
        let mcr = mc.next_multiple_of(MR);
        let at = ic * self.k + pc * mcr;
        &self.data[at..at + kc * mcr]
    }
}

/// Where A comes from: a strided matrix packed (and scaled) per call, or packed
/// already (alpha must then be 1).
#[derive(Clone, Copy)]
pub(crate) enum ASrc<'a> {
    Strided(Strided<'a>),
    Packed(&'a PackedA),
}

/// Where B comes from: a strided matrix packed per call, packed already, or
/// rows of one buffer read in place by the kernel (row p is `data[rows[p]..]`,
/// columns contiguous; `sgemm` asserts that every row holds n values). Rows
/// serve convolutions: row (channel, tap) is the input shifted by the tap,
/// with neither an im2col copy nor a packing pass.
#[derive(Clone, Copy)]
pub(crate) enum BSrc<'a> {
    Strided(Strided<'a>),
    Packed(&'a PackedB),
    Rows(&'a [f32], &'a [usize]),
}

/// `c[m×n] = alpha·a·b (+ c when acc)`, `c` row-major with row stride `ldc`.
/// The caller checks the bounds of every operand and that `available()`.
/// With `threads > 1`, (row block, column group) tasks run on the current
/// rayon pool.
#[allow(clippy::too_many_arguments)]
pub(crate) fn sgemm(
    (m, n, k): (usize, usize, usize),
    a: ASrc<'_>,
    b: BSrc<'_>,
    c: &mut [f32],
    ldc: usize,
    alpha: f32,
    acc: bool,
    threads: usize,
) {
    sgemm_then((m, n, k), a, b, c, ldc, alpha, acc, threads, None)
}

/// What a task of [`sgemm_then`] does with the part of C it has finished, on
/// the thread that computed it, while it is in that core's cache.
#[derive(Clone, Copy)]
pub(crate) enum Then<'a> {
    /// Tasks take whole rows; called with their range and C from the first
    /// of them (`ldc` apart, `n` in the last): a convolution compacts and
    /// activates its output channels.
    Rows(&'a (dyn Fn(std::ops::Range<usize>, &[f32]) + Sync)),
    /// Tasks keep the least-traffic grid; called once per row of each task's
    /// tile, with the row, its first column and its values there: an
    /// epilogue (bias, residual, activation) that leaves each column range on
    /// the core that computed it, as the next layer's split expects.
    Parts(&'a (dyn Fn(usize, usize, &mut [f32]) + Sync)),
    /// The bias added and the values clamped to `lo..=hi` (ReLU, Clip) on
    /// each tile as soon as its last k block is stored, while it is in L1: no
    /// pass of their own.
    Clamp(Bias<'a>, f32, f32),
    /// The bias added and HardSwish applied on each tile, as `Clamp` does.
    HardSwish(Bias<'a>),
}

/// What `Then::Clamp` and `Then::HardSwish` do to a tile after its bias.
#[derive(Clone, Copy)]
pub(super) enum TileAct {
    Clamp(f32, f32),
    HardSwish,
}

/// A bias `Then::Clamp` adds: one value per row of C (a convolution's output
/// channels) or per column (a MatMul's output features).
#[derive(Clone, Copy)]
pub(crate) enum Bias<'a> {
    None,
    Rows(&'a [f32]),
    Cols(&'a [f32]),
}

/// [`sgemm`], and with `after` (B not strided), each task then hands what it
/// computed to `after`.
#[allow(clippy::too_many_arguments)]
pub(crate) fn sgemm_then(
    (m, n, k): (usize, usize, usize),
    a: ASrc<'_>,
    b: BSrc<'_>,
    c: &mut [f32],
    ldc: usize,
    alpha: f32,
    acc: bool,
    threads: usize,
    after: Option<Then<'_>>,
) {
    let chosen = isa();
    #[cfg(test)]
    let chosen = tests::FORCED.with(|f| f.get()).or(chosen);
    let isa = chosen.expect("the caller checked available()");
    sgemm_on(isa, (m, n, k), a, b, c, ldc, alpha, acc, threads, after)
}

/// [`sgemm_then`] on the kernel of `isa` (which the CPU must run).
#[allow(clippy::too_many_arguments)]
fn sgemm_on(
    isa: Isa,
    (m, n, k): (usize, usize, usize),
    a: ASrc<'_>,
    b: BSrc<'_>,
    c: &mut [f32],
    ldc: usize,
    alpha: f32,
    acc: bool,
    threads: usize,
    after: Option<Then<'_>>,
) {
    assert!(after.is_none() || !matches!(b, BSrc::Strided(_)));
    if let ASrc::Packed(p) = a {
        assert!(p.dims() == (m, k) && alpha == 1.0);
    }
    let out = Out(c.as_mut_ptr(), c.len());
    let mut bpack = match b {
        BSrc::Strided(_) => vec![0f32; KC.min(k) * n.min(NC).next_multiple_of(NR)],
        BSrc::Rows(..) => Vec::new(),
        BSrc::Packed(p) => {
            assert_eq!(p.dims(), (k, n));
            Vec::new()
        }
    };
    let mut pack_rows = false;
    if let BSrc::Rows(data, rows) = b {
        assert!(rows.len() == k && rows.iter().all(|&r| r + n <= data.len()));
        pack_rows = k >= PACK_ROWS_DEPTH && rows.windows(2).all(|w| w[1] >= w[0] + n);
    }
    let clamp = match after {
        Some(Then::Clamp(bias, lo, hi)) => Some((bias, TileAct::Clamp(lo, hi))),
        Some(Then::HardSwish(bias)) => Some((bias, TileAct::HardSwish)),
        _ => None,
    };
    match clamp {
        Some((Bias::Rows(b), _)) => assert!(b.len() >= m),
        Some((Bias::Cols(b), _)) => assert!(b.len() >= n),
        _ => {}
    }
    let job = Job {
        isa,
        m,
        k,
        a,
        b,
        out,
        ldc,
        alpha,
        acc,
        row0: 0,
        clamp,
        pack_rows,
    };
    let blocks = m.div_ceil(MC);
    if !matches!(b, BSrc::Strided(_)) {
        // Nothing to pack per call. Each task takes a range of row tiles and a
        // range of column panels through every k block, so that a product makes
        // one parallel region (not one per k block and column block, whose
        // fork-join would cost more than thin products take); within a task,
        // each block of B is reused across its row blocks while in cache.
        let (row_tiles, panels) = (m.div_ceil(MR), n.div_ceil(NR));
        let (rg, cg) = match after {
            Some(Then::Rows(_)) => ((2 * threads).min(row_tiles), 1),
            _ => task_grid(threads, (row_tiles, panels), (m, n)),
        };
        let task = |t: usize| {
            let (ri, ci) = (t / cg, t % cg);
            let (r0, r1) = (ri * row_tiles / rg, (ri + 1) * row_tiles / rg);
            let (first, last) = (ci * panels / cg, (ci + 1) * panels / cg);
            if r0 == r1 {
                return;
            }
            job.run(n, r0..r1, first..last);
            match after {
                Some(Then::Rows(after)) => {
                    let rows = r0 * MR..(r1 * MR).min(m);
                    let len = (rows.len() - 1) * job.ldc + n;
                    // SAFETY: these rows of C are finished (their tiles ran on
                    // this thread, above) and no other task writes them: row
                    // tasks own whole rows when `after` is `Rows`.
                    let done = unsafe {
                        std::slice::from_raw_parts(job.out.0.add(rows.start * job.ldc), len)
                    };
                    after(rows, done);
                }
                Some(Then::Parts(after)) => {
                    let cols = first * NR..(last * NR).min(n);
                    for r in r0 * MR..(r1 * MR).min(m) {
                        // SAFETY: this task computed C's rows r0·MR.. in
                        // columns `cols` (above), no other task touches them,
                        // and sgemm's caller checked that row r holds n values.
                        let part = unsafe {
                            std::slice::from_raw_parts_mut(
                                job.out.0.add(r * job.ldc + cols.start),
                                cols.len(),
                            )
                        };
                        after(r, cols.start, part);
                    }
                }
                Some(Then::Clamp(..) | Then::HardSwish(_)) | None => {}
            }
        };
        crate::parallel::for_each(threads, rg * cg, task);
        return;
    }
    for jc in (0..n).step_by(NC) {
        let nc = NC.min(n - jc);
        let panels = nc.div_ceil(NR);
        // Enough tasks for every thread when there are few row blocks.
        let groups = if threads > 1 {
            panels.min((4 * threads).div_ceil(blocks))
        } else {
            1
        };
        let per_group = panels.div_ceil(groups);
        for pc in (0..k).step_by(kc_step(k)) {
            let kc = kc_step(k).min(k - pc);
            let BSrc::Strided(bs) = b else {
                unreachable!("other operands returned above")
            };
            // Packed by every thread: serial packing would cap the speed-up of
            // products with wide B.
            pack_b_panels(bs, pc, kc, jc, nc, &mut bpack, threads > 1);
            let bp = Some((&bpack[..], 0));
            let task = |t: usize| {
                let (bi, gi) = (t / groups, t % groups);
                let (first, last) = (gi * per_group, panels.min((gi + 1) * per_group));
                job.tiles(bi, 0..BLOCK_TILES, (jc, nc), (pc, kc), bp, first..last);
            };
            crate::parallel::for_each(threads, blocks * groups, task);
        }
    }
}

/// `c = a · b` for the rows of row tiles `tiles` (MR rows each) of a packed
/// A, on this thread, with B's rows read in place (`BSrc::Rows`, `n` values
/// each); `c` holds those rows only, `ldc` apart, from A's row `tiles.start·MR`.
/// A Winograd convolution's task multiplies its share of output channels so.
pub(crate) fn sgemm_packed_rows(
    a: &PackedA,
    tiles: std::ops::Range<usize>,
    (data, rows): (&[f32], &[usize]),
    n: usize,
    c: &mut [f32],
    ldc: usize,
) {
    let (m, k) = a.dims();
    assert!(available() && rows.len() == k && rows.iter().all(|&r| r + n <= data.len()));
    assert!(tiles.start <= tiles.end && tiles.end <= m.div_ceil(MR) && ldc >= n);
    let job = Job {
        isa: isa().expect("asserted available()"),
        m,
        k,
        a: ASrc::Packed(a),
        b: BSrc::Rows(data, rows),
        out: Out(c.as_mut_ptr(), c.len()),
        ldc,
        alpha: 1.0,
        acc: false,
        row0: tiles.start * MR,
        clamp: None,
        pack_rows: false,
    };
    job.run(n, tiles, 0..n.div_ceil(NR));
}

/// One product's operands, shared by its tasks.
struct Job<'a> {
    isa: Isa,
    m: usize,
    k: usize,
    a: ASrc<'a>,
    b: BSrc<'a>,
    out: Out,
    ldc: usize,
    alpha: f32,
    acc: bool,
    /// The row of C at `out` (C's rows before it belong to someone else).
    row0: usize,
    /// `Then::Clamp` or `Then::HardSwish`: the bias and what follows it.
    clamp: Option<(Bias<'a>, TileAct)>,
    /// Whether tasks pack B's rows (see `PACK_ROWS_DEPTH`).
    pack_rows: bool,
}

impl Job<'_> {
    /// Row tiles `tiles` over column panels `panels`, through every k block,
    /// for a B not packed up front by the call: packed already, or rows read
    /// in place, or rows this task packs a k block at a time (`pack_rows`).
    /// Each block of B is reused across the row blocks while in cache.
    fn run(&self, n: usize, tiles: std::ops::Range<usize>, panels: std::ops::Range<usize>) {
        if !self.pack_rows {
            return self.blocks(n, tiles, panels, &mut []);
        }
        // Room for a k block of the task's panels of one column block.
        let most = panels.len().min(NC / NR) * NR * kc_step(self.k);
        super::with_scratch(most, |own: &mut [f32]| self.blocks(n, tiles, panels, own))
    }

    /// `run`, with `own` holding a k block of the task's panels when B's rows
    /// are packed.
    fn blocks(
        &self,
        n: usize,
        std::ops::Range { start: r0, end: r1 }: std::ops::Range<usize>,
        panels: std::ops::Range<usize>,
        own: &mut [f32],
    ) {
        let k = self.k;
        for jc in (0..n).step_by(NC) {
            let nc = NC.min(n - jc);
            let (lo, hi) = (jc / NR, (jc + nc).div_ceil(NR));
            let (f, l) = (panels.start.max(lo), panels.end.min(hi));
            if f >= l {
                continue;
            }
            for pc in (0..k).step_by(kc_step(k)) {
                let kc = kc_step(k).min(k - pc);
                let bp = match self.b {
                    BSrc::Packed(p) => Some((p.block(jc, nc, pc, kc), 0)),
                    BSrc::Rows(data, rows) if self.pack_rows => {
                        let own = &mut own[..kc * (l - f) * NR];
                        for (j, panel) in own.chunks_exact_mut(kc * NR).enumerate() {
                            pack_rows_panel(data, &rows[pc..pc + kc], (f + j) * NR, n, panel);
                        }
                        Some((&own[..], f - lo))
                    }
                    _ => None,
                };
                for bi in r0 / BLOCK_TILES..r1.div_ceil(BLOCK_TILES) {
                    let base = bi * BLOCK_TILES;
                    let tiles = r0.max(base) - base..r1.min(base + BLOCK_TILES) - base;
                    self.tiles(bi, tiles, (jc, nc), (pc, kc), bp, f - lo..l - lo);
                }
            }
        }
    }

    /// The tiles of row block `bi` in column panels `panels` of column block
    /// (jc, nc), over k block (pc, kc); `bp` is that block of B packed from
    /// its given panel on (the block's panels before it are not there), unless
    /// B is read in place.
    #[allow(clippy::too_many_arguments)]
    fn tiles(
        &self,
        bi: usize,
        row_tiles: std::ops::Range<usize>,
        (jc, nc): (usize, usize),
        (pc, kc): (usize, usize),
        bp: Option<(&[f32], usize)>,
        panels: std::ops::Range<usize>,
    ) {
        let (a, b, alpha, ldc) = (self.a, self.b, self.alpha, self.ldc);
        let (ic, mc) = (bi * MC, MC.min(self.m - bi * MC));
        // The tiles' rows within the block.
        let (r0, r1) = (row_tiles.start * MR, (row_tiles.end * MR).min(mc));
        if panels.is_empty() || r0 >= r1 {
            return;
        }
        let load_c = self.acc || pc > 0;
        let clamp = self.clamp.filter(|_| pc + kc == self.k);
        debug_assert!(pc + kc <= self.k);
        // A row-major A is read in place (as MLAS does): packing it would
        // cost a pass over A for every product.
        let mut owned = Vec::new();
        let apack = match a {
            ASrc::Strided(a) if a.cs == 1 => None,
            ASrc::Strided(a) => {
                // Packed from row r0 on: panel ir sits at (ir - r0)·kc.
                owned.resize(kc * (r1 - r0).next_multiple_of(MR), 0f32);
                pack_a(a, alpha, ic + r0, r1 - r0, pc, kc, &mut owned);
                Some(&owned[..])
            }
            ASrc::Packed(p) => Some(&p.block(ic, mc, pc, kc)[r0 * kc..]),
        };
        for panel in panels {
            let jr = panel * NR;
            for ir in (r0..r1).step_by(MR) {
                let tile = Tile {
                    rows: MR.min(mc - ir),
                    cols: NR.min(nc - jr),
                    offset: (ic + ir - self.row0) * ldc + jc + jr,
                };
                let bpanel = match (bp, b) {
                    (Some((bp, from)), _) => {
                        BPanel::Packed(&bp[(jr - from * NR) * kc..][..NR * kc])
                    }
                    (None, BSrc::Rows(data, rows)) => {
                        BPanel::Rows(data, &rows[pc..pc + kc], jc + jr, ir == r0)
                    }
                    (None, _) => unreachable!("only rows are read in place"),
                };
                let apanel = match (apack, a) {
                    (Some(ap), _) => APanel::Packed(&ap[(ir - r0) * kc..][..MR * kc]),
                    (None, ASrc::Strided(a)) => {
                        let at = (ic + ir) * a.rs + pc;
                        let len = (tile.rows - 1) * a.rs + kc;
                        APanel::Rows(&a.data[at..at + len], a.rs, alpha)
                    }
                    (None, ASrc::Packed(_)) => unreachable!("packed A is Some"),
                };
                let ep = clamp.map(|(bias, act)| {
                    let bias = match bias {
                        Bias::Rows(b) => Bias::Rows(&b[ic + ir..]),
                        Bias::Cols(b) => Bias::Cols(&b[jc + jr..]),
                        Bias::None => Bias::None,
                    };
                    (bias, act)
                });
                // SAFETY: the CPU runs `isa`'s kernel (the caller of sgemm
                // checked available()); the panels hold kc·MR and kc·NR values
                // (a row panel its tile's rows); rows of B hold n values past
                // their offsets (asserted by sgemm); the kernel checks the tile
                // against c's length; tasks write disjoint tiles (their row
                // blocks or panels differ).
                unsafe { self.kernel(kc, apanel, bpanel, tile, load_c, ep) };
            }
        }
    }

    /// One tile on the kernel of `self.isa`, sized to the tile, then `ep`
    /// (`Then::Clamp` or `Then::HardSwish`, with the tile's bias) on it: the
    /// AVX2 kernel applies it to its registers as it stores them (a second
    /// pass over the tile took a quarter of a 1×1 convolution with 16 input
    /// channels), the AVX-512 one on the tile just stored.
    ///
    /// # Safety
    /// As for the kernels: the CPU runs `self.isa`; the panels hold kc steps;
    /// the tile lies inside C; `ep`'s bias holds the tile's rows or columns.
    #[cfg(target_arch = "x86_64")]
    unsafe fn kernel(
        &self,
        kc: usize,
        a: APanel<'_>,
        b: BPanel<'_>,
        t: Tile,
        load_c: bool,
        ep: Option<(Bias<'_>, TileAct)>,
    ) {
        let (out, ldc) = (self.out, self.ldc);
        // SAFETY: the caller's contract.
        unsafe {
            match (self.isa, a, t.rows, t.cols) {
                (Isa::Avx2, _, 1..=4, 1..=16) => {
                    return avx2::kernel::<4, 1>(kc, a, b, out, ldc, t, load_c, ep)
                }
                (Isa::Avx2, _, 5..=8, 1..=16) => {
                    return avx2::kernel::<8, 1>(kc, a, b, out, ldc, t, load_c, ep)
                }
                (Isa::Avx2, _, _, 1..=16) => {
                    return avx2::kernel::<MR, 1>(kc, a, b, out, ldc, t, load_c, ep)
                }
                (Isa::Avx2, _, 1..=4, _) => {
                    return avx2::kernel::<4, 2>(kc, a, b, out, ldc, t, load_c, ep)
                }
                (Isa::Avx2, _, 5..=8, _) => {
                    return avx2::kernel::<8, 2>(kc, a, b, out, ldc, t, load_c, ep)
                }
                (Isa::Avx2, ..) => return avx2::kernel::<MR, 2>(kc, a, b, out, ldc, t, load_c, ep),
                // A few columns past a whole vector: as columns of A.
                (Isa::Avx512, APanel::Packed(ap), _, cols) if columns::takes(cols) => {
                    columns::tile(kc, ap, b, out, ldc, t, load_c)
                }
                (Isa::Avx512, _, 1..=4, 1..=16) => {
                    avx512::kernel::<4, 1>(kc, a, b, out, ldc, t, load_c)
                }
                (Isa::Avx512, _, 5..=8, 1..=16) => {
                    avx512::kernel::<8, 1>(kc, a, b, out, ldc, t, load_c)
                }
                (Isa::Avx512, _, _, 1..=16) => {
                    avx512::kernel::<MR, 1>(kc, a, b, out, ldc, t, load_c)
                }
                (Isa::Avx512, _, 1..=4, _) => avx512::kernel::<4, 2>(kc, a, b, out, ldc, t, load_c),
                (Isa::Avx512, _, 5..=8, _) => avx512::kernel::<8, 2>(kc, a, b, out, ldc, t, load_c),
                (Isa::Avx512, ..) => avx512::kernel::<MR, 2>(kc, a, b, out, ldc, t, load_c),
            }
            if let Some((bias, act)) = ep {
                avx512::clamp_tile(out, ldc, t, bias, act);
            }
        }
    }

    #[cfg(not(target_arch = "x86_64"))]
    #[allow(clippy::too_many_arguments)]
    unsafe fn kernel(
        &self,
        _: usize,
        _: APanel<'_>,
        _: BPanel<'_>,
        _: Tile,
        _: bool,
        _: Option<(Bias<'_>, TileAct)>,
    ) {
        unreachable!("available() is false off x86_64")
    }
}

/// C, shared by the tasks that write its disjoint tiles.
#[derive(Clone, Copy)]
pub(super) struct Out(pub *mut f32, pub usize);
// SAFETY: tasks write disjoint tiles of the one exclusively borrowed C.
unsafe impl Send for Out {}
// SAFETY: as above.
unsafe impl Sync for Out {}

/// Panels of 32 columns, k-major: panel j holds b[pc + p][jc + 32j + q] at
/// `j·kc·32 + p·32 + q`, zero past the last column.
fn pack_b(b: Strided<'_>, pc: usize, kc: usize, jc: usize, nc: usize, out: &mut [f32]) {
    pack_b_panels(b, pc, kc, jc, nc, out, false)
}

/// `pack_b`, the panels split over the current pool when `parallel`.
fn pack_b_panels(
    b: Strided<'_>,
    pc: usize,
    kc: usize,
    jc: usize,
    nc: usize,
    out: &mut [f32],
    parallel: bool,
) {
    let panels = nc.div_ceil(NR);
    let out = &mut out[..panels * kc * NR];
    let threads = if parallel { panels } else { 1 };
    crate::parallel::for_each_chunk(threads, out, kc * NR, |j, panel| {
        pack_b_panel(b, pc, jc, nc, j, panel)
    });
}

/// Panel `j` of `pack_b`. Written per source line, so that the reads run along
/// contiguous memory whichever way B is laid out (a transposed B is read row by
/// row of its transpose, not gathered).
fn pack_b_panel(b: Strided<'_>, pc: usize, jc: usize, nc: usize, j: usize, panel: &mut [f32]) {
    let c0 = jc + j * NR;
    let cols = NR.min(jc + nc - c0);
    let kc = panel.len() / NR;
    if b.cs == 1 && cols == NR {
        for (p, row) in panel.chunks_exact_mut(NR).enumerate() {
            let base = (pc + p) * b.rs + c0;
            let src: &[f32; NR] = b.data[base..base + NR].try_into().unwrap();
            let row: &mut [f32; NR] = row.try_into().unwrap();
            *row = *src;
        }
    } else if b.cs == 1 {
        for (p, row) in panel.chunks_exact_mut(NR).enumerate() {
            let base = (pc + p) * b.rs + c0;
            row[..cols].copy_from_slice(&b.data[base..base + cols]);
            row[cols..].fill(0.0);
        }
    } else if b.rs == 1 {
        for q in 0..NR {
            if q < cols {
                let src = &b.data[(c0 + q) * b.cs + pc..][..kc];
                for (row, &v) in panel.chunks_exact_mut(NR).zip(src) {
                    row[q] = v;
                }
            } else {
                panel.chunks_exact_mut(NR).for_each(|row| row[q] = 0.0);
            }
        }
    } else {
        for (p, row) in panel.chunks_exact_mut(NR).enumerate() {
            let base = (pc + p) * b.rs + c0 * b.cs;
            for (q, v) in row[..cols].iter_mut().enumerate() {
                *v = b.data[base + q * b.cs];
            }
            row[cols..].fill(0.0);
        }
    }
}

/// The panel of a `BSrc::Rows` operand (`n` values per row) from column
/// `c0`, over the rows `rows`: as `pack_b_panel` lays it out.
fn pack_rows_panel(data: &[f32], rows: &[usize], c0: usize, n: usize, panel: &mut [f32]) {
    let cols = NR.min(n - c0);
    for (row, &r) in panel.chunks_exact_mut(NR).zip(rows) {
        row[..cols].copy_from_slice(&data[r + c0..][..cols]);
        row[cols..].fill(0.0);
    }
}

/// Panels of 12 rows, k-major and scaled by alpha: panel i holds
/// alpha·a[ic + 12i + r][pc + p] at `i·kc·12 + p·12 + r`, zero past the last row.
/// Like `pack_b_panel`, the reads follow A's contiguous axis.
fn pack_a(a: Strided<'_>, alpha: f32, ic: usize, mc: usize, pc: usize, kc: usize, out: &mut [f32]) {
    for (i, panel) in out.chunks_mut(kc * MR).enumerate() {
        let r0 = ic + i * MR;
        let rows = MR.min(ic + mc - r0);
        if a.rs == 1 && rows == MR {
            for (p, dst) in panel.chunks_exact_mut(MR).enumerate() {
                let src = &a.data[r0 + (pc + p) * a.cs..][..MR];
                dst.iter_mut().zip(src).for_each(|(d, &v)| *d = alpha * v);
            }
            continue;
        }
        for r in 0..MR {
            if r >= rows {
                panel.chunks_exact_mut(MR).for_each(|dst| dst[r] = 0.0);
            } else if a.cs == 1 {
                let src = &a.data[(r0 + r) * a.rs + pc..][..kc];
                for (dst, &v) in panel.chunks_exact_mut(MR).zip(src) {
                    dst[r] = alpha * v;
                }
            } else {
                let base = (r0 + r) * a.rs + pc * a.cs;
                for (p, dst) in panel.chunks_exact_mut(MR).enumerate() {
                    dst[r] = alpha * a.data[base + p * a.cs];
                }
            }
        }
    }
}

/// Where a tile of C lies in its row block.
#[derive(Clone, Copy)]
pub(super) struct Tile {
    pub rows: usize,
    pub cols: usize,
    pub offset: usize,
}

/// The A side of one tile: a packed panel (element (r, p) at p·MR + r, alpha
/// applied), or the tile's rows read in place, `lda` apart, scaled by alpha
/// when stored. Rows past the tile's last repeat it, and are not stored.
#[derive(Clone, Copy)]
pub(super) enum APanel<'a> {
    Packed(&'a [f32]),
    Rows(&'a [f32], usize, f32),
}

/// The B side of one tile: a packed panel (row p at p·NR), or a `BSrc::Rows`
/// operand read in place (row p at `data[rows[p] + col..]`, the tile's columns
/// loaded under a mask), with whether this tile is the first of its panel
/// (the one that fetches the panel from memory).
#[derive(Clone, Copy)]
pub(super) enum BPanel<'a> {
    Packed(&'a [f32]),
    Rows(&'a [f32], &'a [usize], usize, bool),
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::cell::Cell;

    thread_local! {
        /// The kernel `sgemm_then` calls on this thread use, in place of the
        /// CPU's best.
        pub(super) static FORCED: Cell<Option<Isa>> = const { Cell::new(None) };
    }

    /// Runs `test` on every kernel this CPU runs (an AVX-512 CPU runs the
    /// AVX2 one as well), or says that it runs none.
    fn on_each_isa(test: fn()) {
        let mut isas: Vec<Isa> = [detect(), detect_avx2()].into_iter().flatten().collect();
        isas.dedup();
        if isas.is_empty() {
            eprintln!("skipping: no AVX2 or AVX-512 here");
        }
        for isa in isas {
            FORCED.with(|f| f.set(Some(isa)));
            test();
            FORCED.with(|f| f.set(None));
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn naive(
        m: usize,
        n: usize,
        k: usize,
        a: Strided<'_>,
        b: Strided<'_>,
        alpha: f32,
        c0: &[f32],
        acc: bool,
    ) -> Vec<f32> {
        let mut c = vec![0f32; m * n];
        for i in 0..m {
            for j in 0..n {
                let mut s = 0f64;
                for p in 0..k {
                    s += a.data[i * a.rs + p * a.cs] as f64 * b.data[p * b.rs + j * b.cs] as f64;
                }
                c[i * n + j] = alpha * s as f32 + if acc { c0[i * n + j] } else { 0.0 };
            }
        }
        c
    }

    #[test]
    fn matches_a_float64_reference_on_edges_strides_and_accumulation() {
        on_each_isa(matches_a_float64_reference_on_edges_strides_and_accumulation_on);
    }

    fn matches_a_float64_reference_on_edges_strides_and_accumulation_on() {
        let mut rnd = crate::testing::noise(7);
        for &(m, n, k) in &[
            (1, 1, 1),
            (13, 33, 7),
            (12, 32, 256),
            (130, 70, 300),
            (5, 2100, 9),
            (200, 49, 600),
            // Columns past a whole vector, and a product of two columns.
            (9, 19, 50),
            (25, 2, 70),
        ] {
            for (ta, tb, acc) in [
                (false, false, false),
                (true, false, true),
                (false, true, false),
                (true, true, true),
            ] {
                let av: Vec<f32> = (0..m * k).map(|_| rnd()).collect();
                let bv: Vec<f32> = (0..k * n).map(|_| rnd()).collect();
                let a = if ta {
                    Strided {
                        data: &av,
                        rs: 1,
                        cs: m,
                    }
                } else {
                    Strided {
                        data: &av,
                        rs: k,
                        cs: 1,
                    }
                };
                let b = if tb {
                    Strided {
                        data: &bv,
                        rs: 1,
                        cs: k,
                    }
                } else {
                    Strided {
                        data: &bv,
                        rs: n,
                        cs: 1,
                    }
                };
                let c0: Vec<f32> = (0..m * n).map(|_| rnd()).collect();
                let want = naive(m, n, k, a, b, 0.75, &c0, acc);
                let packed = PackedB::new(b, k, n);
                // A packed ahead is unscaled: scale its copy of the data instead.
                let scaled: Vec<f32> = av.iter().map(|v| v * 0.75).collect();
                let pa = PackedA::new(Strided { data: &scaled, ..a }, m, k);
                for (threads, asrc, bsrc, alpha) in [
                    (1, ASrc::Strided(a), BSrc::Strided(b), 0.75),
                    (3, ASrc::Strided(a), BSrc::Strided(b), 0.75),
                    (1, ASrc::Strided(a), BSrc::Packed(&packed), 0.75),
                    (3, ASrc::Strided(a), BSrc::Packed(&packed), 0.75),
                    (1, ASrc::Packed(&pa), BSrc::Strided(b), 1.0),
                    (3, ASrc::Packed(&pa), BSrc::Packed(&packed), 1.0),
                ] {
                    let mut c = c0.clone();
                    sgemm((m, n, k), asrc, bsrc, &mut c, n, alpha, acc, threads);
                    for (i, (g, w)) in c.iter().zip(&want).enumerate() {
                        assert!(
                            (g - w).abs() <= 1e-4 * (1.0 + w.abs()) * (k as f32).sqrt(),
                            "{m}x{n}x{k} ta={ta} tb={tb} acc={acc} at {i}: {g} vs {w}"
                        );
                    }
                }
            }
        }
    }

    #[test]
    fn epilogues_see_each_finished_part_once() {
        on_each_isa(epilogues_see_each_finished_part_once_on);
    }

    fn epilogues_see_each_finished_part_once_on() {
        let mut rnd = crate::testing::noise(11);
        // Depths of one and of two k blocks (the clamp goes on the last).
        for &(m, n, k) in &[(13, 70, 9), (64, 3025, 16), (30, 200, 300)] {
            let av: Vec<f32> = (0..m * k).map(|_| rnd()).collect();
            let bv: Vec<f32> = (0..k * n).map(|_| rnd()).collect();
            let bias: Vec<f32> = (0..m).map(|_| rnd()).collect();
            let col_bias: Vec<f32> = (0..n).map(|_| rnd()).collect();
            let a = Strided {
                data: &av,
                rs: k,
                cs: 1,
            };
            let b = Strided {
                data: &bv,
                rs: n,
                cs: 1,
            };
            let plain = naive(m, n, k, a, b, 1.0, &vec![0.0; m * n], false);
            let rows: Vec<usize> = (0..k).map(|p| p * n).collect();
            let pa = PackedA::new(a, m, k);
            let pb = PackedB::new(b, k, n);
            for threads in [1, 3] {
                // Clamp: bias per row, then clamped to [-0.1, 0.2].
                let mut c = vec![f32::NAN; m * n];
                let then = Some(Then::Clamp(Bias::Rows(&bias), -0.1, 0.2));
                let (asrc, bsrc) = (ASrc::Packed(&pa), BSrc::Rows(&bv, &rows));
                sgemm_then((m, n, k), asrc, bsrc, &mut c, n, 1.0, false, threads, then);
                for (i, (g, p)) in c.iter().zip(&plain).enumerate() {
                    let w = (p + bias[i / n]).clamp(-0.1, 0.2);
                    assert!(
                        (g - w).abs() <= 1e-4,
                        "clamp {m}x{n}x{k} at {i}: {g} vs {w}"
                    );
                }
                // Bias per column, unclamped, with B packed up front.
                let mut c = vec![f32::NAN; m * n];
                let then = Some(Then::Clamp(
                    Bias::Cols(&col_bias),
                    f32::NEG_INFINITY,
                    f32::INFINITY,
                ));
                let (asrc, bsrc) = (ASrc::Strided(a), BSrc::Packed(&pb));
                sgemm_then((m, n, k), asrc, bsrc, &mut c, n, 1.0, false, threads, then);
                for (i, (g, p)) in c.iter().zip(&plain).enumerate() {
                    let w = p + col_bias[i % n];
                    assert!((g - w).abs() <= 1e-4, "cols {m}x{n}x{k} at {i}: {g} vs {w}");
                }
                // HardSwish after a bias per row, B packed up front.
                let mut c = vec![f32::NAN; m * n];
                let then = Some(Then::HardSwish(Bias::Rows(&bias)));
                let (asrc, bsrc) = (ASrc::Packed(&pa), BSrc::Packed(&pb));
                sgemm_then((m, n, k), asrc, bsrc, &mut c, n, 1.0, false, threads, then);
                for (i, (g, p)) in c.iter().zip(&plain).enumerate() {
                    let x = (p + bias[i / n]) as f64;
                    let w = x * (x / 6.0 + 0.5).clamp(0.0, 1.0);
                    let ok = (*g as f64 - w).abs() <= 1e-4;
                    assert!(ok, "hardswish {m}x{n}x{k} at {i}: {g} vs {w}");
                }
                // Parts: every element handed over exactly once, finished.
                let seen: Vec<std::sync::atomic::AtomicU32> =
                    (0..m * n).map(|_| Default::default()).collect();
                let part = |r: usize, j: usize, o: &mut [f32]| {
                    for (q, v) in o.iter_mut().enumerate() {
                        let at = r * n + j + q;
                        assert!((*v - plain[at]).abs() <= 1e-4, "part {m}x{n}x{k} at {at}");
                        seen[at].fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                        *v = -*v;
                    }
                };
                let mut c = vec![f32::NAN; m * n];
                let (asrc, bsrc) = (ASrc::Strided(a), BSrc::Rows(&bv, &rows));
                let then = Some(Then::Parts(&part));
                sgemm_then((m, n, k), asrc, bsrc, &mut c, n, 1.0, false, threads, then);
                assert!(seen
                    .iter()
                    .all(|s| s.load(std::sync::atomic::Ordering::Relaxed) == 1));
                assert!(c.iter().zip(&plain).all(|(g, p)| (g + p).abs() <= 1e-4));
            }
        }
    }

    #[test]
    fn rows_packed_by_tasks_or_read_in_place_match_the_reference() {
        on_each_isa(rows_packed_by_tasks_or_read_in_place_match_the_reference_on);
    }

    fn rows_packed_by_tasks_or_read_in_place_match_the_reference_on() {
        let mut rnd = crate::testing::noise(13);
        // Disjoint rows, deep enough to be packed (over three k blocks and two
        // column blocks, rows out of order and apart), and overlapping rows
        // (shifted runs, read in place).
        let (m, n, k) = (30, NC + 100, 3 * KC - 40);
        let gap = n + 3;
        let data: Vec<f32> = (0..k * gap + n).map(|_| rnd()).collect();
        let disjoint: Vec<usize> = (0..k).map(|p| p * gap).collect();
        let overlapping: Vec<usize> = (0..k).map(|p| p % 7).collect();
        let av: Vec<f32> = (0..m * k).map(|_| rnd()).collect();
        let a = Strided {
            data: &av,
            rs: k,
            cs: 1,
        };
        let pa = PackedA::new(a, m, k);
        for rows in [&disjoint, &overlapping] {
            let dense: Vec<f32> = rows.iter().flat_map(|&r| data[r..r + n].to_vec()).collect();
            let b = Strided {
                data: &dense,
                rs: n,
                cs: 1,
            };
            let want = naive(m, n, k, a, b, 1.0, &vec![0.0; m * n], false);
            for threads in [1, 3] {
                let mut c = vec![f32::NAN; m * n];
                let (asrc, bsrc) = (ASrc::Packed(&pa), BSrc::Rows(&data, rows));
                sgemm((m, n, k), asrc, bsrc, &mut c, n, 1.0, false, threads);
                for (i, (g, w)) in c.iter().zip(&want).enumerate() {
                    assert!(
                        (g - w).abs() <= 1e-4 * (1.0 + w.abs()) * (k as f32).sqrt(),
                        "rows {} at {i}: {g} vs {w}",
                        rows[1]
                    );
                }
            }
        }
    }
}
