//! Conv: Winograd F(4×4, 3×3) for constant 3×3 stride-1 weights, else GEMM over shifted
//! rows or im2col with prepacked weights; depthwise by channel-lane or plane stencils.

use ort_core::{Error, Tensor, Value};
use std::sync::atomic::{AtomicBool, Ordering};

use super::blas::{self, gemm, gemm_prepacked_a, gemm_rows, prepack_a, Mat};
use super::conv_loops::{depthwise_plane, depthwise_scratch, im2col_row};
use super::conv_shift;
use super::depthwise_blocked;
use super::sgemm::{Bias, PackedA, Then};
use super::window::{Geom, Window};
use super::winograd;
use super::{as_f32, as_f32_mut, data, numel, output, with_scratch, Flt, PAR_WORK};
use crate::kernel::{input, one, opt_input, ConstId, Ctx, Kernel, NodeInfo, Outputs};
use crate::ops::fused::activation::{add_then_apply, clamp_bounds, finish, Act};
use crate::ops::{FLOATS, LATEST};
use crate::parallel::for_each_chunk;
use crate::util::{dims, shape_i64};

pub(crate) struct Conv {
    window: Window,
    group: usize,
    /// FusedConv: the activation, and whether input 3 (Z) is added before it.
    act: Option<Act>,
    residual: bool,
    /// Constant float32 weights packed per group at session creation.
    packed: Option<(Vec<PackedA>, ConstId)>,
    /// Or, for 3×3 stride-1 convolutions whose planes hold enough tiles,
    /// their Winograd transform (see `winograd`).
    winograd: Option<(winograd::Weights, ConstId)>,
    /// Or, for depthwise float32 convolutions on AVX-512, the kernels with
    /// channels as lanes (`channel_blocks::pack`).
    lanes: Option<(Vec<[f32; 16]>, ConstId)>,
}

/// The shapes of one convolution: channels in and out, groups, window.
pub(super) struct Shape {
    pub c: usize,
    pub m: usize,
    pub group: usize,
    pub g: Geom,
}

fn build(info: &NodeInfo<'_, '_>) -> Result<Box<dyn Kernel>, Error> {
    Ok(Box::new(parse(info, false, info.constant_with_id(1))?))
}

/// FusedConv: Conv plus a residual input and an activation (`docs/fused-ops.md`).
pub(crate) fn build_fused(info: &NodeInfo<'_, '_>) -> Result<Box<dyn Kernel>, Error> {
    Ok(Box::new(parse_fused(info)?))
}

/// FusedConv's kernel itself, for a fused node that runs it and more
/// (ConvMaxPool).
pub(crate) fn parse_fused(info: &NodeInfo<'_, '_>) -> Result<Conv, Error> {
    parse(info, true, info.constant_with_id(1))
}

/// FusedConv whose weights are `w`, which the caller passes as input 1 on
/// every run (a kernel that keeps the model's weights in another layout).
pub(crate) fn build_fused_with(
    info: &NodeInfo<'_, '_>,
    w: &ort_core::Tensor,
) -> Result<Box<dyn Kernel>, Error> {
    Ok(Box::new(parse(
        info,
        true,
        ConstId::of(w).map(|id| (w, id)),
    )?))
}

/// FusedConv that takes its weights as they come on each run, even when the
/// graph's input 1 is a constant (the caller passes weights of its own).
pub(crate) fn build_fused_with_any(info: &NodeInfo<'_, '_>) -> Result<Box<dyn Kernel>, Error> {
    Ok(Box::new(parse(info, true, None)?))
}

fn parse(
    info: &NodeInfo<'_, '_>,
    fused: bool,
    weights: Option<(&ort_core::Tensor, ConstId)>,
) -> Result<Conv, Error> {
    let group = info.int("group", 1)?;
    if group < 1 {
        return Err(Error::invalid(format!(
            "group must be positive, got {group}"
        )));
    }
    let window = Window::parse(info)?;
    let winograd = if group == 1 {
        weights
            .clone()
            .and_then(|(w, id)| Some((prepack_winograd(info, &window, w)?, id)))
    } else {
        None
    };
    let packed = match winograd {
        Some(_) => None,
        None => weights
            .clone()
            .and_then(|(w, id)| Some((prepack(w, group as usize)?, id))),
    };
    let lanes =
        weights.and_then(|(w, id)| Some((prepack_lanes(info, &window, w, group as usize)?, id)));
    Ok(Conv {
        window,
        group: group as usize,
        act: if fused { Act::parse(info)? } else { None },
        residual: fused,
        packed,
        winograd,
        lanes,
    })
}

/// Constant float32 depthwise kernels (one input and one output channel per
/// group, 1-D or 2-D) packed for `lanes`, where that runs: not where the
/// declared input planes send the convolution to `depthwise_rows`, which
/// reads the kernels as they are.
fn prepack_lanes(
    info: &NodeInfo<'_, '_>,
    window: &Window,
    w: &ort_core::Tensor,
    group: usize,
) -> Option<Vec<[f32; 16]>> {
    #[cfg(target_arch = "x86_64")]
    if super::channel_blocks::available() {
        let data = w.as_slice::<f32>().ok()?;
        let ws = dims(w.shape());
        if ws.len() > 4 || ws.len() < 3 || ws[0] != group || ws[1] != 1 {
            return None;
        }
        let spatial: Option<Vec<usize>> = info
            .input_dims(0)
            .and_then(|xs| xs.get(2..)?.iter().copied().collect());
        let by_rows = spatial
            .and_then(|sp| window.geom(&sp, Some(&ws[2..])).ok())
            .is_some_and(|g| super::depthwise_rows::fits(&g.lifted(2)));
        if by_rows {
            return None;
        }
        let taps = numel(&ws[2..]);
        return Some(super::channel_blocks::pack(data, group, taps));
    }
    let _ = (info, window, w, group);
    None
}

/// The Winograd form of constant float32 weights, where the convolution has
/// its shape and declared input planes large enough to be `worth` it.
fn prepack_winograd(
    info: &NodeInfo<'_, '_>,
    window: &Window,
    w: &ort_core::Tensor,
) -> Option<winograd::Weights> {
    let data = w.as_slice::<f32>().ok()?;
    let ws = dims(w.shape());
    let xs = info.input_dims(0)?;
    let spatial: Option<Vec<usize>> = xs.get(2..)?.iter().copied().collect();
    let g = window.geom(&spatial?, Some(ws.get(2..)?)).ok()?;
    let (m, c) = (ws[0], ws[1]);
    if !winograd::fits(&g) || !winograd::worth(c, m, (g.output[0], g.output[1])) {
        return None;
    }
    winograd::Weights::new(data, m, c)
}

/// Each group's weights as a packed GEMM operand (M/group × C/group·kernel), for
/// convolutions that run as GEMMs (not depthwise ones).
fn prepack(w: &ort_core::Tensor, group: usize) -> Option<Vec<PackedA>> {
    let data = w.as_slice::<f32>().ok()?;
    let ws = dims(w.shape());
    let (m, cg) = (*ws.first()?, *ws.get(1)?);
    if ws.len() < 3 || m % group != 0 || (group > 1 && cg == 1) {
        return None;
    }
    let (mg, kdim) = (m / group, cg * numel(&ws[2..]));
    (0..group)
        .map(|gi| prepack_a(&data[gi * mg * kdim..][..mg * kdim], mg, kdim))
        .collect()
}

impl Conv {
    /// This call's shapes, its inputs checked against each other.
    fn shape(&self, x: &Tensor, w: &Tensor, b: Option<&Tensor>) -> Result<Shape, Error> {
        let (xs, ws) = (dims(x.shape()), dims(w.shape()));
        if xs.len() < 3 || ws.len() != xs.len() {
            return Err(Error::invalid(format!(
                "Conv needs X of rank >= 3 and W of the same rank, got {xs:?} and {ws:?}"
            )));
        }
        if w.elem() != x.elem() || b.is_some_and(|b| b.elem() != x.elem()) {
            return Err(Error::invalid("X, W and B must share one element type"));
        }
        let (c, m, group) = (xs[1], ws[0], self.group);
        if c != ws[1] * group || m % group != 0 {
            return Err(Error::invalid(format!(
                "W {ws:?} does not fit {c} input channels in {group} groups"
            )));
        }
        if let Some(b) = b {
            if b.len() != m {
                return Err(Error::invalid(format!(
                    "B has {} elements, expected {m}",
                    b.len()
                )));
            }
        }
        let g = self.window.geom(&xs[2..], Some(&ws[2..]))?;
        Ok(Shape { c, m, group, g })
    }

    /// The convolution, then a 3×3 max pool with window `pool` over its
    /// output, in bands (`conv_shift::conv_max_pool`): None where that does
    /// not run (not float32 on AVX-512, several groups, a residual, a
    /// Winograd convolution, a pool `depthwise_rows` does not take).
    pub(crate) fn max_pooled(
        &self,
        inputs: &[Option<&Value>],
        pool: &Window,
        ctx: &Ctx<'_>,
    ) -> Option<Outputs> {
        let (x, w) = (input(inputs, 0).ok()?, input(inputs, 1).ok()?);
        let b = opt_input(inputs, 2).ok()?;
        let z = if self.residual {
            opt_input(inputs, 3).ok()?
        } else {
            None
        };
        let wino = self.winograd.as_ref().is_some_and(|(_, id)| id.matches(w));
        if x.elem() != ort_core::ElemType::F32 || z.is_some() || wino || self.group != 1 {
            return None;
        }
        let p = match self.shape(x, w, b) {
            Ok(p) => p,
            Err(e) => return Some(Err(e)),
        };
        if p.g.rank() != 2 {
            return None;
        }
        let pg = pool.geom(&p.g.output, None).ok()?;
        let n = dims(x.shape())[0];
        let shape = shape_i64(&[&[n, p.m][..], &pg.output].concat());
        let (xd, wd) = (x.as_slice::<f32>().ok()?, w.as_slice::<f32>().ok()?);
        let bd = b.map(|b| b.as_slice::<f32>()).transpose().ok()?;
        let packed = self.packed.as_ref().filter(|(_, id)| id.matches(w));
        let packed = packed.and_then(|(p, _)| p.first());
        let mut ran = true;
        let y = ctx.tensor::<f32>(&shape, |o| {
            let image_in = p.c * numel(&p.g.input);
            for (xn, on) in xd
                .chunks(image_in)
                .zip(o.chunks_mut(p.m * numel(&pg.output)))
            {
                let wp = (wd, packed);
                ran &= conv_shift::conv_max_pool(&p, &pg, xn, wp, bd, on, self.act, ctx.threads);
            }
        });
        // Every image alike: the first that cannot run stops them all.
        match y {
            Ok(y) => ran.then(|| one(y)),
            Err(e) => Some(Err(e)),
        }
    }
}

impl Kernel for Conv {
    fn compute(&self, inputs: &[Option<&Value>], ctx: &Ctx<'_>) -> Outputs {
        let (x, w, b) = (input(inputs, 0)?, input(inputs, 1)?, opt_input(inputs, 2)?);
        let p = self.shape(x, w, b)?;
        let mut out_shape = vec![dims(x.shape())[0], p.m];
        out_shape.extend(&p.g.output);
        let z = if self.residual {
            opt_input(inputs, 3)?
        } else {
            None
        };
        if let Some(z) = z {
            if z.shape() != shape_i64(&out_shape).as_slice() || z.elem() != x.elem() {
                return Err(Error::invalid(format!(
                    "Z must be {} of shape {out_shape:?}, got {} of {:?}",
                    x.elem(),
                    z.elem(),
                    z.shape()
                )));
            }
        }
        let act = self.act;
        one(with_float!(x.elem(), F => {
            let (xd, wd) = (data::<F>(x)?, data::<F>(w)?);
            let bd = b.map(data::<F>).transpose()?;
            let zd = z.map(data::<F>).transpose()?;
            output::<F>(ctx, x.elem(), &shape_i64(&out_shape), |o| {
                let packed = self.packed.as_ref().filter(|(_, id)| id.matches(w));
                let packed = packed.map(|(p, _)| &p[..]);
                let epilogue = Epilogue { z: zd.as_deref(), act };
                let lanes = self.lanes.as_ref().filter(|(_, id)| id.matches(w));
                let lanes = lanes.map(|(l, _)| &l[..]);
                let wino = self.winograd.as_ref().filter(|(_, id)| id.matches(w));
                if let Some((u, _)) = wino {
                    if by_winograd(&p, u, &xd, bd.as_deref(), o, epilogue, ctx.threads) {
                        return;
                    }
                }
                let pre = Prepacked { gemm: packed, lanes };
                conv(&p, &xd, &wd, bd.as_deref(), pre, o, epilogue, ctx.threads);
            })
        })?)
    }
}

crate::register!("Conv", [1, LATEST], FLOATS, build);

/// The convolution by its Winograd weights, image by image; false, doing
/// nothing, where this call's shapes do not suit them (not float32, other
/// planes than the declared ones).
fn by_winograd<F: Flt>(
    p: &Shape,
    u: &winograd::Weights,
    x: &[F],
    b: Option<&[F]>,
    out: &mut [F],
    ep: Epilogue<'_, F>,
    threads: usize,
) -> bool {
    let (Some(x), Some(out)) = (as_f32(x), as_f32_mut(out)) else {
        return false;
    };
    let g = &p.g;
    if p.group != 1 || !winograd::fits(g) || !winograd::worth(p.c, p.m, (g.output[0], g.output[1]))
    {
        return false;
    }
    let (b, z) = (b.and_then(as_f32), ep.z.and_then(as_f32));
    let (image_in, image_out) = (p.c * numel(&g.input), p.m * numel(&g.output));
    for (ni, (xn, on)) in x
        .chunks(image_in)
        .zip(out.chunks_mut(image_out))
        .enumerate()
    {
        let zn = z.map(|z| &z[ni * image_out..(ni + 1) * image_out]);
        winograd::conv(u, g, xn, b, on, zn, ep.act, threads);
    }
    true
}

/// What was packed at session creation from constant weights.
#[derive(Clone, Copy, Default)]
pub(super) struct Prepacked<'a> {
    /// Per group, the GEMM operand.
    pub gemm: Option<&'a [PackedA]>,
    /// Depthwise kernels with channels as lanes.
    pub lanes: Option<&'a [[f32; 16]]>,
}

/// What FusedConv does after the convolution: add a residual, then an activation.
#[derive(Clone, Copy)]
pub(super) struct Epilogue<'a, F> {
    pub z: Option<&'a [F]>,
    pub act: Option<Act>,
}

/// The convolution proper, then its epilogue: shifted-row GEMMs (conv_shift)
/// for 1-D and 2-D convolutions where the AVX-512 kernel runs, which apply the
/// epilogue as they write; otherwise im2col + GEMM per image and group, with
/// the bias as the GEMM's starting value (1x1 unit-stride convolutions skip
/// im2col); depthwise ones run directly.
#[allow(clippy::too_many_arguments)]
pub(super) fn conv<F: Flt>(
    p: &Shape,
    x: &[F],
    w: &[F],
    b: Option<&[F]>,
    pre: Prepacked<'_>,
    out: &mut [F],
    epilogue: Epilogue<'_, F>,
    threads: usize,
) {
    let (g, packed) = (&p.g, pre.gemm);
    let (cg, mg) = (p.c / p.group, p.m / p.group);
    let (in_sz, out_sz) = (numel(&g.input), numel(&g.output));
    let kdim = cg * numel(&g.kernel);
    if out.is_empty() {
        return;
    }
    if p.group > 1 && cg == 1 && g.rank() <= 2 {
        if lanes(p, x, w, b, pre.lanes, out, epilogue, threads) {
            return;
        }
        depthwise(p, x, w, b, out, threads);
        return finish(out, epilogue.z, epilogue.act, threads);
    }
    let pointwise = g.kernel.iter().all(|&k| k == 1)
        && g.strides.iter().all(|&s| s == 1)
        && g.pad_begin.iter().chain(&g.pad_end).all(|&p| p == 0);
    if pointwise && p.group == 1 && self::pointwise(p, x, w, b, packed, out, epilogue, threads) {
        return;
    }
    let group_work = mg * out_sz * kdim;
    // Many small groups: run the groups side by side, each single-threaded.
    let split = p.group > 1 && threads > 1 && (p.group >= threads || group_work < PAR_WORK * 16);
    let one_group = |gi: usize, xn: &[F], og: &mut [F], col: &mut [F], threads: usize| {
        let xg = &xn[gi * cg * in_sz..(gi + 1) * cg * in_sz];
        if let Some(b) = b {
            for (r, row) in og.chunks_mut(out_sz).enumerate() {
                row.fill(b[gi * mg + r]);
            }
        }
        let rhs = if pointwise {
            xg
        } else {
            im2col(xg, g, col, threads);
            col
        };
        let dims = (mg, out_sz, kdim);
        let acc = b.is_some();
        let wg = Mat::rows(&w[gi * mg * kdim..(gi + 1) * mg * kdim], kdim);
        let pa = packed.and_then(|p| p.get(gi));
        if pointwise && blas::runs_f32_kernel::<F>() {
            // Channel rows read in place by the kernel: no packing pass over X.
            let rows: Vec<usize> = (0..kdim).map(|c| c * out_sz).collect();
            if gemm_rows(dims, pa, wg, (rhs, &rows), og, out_sz, acc, threads, None) {
                return;
            }
        }
        if let Some(pa) = pa {
            if gemm_prepacked_a(dims, pa, Mat::rows(rhs, out_sz), og, out_sz, acc, threads) {
                return;
            }
        }
        gemm(
            (mg, out_sz, kdim),
            wg,
            Mat::rows(rhs, out_sz),
            og,
            out_sz,
            F::one(),
            b.is_some(),
            threads,
        );
    };
    // 1-D and 2-D convolutions on the AVX-512 kernel read shifted input rows
    // (conv_shift) instead of an im2col copy.
    let shifted = |gi: usize, xn: &[F], og: &mut [F], ep: Epilogue<'_, F>, threads: usize| {
        let xg = &xn[gi * cg * in_sz..(gi + 1) * cg * in_sz];
        let wg = &w[gi * mg * kdim..(gi + 1) * mg * kdim];
        let bg = b.map(|b| &b[gi * mg..(gi + 1) * mg]);
        let pa = packed.and_then(|p| p.get(gi));
        conv_shift::conv(p, xg, wg, bg, pa, og, ep, threads)
    };
    let image = p.m * out_sz;
    if !pointwise && g.rank() <= 2 && blas::runs_f32_kernel::<F>() {
        let images = out.len() / image;
        for (ni, on) in out.chunks_mut(image).enumerate() {
            let xn = &x[ni * p.c * in_sz..(ni + 1) * p.c * in_sz];
            let zn = epilogue.z.map(|z| &z[ni * image..(ni + 1) * image]);
            let one = |(gi, og): (usize, &mut [F]), threads: usize| {
                let zg = zn.map(|z| &z[gi * mg * out_sz..(gi + 1) * mg * out_sz]);
                let ep = Epilogue { z: zg, ..epilogue };
                shifted(gi, xn, og, ep, threads)
            };
            let done = if split {
                let all = AtomicBool::new(true);
                for_each_chunk(threads, on, mg * out_sz, |gi, og| {
                    if !one((gi, og), 1) {
                        all.store(false, Ordering::Relaxed);
                    }
                });
                all.into_inner()
            } else {
                on.chunks_mut(mg * out_sz)
                    .enumerate()
                    .all(|g| one(g, threads))
            };
            if !done {
                // Too few output columns for the kernel's tiles (every group and
                // image alike): im2col below redoes the whole output.
                break;
            }
            if ni + 1 == images {
                return;
            }
        }
    }
    let col_len = if pointwise { 0 } else { kdim * out_sz };
    for (ni, on) in out.chunks_mut(p.m * out_sz).enumerate() {
        let xn = &x[ni * p.c * in_sz..(ni + 1) * p.c * in_sz];
        if split {
            for_each_chunk(threads, on, mg * out_sz, |gi, og| {
                with_scratch(col_len, |col| one_group(gi, xn, og, col, 1))
            });
        } else {
            with_scratch(col_len, |col| {
                for (gi, og) in on.chunks_mut(mg * out_sz).enumerate() {
                    one_group(gi, xn, og, col, threads);
                }
            });
        }
    }
    finish(out, epilogue.z, epilogue.act, threads);
}

/// A 1×1 unit-stride convolution of one group as one GEMM per image that
/// reads the input's channel planes in place. Each task adds the bias and
/// the epilogue to the columns it computed (as it stores each tile, for ReLU
/// and Clip), so that a layer's output stays split by columns across the
/// cores, as the next layer's GEMM reads it. (A bias written ahead by the
/// calling thread and an epilogue pass split another way made each core read
/// what the other had written: twice the time where the two vCPUs sat on
/// different CCDs.) False, doing nothing, where the AVX-512 kernel does not
/// take the product.
#[allow(clippy::too_many_arguments)]
fn pointwise<F: Flt>(
    p: &Shape,
    x: &[F],
    w: &[F],
    b: Option<&[F]>,
    packed: Option<&[PackedA]>,
    out: &mut [F],
    ep: Epilogue<'_, F>,
    threads: usize,
) -> bool {
    if !blas::runs_f32_kernel::<F>() {
        return false;
    }
    let sz = numel(&p.g.output);
    let (image_in, image_out) = (p.c * sz, p.m * sz);
    let rows: Vec<usize> = (0..p.c).map(|c| c * sz).collect();
    let (bias, z) = (b.and_then(as_f32), ep.z.and_then(as_f32));
    let pa = packed.and_then(|p| p.first());
    for (ni, on) in out.chunks_mut(image_out).enumerate() {
        let xn = &x[ni * image_in..][..image_in];
        let zn = z.map(|z| &z[ni * image_out..][..image_out]);
        let part = |m: usize, j: usize, o: &mut [f32]| {
            if let Some(b) = bias {
                o.iter_mut().for_each(|v| *v += b[m]);
            }
            let zp = zn.map(|z| &z[m * sz + j..][..o.len()]);
            add_then_apply(o, zp, ep.act);
        };
        let dims = (p.m, sz, p.c);
        let a = Mat::rows(w, p.c);
        let then = match (zn, clamp_bounds(ep.act)) {
            (None, None) if matches!(ep.act, Some(Act::HardSwish)) => {
                Some(Then::HardSwish(bias.map_or(Bias::None, Bias::Rows)))
            }
            (None, Some(None)) if bias.is_none() => None,
            (None, Some(c)) => {
                let (lo, hi) = c.unwrap_or((f64::NEG_INFINITY, f64::INFINITY));
                let bias = bias.map_or(Bias::None, Bias::Rows);
                Some(Then::Clamp(bias, lo as f32, hi as f32))
            }
            _ => Some(Then::Parts(&part)),
        };
        if !gemm_rows(dims, pa, a, (xn, &rows), on, sz, false, threads, then) {
            // Too thin for the kernel: the same for every image, so this is
            // the first and nothing was written.
            return false;
        }
    }
    true
}

/// Unfolds one group's input into `col`: a row per (channel, kernel tap), a column
/// per output position, zero where the tap falls in the padding.
pub(super) fn im2col<F: Flt>(x: &[F], g: &Geom, col: &mut [F], threads: usize) {
    let out_sz = numel(&g.output);
    let threads = if col.len() >= PAR_WORK * 4 {
        threads
    } else {
        1
    };
    for_each_chunk(threads, col, out_sz, |ri, d| im2col_row(x, g, ri, d));
}

/// Depthwise f32 convolutions with one output channel per input channel, on
/// AVX-512: channels as vector lanes (`channel_blocks`), epilogue included.
/// False, doing nothing, elsewhere.
#[allow(clippy::too_many_arguments)]
fn lanes<F: Flt>(
    p: &Shape,
    x: &[F],
    w: &[F],
    b: Option<&[F]>,
    packed: Option<&[[f32; 16]]>,
    out: &mut [F],
    ep: Epilogue<'_, F>,
    threads: usize,
) -> bool {
    #[cfg(target_arch = "x86_64")]
    if p.m == p.c {
        let g = p.g.lifted(2);
        // A row kernel where one fits (AVX-512 or AVX2), else channel lanes.
        type Rows =
            fn(&Geom, usize, &[f32], &[f32], Option<&[f32]>, &mut [f32], Epilogue<'_, f32>, usize);
        let rows: Option<Rows> = if super::depthwise_rows::fits(&g) {
            Some(super::depthwise_rows::depthwise)
        } else if super::depthwise_rows_avx2::fits(&g) {
            Some(super::depthwise_rows_avx2::depthwise)
        } else {
            None
        };
        if rows.is_none() && !super::channel_blocks::available() {
            return false;
        }
        let (Some(x), Some(w), Some(out)) = (as_f32(x), as_f32(w), as_f32_mut(out)) else {
            return false;
        };
        let (b, z) = (b.and_then(as_f32), ep.z.and_then(as_f32));
        let (image_in, image_out) = (p.c * numel(&g.input), p.m * numel(&g.output));
        if let Some(rows) = rows {
            for (ni, (xn, on)) in x
                .chunks(image_in)
                .zip(out.chunks_mut(image_out))
                .enumerate()
            {
                let zn = z.map(|z| &z[ni * image_out..(ni + 1) * image_out]);
                let ep = Epilogue { z: zn, act: ep.act };
                rows(&g, p.c, xn, w, b, on, ep, threads);
            }
            return true;
        }
        let taps = numel(&g.kernel);
        let packed_now;
        let w = match packed {
            Some(w) if w.len() == p.c.div_ceil(16) * taps => w,
            _ => {
                packed_now = super::channel_blocks::pack(w, p.c, taps);
                &packed_now
            }
        };
        let fold = super::channel_blocks::Fold::Conv { w, b };
        for (ni, (xn, on)) in x
            .chunks(image_in)
            .zip(out.chunks_mut(image_out))
            .enumerate()
        {
            let zn = z.map(|z| &z[ni * image_out..(ni + 1) * image_out]);
            let ep = Epilogue { z: zn, act: ep.act };
            super::channel_blocks::run(&g, p.c, xn, &fold, on, ep, threads);
        }
        return true;
    }
    let _ = (p, x, w, b, packed, out, ep, threads);
    false
}

/// One input channel per group: each output plane is a direct 2-D stencil over its
/// input plane, planes in parallel.
fn depthwise<F: Flt>(p: &Shape, x: &[F], w: &[F], b: Option<&[F]>, out: &mut [F], threads: usize) {
    let g = p.g.lifted(2);
    let mg = p.m / p.c;
    let (in_sz, out_sz, kv) = (numel(&g.input), numel(&g.output), numel(&g.kernel));
    // Small planes share their setup 16 channels at a time; on larger ones the
    // interleaving costs more than the per-plane kernel's setup (measured on
    // MobileNetV3: 7×7 planes gain, 14×14 lose), except with the FMA sums
    // (f32 on AVX2), where its 14×14 5×5 layers took a quarter less time.
    let blocked = if depthwise_blocked::fma::<F>() {
        196
    } else {
        64
    };
    if mg == 1 && out_sz <= blocked {
        for (xn, on) in x.chunks(p.c * in_sz).zip(out.chunks_mut(p.m * out_sz)) {
            depthwise_blocked::depthwise(&g, xn, w, b, on, threads);
        }
        return;
    }
    let scratch = depthwise_scratch(&g);
    let plane = |pi: usize, o: &mut [F]| {
        let (ni, mi) = (pi / p.m, pi % p.m);
        let xc = &x[(ni * p.c + mi / mg) * in_sz..][..in_sz];
        let (wk, bias) = (&w[mi * kv..][..kv], b.map_or(F::zero(), |b| b[mi]));
        with_scratch(scratch, |s| depthwise_plane(&g, xc, wk, bias, s, o))
    };
    let threads = if out.len() * kv >= PAR_WORK {
        threads
    } else {
        1
    };
    for_each_chunk(threads, out, out_sz, plane);
}
