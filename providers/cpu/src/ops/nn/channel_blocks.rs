//! Depthwise convolution and max pooling over 2-D windows with the channels as
//! vector lanes (f32 on AVX-512): what onnxruntime's NCHWc kernels do, but
//! inside one node, so the graph keeps its NCHW layout.
//!
//! Sixteen channel planes at a time are transposed, one band of rows at a
//! time, into a padded buffer laid out [row][column][channel]. An output
//! position is then whole-vector multiply-adds (or maxima) over the window's
//! taps, sixteen positions of a row side by side in registers, and the sixteen
//! results are transposed back into the planes. The transposes are 16×16 in
//! registers and cost a fraction of the taps. Per-plane loops lose on both
//! ends: small planes (7×7) leave most lanes of a row idle, large ones pay a
//! stride-phase copy per plane.

use std::arch::x86_64::*;

use super::conv::Epilogue;
use super::window::Geom;
use super::{with_scratch, PAR_WORK};
use crate::ops::fused::activation::{add_then_apply, Act};
use crate::ops::quant::loops::Qdq;

/// Channels per block: the lanes of one vector.
const L: usize = 16;
/// Padded input one band holds, in floats (128 KiB: it stays in L2).
const BAND_FLOATS: usize = 32 * 1024;

/// What the window computes.
pub(super) enum Fold<'a> {
    /// Depthwise convolution: `w` holds the kernels as `pack` lays them out,
    /// `b` the bias.
    Conv {
        w: &'a [[f32; L]],
        b: Option<&'a [f32]>,
    },
    /// Max pooling. The padding is -inf, so it never wins, and NaNs are
    /// skipped as `f32::max` does.
    Max,
}

/// Whether this CPU runs these kernels.
pub(super) fn available() -> bool {
    super::sgemm::avx512()
}

/// One kernel of `taps` weights per channel (`c` of them, in `w`) as
/// [block][tap][lane], so that a tap's weights for a block are one vector;
/// lanes past the last channel are zero. Constant kernels are packed once,
/// at session creation.
pub(super) fn pack(w: &[f32], c: usize, taps: usize) -> Vec<[f32; L]> {
    assert!(w.len() == c * taps);
    let mut wt = vec![[0.0; L]; c.div_ceil(L) * taps];
    for (ch, k) in w.chunks_exact(taps).enumerate() {
        for (t, &v) in k.iter().enumerate() {
            wt[(ch / L) * taps + t][ch % L] = v;
        }
    }
    wt
}

/// The geometry of one run, in padded-buffer units.
struct Plan {
    c: usize,
    in_sz: usize,
    out_sz: usize,
    ih: usize,
    iw: usize,
    ow: usize,
    sh: usize,
    sw: usize,
    top: usize,
    left: usize,
    /// Padded columns read (the buffer's row length, in positions).
    pw: usize,
    /// Output rows per task, and the input rows they read.
    band: usize,
    span_h: usize,
    /// Buffer offset of each tap from its window's origin.
    taps: Vec<usize>,
    /// Kernel rows and columns of an undilated window `grid_sums` takes.
    grid: Option<(usize, usize)>,
}

impl Plan {
    fn rows_for(&self, out_rows: usize) -> usize {
        (out_rows - 1) * self.sh + self.span_h
    }
    /// Buffer floats for a band: its rows, and slack for the last chunk of a
    /// row, which computes up to three positions past the row (discarded).
    fn scratch(&self) -> usize {
        self.rows_for(self.band) * self.pw * L + 4 * self.sw * L
    }
}

/// Runs `fold` over the `c` planes of one image `x` (2-D geometry `g`) into the
/// `c` planes of `out`, then applies `ep` (this image's residual and
/// activation) band by band while the outputs are in cache.
pub(super) fn run(
    g: &Geom,
    c: usize,
    x: &[f32],
    fold: &Fold<'_>,
    out: &mut [f32],
    ep: Epilogue<'_, f32>,
    threads: usize,
) {
    assert!(available() && g.rank() == 2);
    let (in_sz, out_sz) = (g.input[0] * g.input[1], g.output[0] * g.output[1]);
    let (kh, kw) = (g.kernel[0], g.kernel[1]);
    assert!(x.len() == c * in_sz && out.len() == c * out_sz);
    assert!(ep.z.is_none_or(|z| z.len() == out.len()));
    if out.is_empty() {
        return;
    }
    let oh = g.output[0];
    let pw = (g.output[1] - 1) * g.strides[1] + (kw - 1) * g.dilations[1] + 1;
    let mut p = Plan {
        c,
        in_sz,
        out_sz,
        ih: g.input[0],
        iw: g.input[1],
        ow: g.output[1],
        sh: g.strides[0],
        sw: g.strides[1],
        top: g.pad_begin[0],
        left: g.pad_begin[1],
        pw,
        band: oh,
        span_h: (kh - 1) * g.dilations[0] + 1,
        taps: (0..kh * kw)
            .map(|t| ((t / kw) * g.dilations[0] * pw + (t % kw) * g.dilations[1]) * L)
            .collect(),
        grid: (g.dilations.iter().all(|&d| d == 1) && matches!(kw, 3 | 5)).then_some((kh, kw)),
    };
    let blocks = c.div_ceil(L);
    // Bands small enough to stay in cache, and enough tasks for the threads.
    let work = out.len() * p.taps.len();
    let par = threads > 1 && work >= PAR_WORK;
    let min_bands = if par {
        (2 * threads).div_ceil(blocks)
    } else {
        1
    };
    p.band = oh.div_ceil(min_bands);
    while p.band > 1 && p.rows_for(p.band) * pw * L > BAND_FLOATS {
        p.band = p.band.div_ceil(2);
    }
    let bands = oh.div_ceil(p.band);
    if let Fold::Conv { w, b } = fold {
        assert!(w.len() == blocks * p.taps.len() && b.is_none_or(|b| b.len() == c));
    }
    let dst = Out(out.as_mut_ptr(), out.len());
    // The residual and the common activations are applied to each vector as it
    // is stored; the others per channel after each band.
    let inline = Lanewise::of(ep.act);
    let task = |t: usize| {
        // Band-major: the threads' ends of the loop are rows of the image,
        // as the convolutions around split theirs (`parallel::Job::work`).
        let (ri, bi) = (t / blocks, t % blocks);
        let rows = ri * p.band..((ri + 1) * p.band).min(oh);
        let w = match fold {
            Fold::Conv { w, b } => {
                let n = p.taps.len();
                let mut bias = [0.0; L];
                if let Some(b) = b {
                    let lanes = b[bi * L..].len().min(L);
                    bias[..lanes].copy_from_slice(&b[bi * L..bi * L + lanes]);
                }
                Some((&w[bi * n..(bi + 1) * n], bias))
            }
            Fold::Max => None,
        };
        with_scratch(p.scratch(), |buf: &mut [f32]| {
            // SAFETY: the CPU has AVX-512F (asserted on entry); tasks write
            // disjoint (block, band) parts of `out`.
            unsafe {
                block_band(
                    &p,
                    x,
                    bi * L,
                    rows.clone(),
                    w,
                    buf,
                    dst,
                    inline.map(|a| (ep.z, a)),
                )
            };
        });
        if inline.is_none() {
            for ch in bi * L..(bi * L + L).min(c) {
                let range = ch * out_sz + rows.start * p.ow..ch * out_sz + rows.end * p.ow;
                assert!(range.end <= dst.1);
                // SAFETY: this task's band of channel `ch`, written above and
                // touched by no other task.
                let o =
                    unsafe { std::slice::from_raw_parts_mut(dst.0.add(range.start), range.len()) };
                add_then_apply(o, ep.z.map(|z| &z[range]), ep.act);
            }
        }
    };
    let threads = if par { threads } else { 1 };
    crate::parallel::for_each(threads, blocks * bands, task);
}

/// The output, shared by tasks that write disjoint parts of it.
#[derive(Clone, Copy)]
struct Out(*mut f32, usize);
// SAFETY: tasks write disjoint (block, band) parts of the one borrowed output.
unsafe impl Send for Out {}
// SAFETY: as above.
unsafe impl Sync for Out {}

/// One task: channels `c0..c0 + 16` (fewer in the last block), output rows
/// `rows`. `w` is the block's weights per tap and bias (None: max pooling);
/// `ep` the residual (of the whole output) and activation to apply on the way.
///
/// # Safety
/// The CPU has AVX-512F; no other task writes this block's band of `out`.
#[allow(clippy::too_many_arguments)]
#[target_feature(enable = "avx512f")]
unsafe fn block_band(
    p: &Plan,
    x: &[f32],
    c0: usize,
    rows: std::ops::Range<usize>,
    w: Option<(&[[f32; L]], [f32; L])>,
    buf: &mut [f32],
    out: Out,
    ep: Option<(Option<&[f32]>, Lanewise)>,
) {
    let lanes = (p.c - c0).min(L);
    let pad = if w.is_some() { 0.0 } else { f32::NEG_INFINITY };
    let nrows = p.rows_for(rows.len());
    assert!(buf.len() >= nrows * p.pw * L + 4 * p.sw * L);
    fill_band(p, x, c0, lanes, rows.start * p.sh, nrows, pad, buf);
    let init = match w {
        Some((_, bias)) => _mm512_loadu_ps(bias.as_ptr()),
        None => _mm512_set1_ps(f32::NEG_INFINITY),
    };
    let wt = w.map(|(wt, _)| wt);
    let reach = p.taps.iter().max().copied().unwrap_or(0) + L;
    let mut stage = [_mm512_setzero_ps(); L];
    for r in rows.clone() {
        let row0 = (r - rows.start) * p.sh * p.pw * L;
        let mut x0 = 0;
        while x0 < p.ow {
            let n = match p.ow - x0 {
                16.. => 16,
                5.. => 8,
                _ => 4,
            };
            let origin = row0 + x0 * p.sw * L;
            // The chunk's last position reads up to `reach` past its origin.
            assert!(origin + (n - 1) * p.sw * L + reach <= buf.len());
            // SAFETY: every load is inside `buf` (asserted just above).
            let src = unsafe { buf.as_ptr().add(origin) };
            // SAFETY: as for `sums`: the window's taps are the grid's.
            let done = match (wt, p.grid) {
                (Some(wt), Some((kh, kw))) => unsafe {
                    grid(n, p.sw, kw, src, kh, p.pw * L, wt, init, &mut stage)
                },
                _ => false,
            };
            match (n, p.sw) {
                _ if done => {}
                (16, 1) => sums::<16, 1>(src, 0, &p.taps, wt, init, &mut stage),
                (16, 2) => sums::<16, 2>(src, 0, &p.taps, wt, init, &mut stage),
                (16, s) => sums::<16, 0>(src, s * L, &p.taps, wt, init, &mut stage),
                (8, 1) => sums::<8, 1>(src, 0, &p.taps, wt, init, &mut stage),
                (8, 2) => sums::<8, 2>(src, 0, &p.taps, wt, init, &mut stage),
                (8, s) => sums::<8, 0>(src, s * L, &p.taps, wt, init, &mut stage),
                (_, 1) => sums::<4, 1>(src, 0, &p.taps, wt, init, &mut stage),
                (_, 2) => sums::<4, 2>(src, 0, &p.taps, wt, init, &mut stage),
                (_, s) => sums::<4, 0>(src, s * L, &p.taps, wt, init, &mut stage),
            }
            // Without a residual the activation goes first, on the chunk's
            // positions (it acts lane by lane, so before the transpose is as
            // good as after), and chosen once per chunk, not per vector.
            if let Some((None, act)) = ep {
                act.apply_all(&mut stage[..n]);
            }
            // Positions as lanes: vector l is now channel c0 + l.
            transpose16(&mut stage);
            let m = n.min(p.ow - x0);
            let mask = ((1u32 << m) - 1) as __mmask16;
            for (l, &v) in stage.iter().enumerate().take(lanes) {
                let at = (c0 + l) * p.out_sz + r * p.ow + x0;
                assert!(at + m <= out.1);
                // (No closures here: they would not inherit the target feature.)
                let mut v = v;
                if let Some((Some(z), act)) = ep {
                    let z = &z[at..at + m];
                    // SAFETY: `z` holds the `m` masked-in floats.
                    v = _mm512_add_ps(v, unsafe { _mm512_maskz_loadu_ps(mask, z.as_ptr()) });
                    v = act.apply(v);
                }
                // SAFETY: `m` floats at `at` lie in this task's part of `out`.
                unsafe { _mm512_mask_storeu_ps(out.0.add(at), mask, v) };
            }
            x0 += m;
        }
    }
}

/// An activation computed on whole vectors (none: the residual alone).
#[derive(Clone, Copy)]
pub(super) enum Lanewise {
    None,
    Relu,
    LeakyRelu(f32),
    Clip(f32, f32),
    HardSigmoid(f32, f32),
    HardSwish,
    QuantizeDequantize(Qdq<f32>),
}

impl Lanewise {
    pub(super) fn of(act: Option<Act>) -> Option<Lanewise> {
        Some(match act {
            None => Lanewise::None,
            Some(Act::Relu) => Lanewise::Relu,
            Some(Act::LeakyRelu(a)) => Lanewise::LeakyRelu(a as f32),
            Some(Act::Clip(lo, hi)) => Lanewise::Clip(lo as f32, hi as f32),
            Some(Act::HardSigmoid(a, b)) => Lanewise::HardSigmoid(a as f32, b as f32),
            Some(Act::HardSwish) => Lanewise::HardSwish,
            Some(Act::QuantizeDequantize(s, z, lo, hi)) => {
                Lanewise::QuantizeDequantize(Qdq::new(s as f32, z as f32, lo as f32, hi as f32))
            }
            Some(_) => return None,
        })
    }

    /// As `activation::apply` computes it, NaNs included (`max` and `min`
    /// return their second operand for a NaN).
    #[inline]
    #[target_feature(enable = "avx512f")]
    pub(super) fn apply(self, v: __m512) -> __m512 {
        let zero = _mm512_setzero_ps();
        match self {
            Lanewise::None => v,
            Lanewise::Relu => _mm512_max_ps(v, zero),
            Lanewise::LeakyRelu(a) => {
                let neg = _mm512_cmp_ps_mask::<_CMP_LT_OQ>(v, zero);
                _mm512_mask_mul_ps(v, neg, v, _mm512_set1_ps(a))
            }
            Lanewise::Clip(lo, hi) => {
                _mm512_min_ps(_mm512_max_ps(v, _mm512_set1_ps(lo)), _mm512_set1_ps(hi))
            }
            Lanewise::HardSigmoid(a, b) => unit(v, a, b),
            Lanewise::HardSwish => _mm512_mul_ps(v, unit(v, 1.0 / 6.0, 0.5)),
            Lanewise::QuantizeDequantize(q) => q.lanes(v),
        }
    }
}

impl Lanewise {
    /// `apply` on each of `vs`, the activation picked once for them all.
    #[target_feature(enable = "avx512f")]
    pub(super) fn apply_all(self, vs: &mut [__m512]) {
        // (Each arm its own loop: a match per vector costs as much as a 3×3
        // window's multiply-adds.)
        macro_rules! each {
            ($v:ident => $e:expr) => {
                for $v in vs.iter_mut() {
                    *$v = $e;
                }
            };
        }
        // A constant variant's `apply` folds to its arm.
        match self {
            Lanewise::None => {}
            Lanewise::Relu => each!(v => Lanewise::Relu.apply(*v)),
            Lanewise::HardSwish => each!(v => Lanewise::HardSwish.apply(*v)),
            other => each!(v => other.apply(*v)),
        }
    }
}

/// `a·v + b` clamped to [0, 1].
#[inline]
#[target_feature(enable = "avx512f")]
fn unit(v: __m512, a: f32, b: f32) -> __m512 {
    let t = _mm512_fmadd_ps(_mm512_set1_ps(a), v, _mm512_set1_ps(b));
    _mm512_min_ps(_mm512_max_ps(t, _mm512_setzero_ps()), _mm512_set1_ps(1.0))
}

/// Input rows `y0..y0 + nrows` (padded coordinates) of channels
/// `c0..c0 + lanes`, transposed into `buf` as [row][column][lane]; `pad`
/// fills the padding, the slack after the rows, and lanes past `lanes`
/// are zero.
#[allow(clippy::too_many_arguments)]
#[target_feature(enable = "avx512f")]
fn fill_band(
    p: &Plan,
    x: &[f32],
    c0: usize,
    lanes: usize,
    y0: usize,
    nrows: usize,
    pad: f32,
    buf: &mut [f32],
) {
    let row_len = p.pw * L;
    let (used, slack) = buf.split_at_mut(nrows * row_len);
    slack.fill(pad);
    // Input columns that land inside the buffer, and where they start.
    let left = p.left.min(p.pw);
    let n = p.iw.min(p.pw - left);
    for (pr, dst) in used.chunks_exact_mut(row_len).enumerate() {
        let y = (y0 + pr) as isize - p.top as isize;
        if y < 0 || y >= p.ih as isize {
            dst.fill(pad);
            continue;
        }
        dst[..left * L].fill(pad);
        dst[(left + n) * L..].fill(pad);
        let src = y as usize * p.iw;
        for x0 in (0..n).step_by(L) {
            let m = (n - x0).min(L);
            let mask = ((1u32 << m) - 1) as __mmask16;
            let mut v = [_mm512_setzero_ps(); L];
            for (l, v) in v.iter_mut().enumerate().take(lanes) {
                let at = (c0 + l) * p.in_sz + src + x0;
                assert!(at + m <= x.len());
                // SAFETY: `m` floats at `at` lie in `x` (asserted).
                *v = unsafe { _mm512_maskz_loadu_ps(mask, x.as_ptr().add(at)) };
            }
            transpose16(&mut v);
            for (j, v) in v.iter().enumerate().take(m) {
                let at = (left + x0 + j) * L;
                let d: &mut [f32; L] = (&mut dst[at..at + L]).try_into().unwrap();
                // SAFETY: `d` is sixteen floats.
                unsafe { _mm512_storeu_ps(d.as_mut_ptr(), *v) };
            }
        }
    }
}

/// `N` positions `step` floats apart (`S` lanes-wide positions when `S` > 0)
/// from `src`, folded over the taps into `stage[..N]`: multiply-adds with the
/// per-tap weights `wt`, or maxima when there are none.
///
/// # Safety
/// Every `src + (N - 1)·step + tap + 16` lies inside one allocation.
#[inline]
#[target_feature(enable = "avx512f")]
unsafe fn sums<const N: usize, const S: usize>(
    src: *const f32,
    step: usize,
    taps: &[usize],
    wt: Option<&[[f32; L]]>,
    init: __m512,
    stage: &mut [__m512; L],
) {
    let step = if S > 0 { S * L } else { step };
    let mut acc = [init; N];
    // SAFETY (the loads): the caller's contract.
    match wt {
        Some(wt) => {
            for (&off, w) in taps.iter().zip(wt) {
                let w = _mm512_loadu_ps(w.as_ptr());
                let at = unsafe { src.add(off) };
                for (g, a) in acc.iter_mut().enumerate() {
                    *a = _mm512_fmadd_ps(w, unsafe { _mm512_loadu_ps(at.add(g * step)) }, *a);
                }
            }
        }
        None => {
            for &off in taps {
                let at = unsafe { src.add(off) };
                for (g, a) in acc.iter_mut().enumerate() {
                    *a = _mm512_max_ps(unsafe { _mm512_loadu_ps(at.add(g * step)) }, *a);
                }
            }
        }
    }
    stage[..N].copy_from_slice(&acc);
}

/// `sums` for a weighted, undilated kh×kw window at stride 1 or 2 with kw 3 or
/// 5 (`grid_sums`); false, doing nothing, for any other.
///
/// # Safety
/// As for `sums`, the window's taps being kh rows `row` floats apart of kw
/// adjacent positions.
#[allow(clippy::too_many_arguments)]
#[inline]
#[target_feature(enable = "avx512f")]
unsafe fn grid(
    n: usize,
    sw: usize,
    kw: usize,
    src: *const f32,
    kh: usize,
    row: usize,
    wt: &[[f32; L]],
    init: __m512,
    stage: &mut [__m512; L],
) -> bool {
    macro_rules! go {
        ($($n:literal $s:literal $kw:literal),*) => {
            match (n, sw, kw) {
                // SAFETY: the caller's contract.
                $(($n, $s, $kw) => unsafe {
                    grid_sums::<$n, $s, $kw>(src, kh, row, wt, init, stage)
                },)*
                _ => return false,
            }
        };
    }
    go!(16 1 3, 16 1 5, 16 2 3, 16 2 5, 8 1 3, 8 1 5, 8 2 3, 8 2 5, 4 1 3, 4 1 5, 4 2 3, 4 2 5);
    true
}

/// The most input vectors one kernel row of `grid_sums` reads.
const MAX_ROW: usize = 15 * 2 + 5;

/// `sums` over a kh×KW window of adjacent taps: each input vector of a
/// kernel row is loaded once and multiplied into every position it reaches
/// (KW of them at stride 1), where `sums` loads it once per tap. Five-wide
/// kernels read a third of the vectors (MobileNetV3's 5×5 depthwise layers
/// were bound by their loads).
///
/// # Safety
/// As for `grid`.
#[inline]
#[target_feature(enable = "avx512f")]
unsafe fn grid_sums<const N: usize, const S: usize, const KW: usize>(
    src: *const f32,
    kh: usize,
    row: usize,
    wt: &[[f32; L]],
    init: __m512,
    stage: &mut [__m512; L],
) {
    assert!(wt.len() >= kh * KW);
    let mut acc = [init; N];
    for ky in 0..kh {
        let w: [__m512; KW] = std::array::from_fn(|kx| _mm512_loadu_ps(wt[ky * KW + kx].as_ptr()));
        // SAFETY (the loads): the caller's contract.
        let at = unsafe { src.add(ky * row) };
        // The row's input vectors, each loaded once: output g reads S·g + kx.
        let mut inp = [_mm512_setzero_ps(); MAX_ROW];
        for (i, v) in inp.iter_mut().enumerate().take((N - 1) * S + KW) {
            *v = unsafe { _mm512_loadu_ps(at.add(i * L)) };
        }
        for (kx, &w) in w.iter().enumerate() {
            for (g, a) in acc.iter_mut().enumerate() {
                *a = _mm512_fmadd_ps(w, inp[S * g + kx], *a);
            }
        }
    }
    stage[..N].copy_from_slice(&acc);
}

/// Transposes sixteen vectors of sixteen lanes in registers: four rounds of
/// shuffles, each pairing elements from twice as far apart.
#[inline]
#[target_feature(enable = "avx512f")]
fn transpose16(r: &mut [__m512; L]) {
    let mut t = [_mm512_setzero_ps(); L];
    for i in 0..8 {
        t[2 * i] = _mm512_unpacklo_ps(r[2 * i], r[2 * i + 1]);
        t[2 * i + 1] = _mm512_unpackhi_ps(r[2 * i], r[2 * i + 1]);
    }
    let mut u = [_mm512_setzero_ps(); L];
    for i in 0..4 {
        let (a, b) = (_mm512_castps_pd(t[4 * i]), _mm512_castps_pd(t[4 * i + 1]));
        let (c, d) = (
            _mm512_castps_pd(t[4 * i + 2]),
            _mm512_castps_pd(t[4 * i + 3]),
        );
        u[4 * i] = _mm512_castpd_ps(_mm512_unpacklo_pd(a, c));
        u[4 * i + 1] = _mm512_castpd_ps(_mm512_unpackhi_pd(a, c));
        u[4 * i + 2] = _mm512_castpd_ps(_mm512_unpacklo_pd(b, d));
        u[4 * i + 3] = _mm512_castpd_ps(_mm512_unpackhi_pd(b, d));
    }
    // u[4i + j] holds, in 128-bit lane k, rows 4i..4i+4 at column 4k + j.
    for j in 0..4 {
        let v0 = _mm512_shuffle_f32x4::<0x88>(u[j], u[4 + j]);
        let v1 = _mm512_shuffle_f32x4::<0xDD>(u[j], u[4 + j]);
        let v2 = _mm512_shuffle_f32x4::<0x88>(u[8 + j], u[12 + j]);
        let v3 = _mm512_shuffle_f32x4::<0xDD>(u[8 + j], u[12 + j]);
        r[j] = _mm512_shuffle_f32x4::<0x88>(v0, v2);
        r[4 + j] = _mm512_shuffle_f32x4::<0x88>(v1, v3);
        r[8 + j] = _mm512_shuffle_f32x4::<0xDD>(v0, v2);
        r[12 + j] = _mm512_shuffle_f32x4::<0xDD>(v1, v3);
    }
}

#[cfg(test)]
pub(super) mod tests {
    use super::*;

    #[test]
    fn transpose16_swaps_rows_and_columns() {
        if !available() {
            return;
        }
        let m: Vec<[f32; L]> = (0..L)
            .map(|i| std::array::from_fn(|j| (i * L + j) as f32))
            .collect();
        // SAFETY: AVX-512F is available (checked above).
        let got = unsafe { transposed(&m) };
        for (i, row) in got.iter().enumerate() {
            for (j, &e) in row.iter().enumerate() {
                assert_eq!(e, m[j][i], "element ({i}, {j})");
            }
        }
    }

    /// A window problem: channels, input, kernel, strides, dilations, pads
    /// (begin then end).
    pub(crate) type Case = (
        usize,
        [usize; 2],
        [usize; 2],
        [usize; 2],
        [usize; 2],
        [usize; 4],
    );

    pub(crate) fn geom(&(_, input, kernel, strides, dilations, pads): &Case) -> Geom {
        let out = |i: usize| {
            let span = (kernel[i] - 1) * dilations[i] + 1;
            (input[i] + pads[i] + pads[i + 2] - span) / strides[i] + 1
        };
        Geom {
            input: input.to_vec(),
            output: vec![out(0), out(1)],
            kernel: kernel.to_vec(),
            strides: strides.to_vec(),
            dilations: dilations.to_vec(),
            pad_begin: pads[..2].to_vec(),
            pad_end: pads[2..].to_vec(),
        }
    }

    /// The window straight from its definition, position by position.
    pub(crate) fn naive(g: &Geom, c: usize, x: &[f32], w: Option<(&[f32], &[f32])>) -> Vec<f32> {
        let (oh, ow, kh, kw) = (g.output[0], g.output[1], g.kernel[0], g.kernel[1]);
        let mut out = Vec::new();
        for ch in 0..c {
            for oy in 0..oh {
                for ox in 0..ow {
                    let mut acc = w.map_or(f32::NEG_INFINITY, |(_, b)| b[ch]);
                    for ky in 0..kh {
                        for kx in 0..kw {
                            let iy = (oy * g.strides[0] + ky * g.dilations[0]) as isize
                                - g.pad_begin[0] as isize;
                            let ix = (ox * g.strides[1] + kx * g.dilations[1]) as isize
                                - g.pad_begin[1] as isize;
                            if iy < 0
                                || ix < 0
                                || iy >= g.input[0] as isize
                                || ix >= g.input[1] as isize
                            {
                                continue;
                            }
                            let v = x[(ch * g.input[0] + iy as usize) * g.input[1] + ix as usize];
                            acc = match w {
                                Some((w, _)) => acc + w[(ch * kh + ky) * kw + kx] * v,
                                None => acc.max(v),
                            };
                        }
                    }
                    out.push(acc);
                }
            }
        }
        out
    }

    #[test]
    fn windows_match_their_definition() {
        if !available() {
            return;
        }
        let cases: [Case; 6] = [
            // Rows longer than one chunk, a partial channel block, two threads.
            (20, [9, 23], [3, 3], [1, 1], [1, 1], [1, 1, 1, 1]),
            (16, [13, 13], [5, 5], [2, 2], [1, 1], [2, 1, 2, 1]),
            // Strides other than 1 and 2, dilation, uneven padding.
            (5, [10, 31], [3, 2], [3, 3], [2, 1], [0, 2, 1, 0]),
            (33, [7, 7], [5, 5], [1, 1], [1, 1], [2, 2, 2, 2]),
            // A 1-D window lifted to 2-D, wider than the buffer band.
            (3, [1, 3000], [1, 4], [1, 1], [1, 3], [0, 1, 0, 2]),
            (17, [40, 40], [3, 3], [2, 2], [1, 1], [0, 0, 1, 1]),
        ];
        for case in &cases {
            let (c, g) = (case.0, geom(case));
            let (in_sz, out_sz, taps) = (
                g.input[0] * g.input[1],
                g.output[0] * g.output[1],
                g.kernel[0] * g.kernel[1],
            );
            let val = |i: usize, k: usize| ((i * k % 97) as f32 - 48.0) / 16.0;
            let x: Vec<f32> = (0..c * in_sz).map(|i| val(i, 31)).collect();
            let w: Vec<f32> = (0..c * taps).map(|i| val(i, 7)).collect();
            let b: Vec<f32> = (0..c).map(|i| val(i, 13)).collect();
            let z: Vec<f32> = (0..c * out_sz).map(|i| val(i, 5)).collect();
            for threads in [1, 2] {
                let mut got = vec![0.0; c * out_sz];
                // The activation applied as vectors, and one applied per channel.
                let (act, f): (_, fn(f32) -> f32) = match (threads, c % 2) {
                    (1, 0) => (Act::HardSwish, |v| v * (v / 6.0 + 0.5).clamp(0.0, 1.0)),
                    // int8 with scale 0.25 and zero point 3, as QDQ models have.
                    (1, _) => (Act::QuantizeDequantize(0.25, 3.0, -128.0, 127.0), |v| {
                        ((v / 0.25).round_ties_even() + 3.0).clamp(-128.0, 127.0) * 0.25 - 0.75
                    }),
                    _ => (Act::Tanh, f32::tanh),
                };
                let ep = Epilogue {
                    z: Some(&z),
                    act: Some(act),
                };
                let packed = pack(&w, c, taps);
                let fold = Fold::Conv {
                    w: &packed,
                    b: Some(&b),
                };
                run(&g, c, &x, &fold, &mut got, ep, threads);
                let want = naive(&g, c, &x, Some((&w, &b)));
                for (i, (g, w)) in got.iter().zip(&want).enumerate() {
                    let w = f(w + z[i]);
                    assert!(
                        (g - w).abs() <= 1e-4 * w.abs().max(1.0),
                        "{case:?} conv at {i}: {g} vs {w}"
                    );
                }
                let ep = Epilogue { z: None, act: None };
                run(&g, c, &x, &Fold::Max, &mut got, ep, threads);
                assert_eq!(got, naive(&g, c, &x, None), "{case:?} max");
            }
        }
    }

    #[target_feature(enable = "avx512f")]
    fn transposed(m: &[[f32; L]]) -> Vec<[f32; L]> {
        let mut v = [_mm512_setzero_ps(); L];
        for (v, row) in v.iter_mut().zip(m) {
            // SAFETY: `row` is sixteen floats.
            *v = unsafe { _mm512_loadu_ps(row.as_ptr()) };
        }
        transpose16(&mut v);
        let mut out = vec![[0.0; L]; L];
        for (o, v) in out.iter_mut().zip(v) {
            // SAFETY: `o` is sixteen floats.
            unsafe { _mm512_storeu_ps(o.as_mut_ptr(), v) };
        }
        out
    }
}
