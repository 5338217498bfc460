//! Resize (opsets 10 to 19) and Upsample (7, 9): separable interpolation, one
//! resized axis at a time, each pass driven by a per-axis table of source indices
//! and weights.

use num_traits::{AsPrimitive, Bounded, NumCast};
use ort_core::{ElemType, Error, PodElement, Tensor, Value};
use rayon::prelude::*;

use super::{f64s, par};
use crate::kernel::{input, one, opt_input, Ctx, Kernel, NodeInfo, Outputs};
use crate::ops::nn::{data, output, Flt};
use crate::ops::{ANY, LATEST};
use crate::util::dims;

#[derive(Clone, Copy, PartialEq, Debug)]
enum Mode {
    Nearest,
    Linear,
    Cubic,
}

#[derive(Clone, Copy, PartialEq, Debug)]
enum Ctm {
    HalfPixel,
    HalfPixelSymmetric,
    PytorchHalfPixel,
    AlignCorners,
    Asymmetric,
    TfCropAndResize,
}

#[derive(Clone, Copy, PartialEq, Debug)]
enum Rounding {
    PreferFloor,
    PreferCeil,
    Floor,
    Ceil,
    /// Opset 10 and Upsample: floor when upsampling, ceil when downsampling.
    Simple,
}

#[derive(Clone, Copy, PartialEq, Debug)]
enum Policy {
    Stretch,
    NotLarger,
    NotSmaller,
}

/// Where the op's inputs are.
#[derive(Clone, Debug)]
enum Args {
    /// Upsample-7: scales attribute.
    Attr(Vec<f64>),
    /// Upsample-9 and Resize-10: (X, scales).
    Scales,
    /// Resize-11+: (X, roi, scales, sizes).
    Full,
}

struct Resize {
    args: Args,
    mode: Mode,
    ctm: Ctm,
    rounding: Rounding,
    cubic_a: f64,
    exclude_outside: bool,
    extrapolation: f64,
    antialias: bool,
    axes: Option<Vec<i64>>,
    policy: Policy,
}

fn build(info: &NodeInfo<'_, '_>) -> Result<Box<dyn Kernel>, Error> {
    let upsample = info.op() == "Upsample";
    let opset = info.opset();
    let legacy = upsample || opset < 11;
    let mode = match info.string("mode", "nearest")?.as_str() {
        "nearest" => Mode::Nearest,
        "linear" | "bilinear" | "trilinear" => Mode::Linear,
        "cubic" if !legacy => Mode::Cubic,
        m => return Err(Error::invalid(format!("unknown resize mode {m:?}"))),
    };
    let args = if upsample && opset < 9 {
        let s = info
            .floats("scales")?
            .ok_or_else(|| Error::invalid("Upsample-7 needs the scales attribute"))?;
        Args::Attr(s.into_iter().map(|v| v as f64).collect())
    } else if legacy {
        Args::Scales
    } else {
        Args::Full
    };
    let (ctm, rounding) = if legacy {
        (Ctm::Asymmetric, Rounding::Simple)
    } else {
        let ctm = match info
            .string("coordinate_transformation_mode", "half_pixel")?
            .as_str()
        {
            "half_pixel" => Ctm::HalfPixel,
            "half_pixel_symmetric" => Ctm::HalfPixelSymmetric,
            "pytorch_half_pixel" => Ctm::PytorchHalfPixel,
            "align_corners" => Ctm::AlignCorners,
            "asymmetric" => Ctm::Asymmetric,
            "tf_crop_and_resize" => Ctm::TfCropAndResize,
            "tf_half_pixel_for_nn" => {
                return Err(Error::not_implemented(
                    "coordinate_transformation_mode tf_half_pixel_for_nn",
                ))
            }
            m => {
                return Err(Error::invalid(format!(
                    "unknown coordinate_transformation_mode {m:?}"
                )))
            }
        };
        let rounding = match info.string("nearest_mode", "round_prefer_floor")?.as_str() {
            "round_prefer_floor" => Rounding::PreferFloor,
            "round_prefer_ceil" => Rounding::PreferCeil,
            "floor" => Rounding::Floor,
            "ceil" => Rounding::Ceil,
            m => return Err(Error::invalid(format!("unknown nearest_mode {m:?}"))),
        };
        (ctm, rounding)
    };
    let policy = match info.string("keep_aspect_ratio_policy", "stretch")?.as_str() {
        "stretch" => Policy::Stretch,
        "not_larger" => Policy::NotLarger,
        "not_smaller" => Policy::NotSmaller,
        p => {
            return Err(Error::invalid(format!(
                "unknown keep_aspect_ratio_policy {p:?}"
            )))
        }
    };
    let antialias = info.int("antialias", 0)? != 0;
    if antialias && mode == Mode::Nearest {
        return Err(Error::invalid("antialias is not defined for nearest mode"));
    }
    Ok(Box::new(Resize {
        args,
        mode,
        ctm,
        rounding,
        cubic_a: info.float("cubic_coeff_a", -0.75)? as f64,
        exclude_outside: info.int("exclude_outside", 0)? != 0,
        extrapolation: info.float("extrapolation_value", 0.0)? as f64,
        antialias,
        axes: info.ints("axes")?,
        policy,
    }))
}

/// One resized axis: for every output index, `taps` source indices and weights.
struct AxisMap {
    axis: usize,
    out: usize,
    taps: usize,
    idx: Vec<usize>,
    w: Vec<f64>,
    /// Output positions outside the crop (tf_crop_and_resize).
    extrap: Vec<bool>,
}

fn cubic(a: f64, x: f64) -> f64 {
    let x = x.abs();
    if x <= 1.0 {
        ((a + 2.0) * x - (a + 3.0)) * x * x + 1.0
    } else if x < 2.0 {
        ((a * x - 5.0 * a) * x + 8.0 * a) * x - 4.0 * a
    } else {
        0.0
    }
}

impl Resize {
    /// The source coordinate of output index `y`.
    fn source(&self, y: f64, scale: f64, n_in: usize, n_out: usize, roi: (f64, f64)) -> f64 {
        let (inw, out_f) = (n_in as f64, scale * n_in as f64);
        match self.ctm {
            Ctm::HalfPixel => (y + 0.5) / scale - 0.5,
            Ctm::HalfPixelSymmetric => {
                let adjustment = n_out as f64 / out_f;
                let offset = inw / 2.0 * (1.0 - adjustment);
                offset + (y + 0.5) / scale - 0.5
            }
            Ctm::PytorchHalfPixel => {
                if n_out == 1 {
                    -0.5
                } else {
                    (y + 0.5) / scale - 0.5
                }
            }
            Ctm::AlignCorners => {
                if out_f == 1.0 {
                    0.0
                } else {
                    y * (inw - 1.0) / (out_f - 1.0)
                }
            }
            Ctm::Asymmetric => y / scale,
            Ctm::TfCropAndResize => {
                let x = if out_f == 1.0 {
                    (roi.1 - roi.0) * (inw - 1.0) / 2.0
                } else {
                    y * (roi.1 - roi.0) * (inw - 1.0) / (out_f - 1.0)
                };
                x + roi.0 * (inw - 1.0)
            }
        }
    }

    fn axis_map(
        &self,
        axis: usize,
        n_in: usize,
        n_out: usize,
        scale: f64,
        roi: (f64, f64),
    ) -> AxisMap {
        let last = n_in as isize - 1;
        let clamp = |i: isize| i.clamp(0, last.max(0)) as usize;
        let taps = match self.mode {
            Mode::Nearest => 1,
            Mode::Linear if self.antialias && scale < 1.0 => {
                (2 - 2 * ((-1.0 / scale).floor() as isize + 1)) as usize
            }
            Mode::Cubic if self.antialias && scale < 1.0 => {
                (2 - 2 * ((-2.0 / scale).floor() as isize + 1)) as usize
            }
            Mode::Linear => 2,
            Mode::Cubic => 4,
        };
        let mut m = AxisMap {
            axis,
            out: n_out,
            taps,
            idx: Vec::with_capacity(n_out * taps),
            w: Vec::with_capacity(n_out * taps),
            extrap: Vec::with_capacity(n_out),
        };
        let s = if self.antialias { scale.min(1.0) } else { 1.0 };
        let mut ws = vec![0.0; taps];
        let mut is = vec![0isize; taps];
        for y in 0..n_out {
            let x = self.source(y as f64, scale, n_in, n_out, roi);
            m.extrap
                .push(self.ctm == Ctm::TfCropAndResize && (x < 0.0 || x > n_in as f64 - 1.0));
            let fl = x.floor();
            let integer = fl == x;
            if self.mode == Mode::Nearest {
                let frac = x - fl;
                let up = !integer
                    && match self.rounding {
                        Rounding::PreferFloor => frac > 0.5,
                        Rounding::PreferCeil => frac >= 0.5,
                        Rounding::Floor => false,
                        Rounding::Ceil => true,
                        Rounding::Simple => scale < 1.0,
                    };
                let i = if up { fl as isize + 1 } else { fl as isize };
                m.idx.push(clamp(i));
                m.w.push(1.0);
                continue;
            }
            let half = (taps / 2) as isize;
            let base = if integer {
                fl as isize - half
            } else {
                fl as isize - half + 1
            };
            for t in 0..taps {
                let i = base + t as isize;
                let d = (i as f64 - x) * s;
                is[t] = i;
                ws[t] = match self.mode {
                    Mode::Linear => (1.0 - d.abs()).max(0.0),
                    _ => cubic(self.cubic_a, d),
                };
            }
            if self.antialias {
                let sum: f64 = ws.iter().sum();
                if sum != 0.0 {
                    ws.iter_mut().for_each(|w| *w /= sum);
                }
            }
            if self.exclude_outside {
                for t in 0..taps {
                    if is[t] < 0 || is[t] > last {
                        ws[t] = 0.0;
                    }
                }
                let sum: f64 = ws.iter().sum();
                if sum != 0.0 {
                    ws.iter_mut().for_each(|w| *w /= sum);
                }
            }
            m.idx.extend(is.iter().map(|&i| clamp(i)));
            m.w.extend_from_slice(&ws);
        }
        m
    }

    /// The output shape and per-axis maps of the axes that change.
    fn plan(
        &self,
        inputs: &[Option<&Value>],
        x: &Tensor,
    ) -> Result<(Vec<usize>, Vec<AxisMap>), Error> {
        let shape = dims(x.shape());
        let r = shape.len();
        let nonempty = |i: usize| -> Result<Option<&Tensor>, Error> {
            Ok(opt_input(inputs, i)?.filter(|t| !t.is_empty()))
        };
        let (roi_t, scales_t, sizes_t) = match &self.args {
            Args::Attr(_) => (None, None, None),
            Args::Scales => (None, Some(input(inputs, 1)?), None),
            Args::Full => (nonempty(1)?, nonempty(2)?, nonempty(3)?),
        };
        let axes: Vec<usize> = match &self.axes {
            Some(a) => a
                .iter()
                .map(|&a| crate::util::axis(a, r))
                .collect::<Result<_, _>>()?,
            None => (0..r).collect(),
        };
        let mut scales = vec![1.0f64; r];
        let mut out = shape.clone();
        if let Some(sz) = sizes_t {
            let sz = sz.to_i64_vec()?;
            if sz.len() != axes.len() {
                return Err(Error::invalid(format!(
                    "sizes {sz:?} does not match {} axes",
                    axes.len()
                )));
            }
            if sz.iter().any(|&v| v < 0) {
                return Err(Error::invalid(format!("negative sizes {sz:?}")));
            }
            for (&a, &s) in axes.iter().zip(&sz) {
                out[a] = s as usize;
                scales[a] = s as f64 / shape[a] as f64;
            }
            if self.policy != Policy::Stretch {
                let it = axes.iter().map(|&a| scales[a]);
                let s = if self.policy == Policy::NotLarger {
                    it.fold(f64::INFINITY, f64::min)
                } else {
                    it.fold(f64::NEG_INFINITY, f64::max)
                };
                for &a in &axes {
                    scales[a] = s;
                    out[a] = (s * shape[a] as f64 + 0.5) as usize;
                }
            }
        } else {
            let sc = match (&self.args, scales_t) {
                (Args::Attr(s), _) => s.clone(),
                (_, Some(t)) => f64s(t)?,
                (_, None) => {
                    return Err(Error::invalid("Resize needs either scales or sizes"));
                }
            };
            if sc.len() != axes.len() {
                return Err(Error::invalid(format!(
                    "scales {sc:?} does not match {} axes",
                    axes.len()
                )));
            }
            if sc.iter().any(|&s| s.is_nan() || s <= 0.0) {
                return Err(Error::invalid(format!("scales {sc:?} must be positive")));
            }
            for (&a, &s) in axes.iter().zip(&sc) {
                scales[a] = s;
                out[a] = (s * shape[a] as f64) as usize;
            }
        }
        let mut roi = vec![(0.0, 1.0); r];
        if let (Some(t), Ctm::TfCropAndResize) = (roi_t, self.ctm) {
            let v = f64s(t)?;
            let n = v.len() / 2;
            if v.len() != 2 * axes.len() {
                return Err(Error::invalid(format!(
                    "roi {v:?} does not match {} axes",
                    axes.len()
                )));
            }
            for (i, &a) in axes.iter().enumerate() {
                roi[a] = (v[i], v[n + i]);
            }
        }
        let mut maps = Vec::new();
        for a in 0..r {
            let identity = (scales[a] - 1.0).abs() < 1e-9
                && out[a] == shape[a]
                && (roi[a].0.abs() < 1e-9 && (roi[a].1 - 1.0).abs() < 1e-9);
            if identity {
                continue;
            }
            if shape[a] == 0 && out[a] > 0 {
                return Err(Error::invalid(
                    "cannot resize an empty axis to a non-empty one",
                ));
            }
            maps.push(self.axis_map(a, shape[a], out[a], scales[a], roi[a]));
        }
        Ok((out, maps))
    }
}

/// One pass along `m.axis` of a tensor of shape `shape` (updated to the result's).
fn pass<T: Copy + Send + Sync + Default>(
    src: &[T],
    shape: &mut [usize],
    m: &AxisMap,
    threads: usize,
    row: impl Fn(&mut [T], &[T], usize, usize, &[usize], &[f64], bool) + Sync + Send,
) -> Vec<T> {
    let a = m.axis;
    let outer: usize = shape[..a].iter().product();
    let inner: usize = shape[a + 1..].iter().product();
    let n_in = shape[a];
    shape[a] = m.out;
    let mut out = vec![T::default(); outer * m.out * inner];
    if inner == 0 || out.is_empty() {
        return out;
    }
    let f = |(r, dst): (usize, &mut [T])| {
        let (ob, o) = (r / m.out, r % m.out);
        let plane = &src[ob * n_in * inner..(ob + 1) * n_in * inner];
        let taps = o * m.taps..(o + 1) * m.taps;
        row(
            dst,
            plane,
            inner,
            o,
            &m.idx[taps.clone()],
            &m.w[taps],
            m.extrap[o],
        );
    };
    if par(threads, out.len() * m.taps) {
        out.par_chunks_mut(inner)
            .with_min_len((4096 / inner).max(1))
            .enumerate()
            .for_each(f);
    } else {
        out.chunks_mut(inner).enumerate().for_each(f);
    }
    out
}

/// Nearest resize of any plain element type: pure gathers.
fn nearest<T: PodElement>(
    x: &[T],
    shape: &[usize],
    maps: &[AxisMap],
    fill: T,
    threads: usize,
) -> Vec<T> {
    let mut shape = shape.to_vec();
    let mut cur: Vec<T> = Vec::new();
    for (k, m) in maps.iter().enumerate() {
        let src = if k == 0 { x } else { &cur[..] };
        let next = pass(
            src,
            &mut shape,
            m,
            threads,
            |dst, plane, inner, _, idx, _, ex| {
                if ex {
                    dst.fill(fill);
                } else {
                    dst.copy_from_slice(&plane[idx[0] * inner..(idx[0] + 1) * inner]);
                }
            },
        );
        cur = next;
    }
    if maps.is_empty() {
        x.to_vec()
    } else {
        cur
    }
}

/// Linear or cubic resize in float type `F`.
fn interpolate<F: Flt + Default>(
    x: &[F],
    shape: &[usize],
    maps: &[AxisMap],
    fill: f64,
    threads: usize,
) -> Vec<F> {
    let mut shape = shape.to_vec();
    let mut cur: Vec<F> = Vec::new();
    let fill = F::of(fill);
    for (k, m) in maps.iter().enumerate() {
        let src = if k == 0 { x } else { &cur[..] };
        let next = pass(
            src,
            &mut shape,
            m,
            threads,
            |dst, plane, inner, _, idx, w, ex| {
                if ex {
                    dst.fill(fill);
                    return;
                }
                if inner == 1 {
                    dst[0] = idx
                        .iter()
                        .zip(w)
                        .fold(F::zero(), |s, (&i, &w)| s + plane[i] * F::of(w));
                    return;
                }
                dst.fill(F::zero());
                for (&i, &w) in idx.iter().zip(w) {
                    if w == 0.0 {
                        continue;
                    }
                    let w = F::of(w);
                    for (d, &s) in dst.iter_mut().zip(&plane[i * inner..(i + 1) * inner]) {
                        *d += w * s;
                    }
                }
            },
        );
        cur = next;
    }
    if maps.is_empty() {
        x.to_vec()
    } else {
        cur
    }
}

fn ints<T>(
    ctx: &Ctx<'_>,
    x: &Tensor,
    out: &[i64],
    maps: &[AxisMap],
    fill: f64,
) -> Result<Tensor, Error>
where
    T: PodElement + AsPrimitive<f64> + NumCast + Bounded,
{
    let xs: Vec<f64> = x.as_slice::<T>()?.iter().map(|v| v.as_()).collect();
    let r = interpolate::<f64>(&xs, &dims(x.shape()), maps, fill, ctx.threads);
    let (lo, hi) = (T::min_value().as_(), T::max_value().as_());
    ctx.tensor::<T>(out, |o| {
        for (o, &v) in o.iter_mut().zip(&r) {
            *o = NumCast::from(v.round().clamp(lo, hi)).unwrap_or_default();
        }
    })
}

impl Kernel for Resize {
    fn compute(&self, inputs: &[Option<&Value>], ctx: &Ctx<'_>) -> Outputs {
        let x = input(inputs, 0)?;
        let (out, maps) = self.plan(inputs, x)?;
        let shape = dims(x.shape());
        let out_i: Vec<i64> = out.iter().map(|&d| d as i64).collect();
        let ev = self.extrapolation;
        let t = ctx.threads;
        let res = if self.mode == Mode::Nearest {
            crate::dispatch_pod!(x.elem(), T => {
                let fill: T = match x.elem() {
                    ElemType::F32 => bytemuck_cast::<f32, T>(ev as f32),
                    ElemType::F64 => bytemuck_cast::<f64, T>(ev),
                    ElemType::F16 => bytemuck_cast::<half::f16, T>(half::f16::from_f64(ev)),
                    ElemType::BF16 => bytemuck_cast::<half::bf16, T>(half::bf16::from_f64(ev)),
                    _ => T::default(),
                };
                let r = nearest::<T>(x.as_slice::<T>()?, &shape, &maps, fill, t);
                ctx.tensor_from(&out_i, &r)
            })
        } else {
            match x.elem() {
                ElemType::I8 => ints::<i8>(ctx, x, &out_i, &maps, ev),
                ElemType::U8 => ints::<u8>(ctx, x, &out_i, &maps, ev),
                ElemType::I16 => ints::<i16>(ctx, x, &out_i, &maps, ev),
                ElemType::U16 => ints::<u16>(ctx, x, &out_i, &maps, ev),
                ElemType::I32 => ints::<i32>(ctx, x, &out_i, &maps, ev),
                ElemType::U32 => ints::<u32>(ctx, x, &out_i, &maps, ev),
                ElemType::I64 => ints::<i64>(ctx, x, &out_i, &maps, ev),
                ElemType::U64 => ints::<u64>(ctx, x, &out_i, &maps, ev),
                e => crate::with_float!(e, F => {
                    let xd = data::<F>(x)?;
                    let r = interpolate::<F>(&xd, &shape, &maps, ev, t);
                    output::<F>(ctx, e, &out_i, |o| o.copy_from_slice(&r))
                }),
            }
        }?;
        one(res)
    }
}

/// `v` reinterpreted as `T`, where both are the same type (checked at run time).
fn bytemuck_cast<A: Copy + 'static, T: Copy + Default + 'static>(v: A) -> T {
    (&v as &dyn std::any::Any)
        .downcast_ref::<T>()
        .copied()
        .unwrap_or_default()
}

crate::register!("Resize", [10, LATEST], ANY, build);
crate::register!("Upsample", [7, 9], ANY, build);
