//! Winograd F(4×4, 3×3): 3×3 stride-1 convolutions as 36 smaller GEMMs.
//!
//! Each 4×4 output tile is Aᵀ[(G g Gᵀ) ⊙ (Bᵀ d B)]A, where d is the 6×6 input
//! patch under the tile and g a 3×3 filter (Lavin and Gray's construction on
//! the points 0, ±1, ±2). Summed over the input channels, the elementwise
//! products become one GEMM per position ξ of the 6×6 transformed tile:
//! M_ξ (output channels × tiles) = U_ξ (output × input channels) · V_ξ (input
//! channels × tiles). That is 36 multiplications for 16 outputs where a
//! direct convolution does 144, for transforms that cost a few additions per
//! value. U is computed and packed once, at session creation; it is 4× the
//! weights, so `conv` uses it only where the layer's planes hold enough tiles
//! to amortize it (see `worth`).
//!
//! The work runs in blocks of at most 32 tiles (one column panel of the GEMM
//! kernel): a task transforms its block's input for every channel, multiplies
//! for its share of the output channels, and transforms the products back
//! into the output with the bias, residual and activation, all while they
//! are in the core's cache.

use std::ops::Range;

#[cfg(target_arch = "x86_64")]
use std::arch::x86_64::*;

use super::sgemm::{self, PackedA, Strided, MR};
use super::window::Geom;
use super::with_scratch;
use crate::ops::fused::activation::{add_then_apply, Act};
use crate::parallel::{for_each, Disjoint};

/// Positions of a transformed 6×6 tile.
pub(super) const POS: usize = 36;
/// Tiles per block: one column panel of the GEMM kernel.
pub(super) const BLOCK: usize = 32;
/// Output channels multiplied per pass (a multiple of MR), so that one pass's
/// products (36 × CHUNK × BLOCK floats) stay in L2 next to the transformed
/// input.
pub(super) const CHUNK: usize = 8 * MR;

/// G, the 6×3 filter transform.
const G: [[f64; 3]; 6] = [
    [0.25, 0.0, 0.0],
    [-1.0 / 6.0, -1.0 / 6.0, -1.0 / 6.0],
    [-1.0 / 6.0, 1.0 / 6.0, -1.0 / 6.0],
    [1.0 / 24.0, 1.0 / 12.0, 1.0 / 6.0],
    [1.0 / 24.0, -1.0 / 12.0, 1.0 / 6.0],
    [0.0, 0.0, 1.0],
];

/// The transformed filters U_ξ of one convolution, each packed as the GEMM's A.
pub(crate) struct Weights {
    m: usize,
    pub(super) c: usize,
    u: Vec<PackedA>,
    /// Where row p of position ξ's B (input channel p) starts in a block's
    /// transformed input, at `ξ·C + p`.
    rows: Vec<usize>,
}

impl Weights {
    /// U from float32 weights of shape [m, c, 3, 3]; None where the GEMM
    /// kernel does not run.
    pub fn new(w: &[f32], m: usize, c: usize) -> Option<Weights> {
        if !sgemm::available() || m == 0 || c == 0 || w.len() != m * c * 9 {
            return None;
        }
        let mut u = vec![vec![0f32; m * c]; POS];
        for (mc, g) in w.chunks_exact(9).enumerate() {
            // G g, then (G g) Gᵀ, in f64 so that U rounds once.
            let gg: [[f64; 3]; 6] = std::array::from_fn(|i| {
                std::array::from_fn(|b| (0..3).map(|a| G[i][a] * g[a * 3 + b] as f64).sum())
            });
            for (i, row) in gg.iter().enumerate() {
                for (k, gk) in G.iter().enumerate() {
                    u[i * 6 + k][mc] = (0..3).map(|b| row[b] * gk[b]).sum::<f64>() as f32;
                }
            }
        }
        let u = u
            .iter()
            .map(|ux| {
                PackedA::new(
                    Strided {
                        data: ux,
                        rs: c,
                        cs: 1,
                    },
                    m,
                    c,
                )
            })
            .collect();
        let rows = (0..POS * c)
            .map(|r| ((r % c) * POS + r / c) * BLOCK)
            .collect();
        Some(Weights { m, c, u, rows })
    }
}

/// Whether a one-group convolution of this geometry has the shape this
/// computes: 2-D, 3×3, stride and dilation 1 (any padding).
pub(crate) fn fits(g: &Geom) -> bool {
    g.rank() == 2 && g.kernel == [3, 3] && g.strides == [1, 1] && g.dilations == [1, 1]
}

/// Whether Winograd beats the shifted-row GEMM (`conv_shift`) on `c` → `m`
/// channels over `oh`×`ow` outputs. Planes of few tiles pay for U's four-fold
/// size in memory traffic (a 7×7 plane has four tiles for 36 GEMMs of 512×512
/// weights), and thin channel counts leave the transforms the larger part.
/// Sixteen tiles (planes of 13² to 16², one vector of four-tile pieces) win
/// even where U is far larger than L2: resnet18's 256 → 256 at 14×14 (U 9.4
/// MB) ran in 0.53× the time, squeezenet's 64 → 256 at 13×13 in 0.66×.
pub(crate) fn worth(c: usize, m: usize, (oh, ow): (usize, usize)) -> bool {
    let tiles = oh.div_ceil(4) * ow.div_ceil(4);
    c >= 8 && m >= 8 && tiles >= 16 && c * m <= 256 * 256
}

/// The convolution of one image `x` (C planes) into `out` (M planes) with
/// bias, residual `z` and activation.
#[allow(clippy::too_many_arguments)]
pub(crate) fn conv(
    u: &Weights,
    g: &Geom,
    x: &[f32],
    bias: Option<&[f32]>,
    out: &mut [f32],
    z: Option<&[f32]>,
    act: Option<Act>,
    threads: usize,
) {
    let (oh, ow) = (g.output[0], g.output[1]);
    assert!(fits(g) && x.len() == u.c * g.input[0] * g.input[1] && out.len() == u.m * oh * ow);
    let (th, tw) = (oh.div_ceil(4), ow.div_ceil(4));
    // Blocks of whole tile rows, cut into pieces of at most 4 tiles (a
    // quarter vector): eight pieces to a block.
    let bc = tw.min(BLOCK);
    let nbx = tw.div_ceil(bc);
    let nby = th.div_ceil((PIECES / Block::pieces_per_row(bc)).min(th));
    let blocks = nby * nbx;
    // Few blocks for the threads, and uneven: split each block's output
    // channels too, into as few groups as make the tasks a multiple of the
    // threads (each group transforms the block's input again: squeezenet's
    // 13×13 layers, one block each, ran 13-25% faster at 2 threads in two
    // groups than in six).
    let row_tiles = u.m.div_ceil(MR);
    let groups = if threads <= 1 || blocks >= 3 * threads {
        1
    } else {
        (threads / gcd(blocks, threads)).min(row_tiles)
    };
    let job = Job {
        u,
        g,
        x,
        bias,
        out: Disjoint::new(out),
        z,
        act,
    };
    for_each(threads, blocks * groups, |t| {
        let (bi, gi) = (t / groups, t % groups);
        let (by, bx) = (bi / nbx, bi % nbx);
        let block = Block::new(
            by * th / nby..(by + 1) * th / nby,
            bx * tw / nbx..(bx + 1) * tw / nbx,
        );
        job.task(
            &block,
            gi * row_tiles / groups..(gi + 1) * row_tiles / groups,
        );
    });
}

fn gcd(a: usize, b: usize) -> usize {
    if b == 0 {
        a
    } else {
        gcd(b, a % b)
    }
}

/// Pieces of 4 tiles in a block (4 to a vector).
const PIECES: usize = BLOCK / 4;

/// A rectangle of tiles (tile rows `ty`, tile columns `tx`), taken as pieces
/// of at most 4 tiles of one row: piece p fills lanes 4p..4p + 4 of the
/// block's BLOCK columns (the GEMM's columns, the transforms' vector lanes),
/// the lanes past a short piece unused. Pieces are independent (each has its
/// own row and place), so a plane of up to 16² fills one vector with its 16
/// tiles, and a row of 10 tiles takes three pieces, not a half vector and a
/// part of another.
pub(super) struct Block {
    pub(super) ty: Range<usize>,
    pub(super) tx: Range<usize>,
    /// Each piece's tile row and first column (in tiles, from the block's
    /// corner) and length; a piece of length 0 fills the vector's unused
    /// lanes from its first piece's place.
    pieces: [(usize, usize, usize); PIECES],
    pub(super) vectors: usize,
}

impl Block {
    /// The pieces one row of `cols` tiles takes.
    fn pieces_per_row(cols: usize) -> usize {
        cols.div_ceil(4)
    }

    fn new(ty: Range<usize>, tx: Range<usize>) -> Block {
        let mut pieces = [(0, 0, 0); PIECES];
        let per_row = Self::pieces_per_row(tx.len());
        let mut n = 0;
        for r in 0..ty.len() {
            for i in 0..per_row {
                let c = 4 * i;
                pieces[n] = (r, c, tx.len().saturating_sub(c).min(4));
                n += 1;
            }
        }
        let vectors = n.div_ceil(4);
        for i in n..4 * vectors {
            let first = pieces[4 * (i / 4)];
            pieces[i] = (first.0, first.1, 0);
        }
        Block {
            ty,
            tx,
            pieces,
            vectors,
        }
    }

    /// The GEMM's columns: whole vectors.
    fn columns(&self) -> usize {
        16 * self.vectors
    }

    /// The four pieces in vector `v`'s lanes.
    pub(super) fn quarters(&self, v: usize) -> &[(usize, usize, usize)] {
        &self.pieces[4 * v..4 * v + 4]
    }
}

/// One convolution's operands, shared by its tasks.
pub(super) struct Job<'a> {
    pub(super) u: &'a Weights,
    pub(super) g: &'a Geom,
    x: &'a [f32],
    pub(super) bias: Option<&'a [f32]>,
    pub(super) out: Disjoint<'a, f32>,
    z: Option<&'a [f32]>,
    act: Option<Act>,
}

impl Job<'_> {
    /// Block `b` for the output channels of row tiles `tiles`.
    fn task(&self, b: &Block, tiles: Range<usize>) {
        let (c, m) = (self.u.c, self.u.m);
        let (m0, m1) = (tiles.start * MR, (tiles.end * MR).min(m));
        if m0 >= m1 {
            return;
        }
        let n = b.columns();
        let (vlen, plen) = (POS * c * BLOCK, POS * CHUNK * BLOCK);
        with_scratch(vlen + plen + Self::strip_len(b), |s: &mut [f32]| {
            let (v, rest) = s.split_at_mut(vlen);
            let (prod, strip) = rest.split_at_mut(plen);
            // SAFETY: the GEMM kernel's instruction set is present
            // (Weights::new).
            unsafe { self.transform_input(b, strip, v) };
            for cm in (m0..m1).step_by(CHUNK) {
                let ce = (cm + CHUNK).min(m1);
                for (xi, ux) in self.u.u.iter().enumerate() {
                    let rows = &self.u.rows[xi * c..(xi + 1) * c];
                    let tr = cm / MR..ce.div_ceil(MR);
                    let px = &mut prod[xi * BLOCK..];
                    sgemm::sgemm_packed_rows(ux, tr, (v, rows), n, px, POS * BLOCK);
                }
                // SAFETY: as above; this task alone writes channels cm..ce of
                // this block's tiles.
                unsafe { self.transform_output(b, prod, cm..ce) };
            }
        })
    }

    /// The padded input under a block, one channel at a time: its rows and
    /// their stride, wide enough for every piece's 16-float windows read 4
    /// floats apart (rows padded to 8 tiles).
    pub(super) fn strip_dims(b: &Block) -> (usize, usize) {
        (4 * b.ty.len() + 2, 4 * b.tx.len().next_multiple_of(8) + 4)
    }

    fn strip_len(b: &Block) -> usize {
        let (sh, sw) = Self::strip_dims(b);
        sh * sw
    }

    /// Channel `ci`'s input under block `b`, zero-padded into `strip`.
    pub(super) fn pad_strip(&self, b: &Block, ci: usize, strip: &mut [f32]) {
        let g = self.g;
        let (ih, iw) = (g.input[0], g.input[1]);
        let (sh, sw) = Self::strip_dims(b);
        let plane = &self.x[ci * ih * iw..][..ih * iw];
        let y0 = (4 * b.ty.start) as isize - g.pad_begin[0] as isize;
        let x0 = (4 * b.tx.start) as isize - g.pad_begin[1] as isize;
        let j0 = ((-x0).max(0) as usize).min(sw);
        let j1 = ((iw as isize - x0).max(0) as usize).min(sw).max(j0);
        for (r, row) in strip[..sh * sw].chunks_exact_mut(sw).enumerate() {
            let y = y0 + r as isize;
            if y < 0 || y >= ih as isize || j0 == j1 {
                row.fill(0.0);
                continue;
            }
            let src = &plane[y as usize * iw..][..iw];
            row[..j0].fill(0.0);
            row[j1..].fill(0.0);
            row[j0..j1].copy_from_slice(&src[(x0 + j0 as isize) as usize..][..j1 - j0]);
        }
    }

    /// `input` on the instruction set the GEMM kernel runs.
    ///
    /// # Safety
    /// The CPU runs the GEMM kernel (`Weights::new` checked it).
    #[cfg(target_arch = "x86_64")]
    unsafe fn transform_input(&self, b: &Block, strip: &mut [f32], v: &mut [f32]) {
        // SAFETY: the instruction set tested here is present.
        unsafe {
            if sgemm::avx512() {
                self.input(b, strip, v)
            } else {
                self.input_avx2(b, strip, v)
            }
        }
    }

    /// `output` on the instruction set the GEMM kernel runs.
    ///
    /// # Safety
    /// As for `output`, with the instruction set `Weights::new` checked.
    #[cfg(target_arch = "x86_64")]
    unsafe fn transform_output(&self, b: &Block, prod: &[f32], ms: Range<usize>) {
        // SAFETY: the instruction set tested here is present; the caller's
        // contract.
        unsafe {
            if sgemm::avx512() {
                self.output(b, prod, ms)
            } else {
                self.output_avx2(b, prod, ms)
            }
        }
    }

    /// V for block `b`: every input channel's patches, padded into `strip`,
    /// transformed 16 tiles at a time into `v[(channel·36 + ξ)·BLOCK + lane]`
    /// (a channel's 36 rows together, written in one stream).
    /// A piece's patches start 4 floats apart in a strip row, so column j of
    /// its 4 patches is every fourth float from j: two permutes pick it out
    /// of four pieces' 16 floats.
    ///
    /// # Safety
    /// The CPU has AVX-512F.
    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx512f")]
    unsafe fn input(&self, b: &Block, strip: &mut [f32], v: &mut [f32]) {
        let (sw, c) = (Self::strip_dims(b).1, self.u.c);
        assert!(v.len() >= POS * c * BLOCK);
        let every4: [__m512i; 4] = std::array::from_fn(|j| {
            let idx: [i32; 16] = std::array::from_fn(|l| (4 * (l % 8) + j) as i32);
            // SAFETY: 16 i32 values.
            unsafe { _mm512_loadu_si512(idx.as_ptr().cast()) }
        });
        for ci in 0..c {
            self.pad_strip(b, ci, strip);
            for vi in 0..b.vectors {
                let at = |piece: &(usize, usize, usize)| 4 * piece.0 * sw + 4 * piece.1;
                let p: [usize; 4] = std::array::from_fn(|q| at(&b.quarters(vi)[q]));
                // SAFETY: a piece's window ends 20 floats past its first
                // patch in row 4·(rows-1)+5, inside the strip (strip_dims:
                // rows padded to 8 tiles); the stores are inside v (asserted).
                unsafe {
                    let s = strip.as_ptr();
                    let column = |row: usize, j: usize| {
                        let (shift, j) = (4 * (j / 4), j % 4);
                        let w = p.map(|p| _mm512_loadu_ps(s.add(p + row + shift)));
                        let lo = _mm512_permutex2var_ps(w[0], every4[j], w[1]);
                        let hi = _mm512_permutex2var_ps(w[2], every4[j], w[3]);
                        _mm512_mask_blend_ps(0xFF00, lo, hi)
                    };
                    let t: [[__m512; 6]; 6] =
                        std::array::from_fn(|i| bt(std::array::from_fn(|j| column(i * sw, j))));
                    let by_column: [[__m512; 6]; 6] =
                        std::array::from_fn(|k| std::array::from_fn(|i| t[i][k]));
                    for (k, column) in by_column.into_iter().enumerate() {
                        let col = bt(column);
                        for (i, val) in col.into_iter().enumerate() {
                            let at = (ci * POS + i * 6 + k) * BLOCK + 16 * vi;
                            _mm512_storeu_ps(v.as_mut_ptr().add(at), val);
                        }
                    }
                }
            }
        }
    }

    /// Output channels `ms` of block `b` from their products
    /// `prod[((channel - ms.start)·36 + ξ)·BLOCK + lane]`, plus bias, then the residual and
    /// activation over the block's output rectangle. Row r of a piece's 4
    /// output tiles is 16 contiguous floats, interleaved from its four
    /// columns by permutes.
    ///
    /// # Safety
    /// The CPU has AVX-512F; no other task writes these channels of this
    /// block's tiles.
    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx512f")]
    unsafe fn output(&self, b: &Block, prod: &[f32], ms: Range<usize>) {
        let (oh, ow) = (self.g.output[0], self.g.output[1]);
        let plane = oh * ow;
        let (base, len) = self.out.raw();
        assert!(prod.len() >= POS * CHUNK * BLOCK && ms.len() <= CHUNK && len >= ms.end * plane);
        let idx = |f: &dyn Fn(usize) -> usize| {
            let v: [i32; 16] = std::array::from_fn(|l| f(l) as i32);
            // SAFETY: 16 i32 values.
            unsafe { _mm512_loadu_si512(v.as_ptr().cast()) }
        };
        // Pairs (s, s + 1) of lanes 8h.. (pieces 2h and 2h + 1), then each
        // piece's row of four tiles.
        let pairs = [
            idx(&|l| l / 2 + 16 * (l % 2)),
            idx(&|l| 8 + l / 2 + 16 * (l % 2)),
        ];
        let quads = [0, 8].map(|o| idx(&|l| o + 2 * (l / 4) + (l % 2) + 16 * (l % 4 / 2)));
        // A piece's floats in an output row (4 per tile, up to the plane's
        // edge), and that row.
        let place = |piece: &(usize, usize, usize), r: usize| {
            let x = 4 * (b.tx.start + piece.1);
            let oy = 4 * (b.ty.start + piece.0) + r;
            let w = if oy < oh {
                (4 * piece.2).min(ow.saturating_sub(x))
            } else {
                0
            };
            (w, oy * ow + x)
        };
        for m in ms.clone() {
            let bias = _mm512_set1_ps(self.bias.map_or(0.0, |b| b[m]));
            for vi in 0..b.vectors {
                let pieces = b.quarters(vi);
                // SAFETY: the loads are inside prod (asserted: rows of BLOCK
                // floats); each store is masked to its piece's floats in an
                // output row inside the plane (`place`), written by this task
                // alone (the caller's contract).
                unsafe {
                    let at = |xi: usize| {
                        let p = prod
                            .as_ptr()
                            .add(((m - ms.start) * POS + xi) * BLOCK + 16 * vi);
                        _mm512_loadu_ps(p)
                    };
                    let t: [[__m512; 4]; 6] =
                        std::array::from_fn(|i| a_t(std::array::from_fn(|k| at(i * 6 + k))));
                    let cols: [[__m512; 4]; 4] = std::array::from_fn(|s| {
                        a_t(std::array::from_fn(|i| t[i][s])).map(|y| _mm512_add_ps(y, bias))
                    });
                    let by_row: [[__m512; 4]; 4] =
                        std::array::from_fn(|r| std::array::from_fn(|s| cols[s][r]));
                    for (r, y) in by_row.iter().enumerate() {
                        for (h, two) in pieces.chunks_exact(2).enumerate() {
                            let places = [place(&two[0], r), place(&two[1], r)];
                            if places.iter().all(|&(w, _)| w == 0) {
                                continue;
                            }
                            let p01 = _mm512_permutex2var_ps(y[0], pairs[h], y[1]);
                            let p23 = _mm512_permutex2var_ps(y[2], pairs[h], y[3]);
                            for (&(w, at), quad) in places.iter().zip(&quads) {
                                let keep = ((1u32 << w) - 1) as __mmask16;
                                let v = _mm512_permutex2var_ps(p01, *quad, p23);
                                _mm512_mask_storeu_ps(base.add(m * plane + at), keep, v);
                            }
                        }
                    }
                }
            }
            // SAFETY: the caller's contract.
            unsafe { self.residual_and_activation(b, m) };
        }
    }

    /// The residual and activation over block `b`'s rectangle of output
    /// channel `m`, once its values are stored.
    ///
    /// # Safety
    /// No other task writes channel `m` of this block's tiles.
    pub(super) unsafe fn residual_and_activation(&self, b: &Block, m: usize) {
        if self.z.is_none() && self.act.is_none() {
            return;
        }
        let (oh, ow) = (self.g.output[0], self.g.output[1]);
        let plane = oh * ow;
        let (y0, x0) = (4 * b.ty.start, 4 * b.tx.start);
        let (y1, x1) = ((4 * b.ty.end).min(oh), (4 * b.tx.end).min(ow));
        for y in y0..y1 {
            let span = m * plane + y * ow + x0..m * plane + y * ow + x1;
            // SAFETY: this block's rectangle of channel m is this task's (the
            // caller's contract).
            let o = unsafe { self.out.part(span.clone()) };
            add_then_apply(o, self.z.map(|z| &z[span]), self.act);
        }
    }

    #[cfg(not(target_arch = "x86_64"))]
    unsafe fn transform_input(&self, _: &Block, _: &mut [f32], _: &mut [f32]) {
        unreachable!("Weights::new needs the x86_64 GEMM kernel")
    }

    #[cfg(not(target_arch = "x86_64"))]
    unsafe fn transform_output(&self, _: &Block, _: &[f32], _: Range<usize>) {
        unreachable!("Weights::new needs the x86_64 GEMM kernel")
    }
}

/// Bᵀ d for one 6-vector d (a row or column of a patch), lanes apart.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f")]
#[inline]
fn bt(d: [__m512; 6]) -> [__m512; 6] {
    let (two, four, five) = (
        _mm512_set1_ps(2.0),
        _mm512_set1_ps(4.0),
        _mm512_set1_ps(5.0),
    );
    let a = _mm512_fnmadd_ps(four, d[2], d[4]);
    let b = _mm512_fnmadd_ps(four, d[1], d[3]);
    let c = _mm512_sub_ps(d[4], d[2]);
    let e = _mm512_mul_ps(two, _mm512_sub_ps(d[3], d[1]));
    [
        _mm512_fmadd_ps(four, d[0], _mm512_fnmadd_ps(five, d[2], d[4])),
        _mm512_add_ps(a, b),
        _mm512_sub_ps(a, b),
        _mm512_add_ps(c, e),
        _mm512_sub_ps(c, e),
        _mm512_fmadd_ps(four, d[1], _mm512_fnmadd_ps(five, d[3], d[5])),
    ]
}

/// Aᵀ m for one 6-vector m of products, lanes apart.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f")]
#[inline]
fn a_t(m: [__m512; 6]) -> [__m512; 4] {
    let (two, four, eight) = (
        _mm512_set1_ps(2.0),
        _mm512_set1_ps(4.0),
        _mm512_set1_ps(8.0),
    );
    let (s12, d12) = (_mm512_add_ps(m[1], m[2]), _mm512_sub_ps(m[1], m[2]));
    let (s34, d34) = (_mm512_add_ps(m[3], m[4]), _mm512_sub_ps(m[3], m[4]));
    [
        _mm512_add_ps(_mm512_add_ps(m[0], s12), s34),
        _mm512_fmadd_ps(two, d34, d12),
        _mm512_fmadd_ps(four, s34, s12),
        _mm512_add_ps(_mm512_fmadd_ps(eight, d34, d12), m[5]),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Direct convolution in f64: the reference.
    fn direct(g: &Geom, x: &[f32], w: &[f32], b: &[f32], c: usize, m: usize) -> Vec<f64> {
        let (ih, iw, oh, ow) = (g.input[0], g.input[1], g.output[0], g.output[1]);
        let (pt, pl) = (g.pad_begin[0] as isize, g.pad_begin[1] as isize);
        let mut out = vec![0f64; m * oh * ow];
        for mi in 0..m {
            for y in 0..oh {
                for xo in 0..ow {
                    let mut s = b[mi] as f64;
                    for ci in 0..c {
                        for ky in 0..3 {
                            for kx in 0..3 {
                                let (iy, ix) = (y as isize + ky - pt, xo as isize + kx - pl);
                                if iy >= 0 && ix >= 0 && (iy as usize) < ih && (ix as usize) < iw {
                                    let xv = x[(ci * ih + iy as usize) * iw + ix as usize];
                                    let wv = w[((mi * c + ci) * 3 + ky as usize) * 3 + kx as usize];
                                    s += xv as f64 * wv as f64;
                                }
                            }
                        }
                    }
                    out[(mi * oh + y) * ow + xo] = s;
                }
            }
        }
        out
    }

    #[test]
    fn matches_a_direct_float64_convolution() {
        if !sgemm::available() {
            eprintln!("skipping: no AVX-512 here");
            return;
        }
        let mut rnd = crate::testing::noise(11);
        // (c, m, h, w, pads): edges of partial tiles, blocks over several tile
        // rows and columns, channel counts across GEMM row tiles and chunks.
        for &(c, m, h, w, pad) in &[
            (3, 5, 9, 11, 1),
            (16, 100, 14, 14, 1),
            (48, 30, 13, 13, 1),
            (5, 20, 34, 14, 1),
            (8, 13, 30, 150, 1),
            (20, 30, 7, 6, 0),
            (9, 200, 18, 5, 2),
        ] {
            let (oh, ow) = (h + 2 * pad - 2, w + 2 * pad - 2);
            let g = Geom {
                input: vec![h, w],
                output: vec![oh, ow],
                kernel: vec![3, 3],
                strides: vec![1, 1],
                dilations: vec![1, 1],
                pad_begin: vec![pad, pad],
                pad_end: vec![pad, pad],
            };
            let x: Vec<f32> = (0..c * h * w).map(|_| rnd()).collect();
            let wt: Vec<f32> = (0..m * c * 9).map(|_| rnd()).collect();
            let b: Vec<f32> = (0..m).map(|_| rnd()).collect();
            let z: Vec<f32> = (0..m * oh * ow).map(|_| rnd()).collect();
            let want = direct(&g, &x, &wt, &b, c, m);
            let u = Weights::new(&wt, m, c).expect("AVX-512 is here");
            for threads in [1, 3] {
                for residual in [false, true] {
                    let mut out = vec![f32::NAN; m * oh * ow];
                    let (zr, act) = if residual {
                        (Some(&z[..]), Some(Act::Relu))
                    } else {
                        (None, None)
                    };
                    conv(&u, &g, &x, Some(&b), &mut out, zr, act, threads);
                    for (i, (&got, &e)) in out.iter().zip(&want).enumerate() {
                        let e = if residual {
                            (e + z[i] as f64).max(0.0)
                        } else {
                            e
                        };
                        assert!(
                            (got as f64 - e).abs() <= 1e-4 * (1.0 + e.abs()),
                            "c={c} m={m} {h}x{w} pad {pad} threads {threads} at {i}: {got} vs {e}"
                        );
                    }
                }
            }
        }
    }
}
