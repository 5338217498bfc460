//! QuantizedConv (fused domain, `docs/fused-ops.md`): the convolution of a QDQ
//! model, whose input is re-quantized with its DequantizeLinear's parameters and
//! whose weights stay int8 or uint8. Pointwise convolutions (1×1, stride 1, no
//! padding, one group) on a CPU with AVX-512 VNNI or AVX2 run as an exact
//! integer GEMM: the activations are quantized while they are packed, and the
//! store scales, biases and applies the activation. Anything else dequantizes the weights once
//! and runs the float convolution on the re-quantized input.

use ort_core::ElemType::{F32, I8, U8};
use ort_core::{Error, Tensor, Value};

use crate::kernel::{input, one, opt_input, ConstId, Ctx, Kernel, NodeInfo, Outputs};
use crate::ops::fused::activation::{add_then_apply, clamp_bounds, Act};
use crate::ops::nn::{conv, simd_fn};
use crate::ops::quant::loops::{round_trip, Qdq};
use crate::ops::quant::pack_levels::pack_levels;
use crate::ops::quant::qgemm::{qgemm_tiles, simd, Layout, PackedA, Tile, TileOut, MR, NR};
use crate::ops::quant::QInt;
use crate::ops::LATEST;

// Inputs.
const X: usize = 0;
const X_SCALE: usize = 1;
const X_ZP: usize = 2;
const W: usize = 3;
const W_SCALE: usize = 4;
const W_ZP: usize = 5;
const B: usize = 6;

/// Fewer output positions per image than this take the float path.
const MIN_POSITIONS: usize = 16;

struct QuantizedConv {
    /// The weights packed for the integer GEMM (constant W, pointwise, SIMD).
    packed: Option<(PackedA, ConstId)>,
    act: Option<Act>,
    /// The float convolution: over `weights` (W dequantized at session
    /// creation) when W is constant, else over W dequantized per run.
    float: Box<dyn Kernel>,
    weights: Option<(Value, ConstId)>,
    /// W's scales and zero points, read at session creation when both are
    /// constants (a missing zero point counts as one), with their identities.
    channels: Option<(Channels, Vec<Option<ConstId>>)>,
}

/// Scales and zero points: both one value, or one per output channel.
type Channels = (Vec<f32>, Vec<i32>);

fn build(info: &NodeInfo<'_, '_>) -> Result<Box<dyn Kernel>, Error> {
    let act = Act::parse(info)?;
    let w = info.constant_with_id(W);
    let params = (info.constant_input(W_SCALE), info.constant_input(W_ZP));
    // A GEMM panel is 32 positions wide: a few positions (a squeeze-and-excite
    // layer's single one) waste most of it, and the float product is faster.
    let positions: Option<usize> = info
        .input_dims(X)
        .and_then(|d| d.get(2..)?.iter().copied().product());
    let pointwise = pointwise(info)? && positions.is_none_or(|p| p >= MIN_POSITIONS);
    let packed = match (w.clone(), params) {
        (Some((w, id)), _) if pointwise && simd() && w.shape().len() >= 3 => {
            let (m, k) = (w.shape()[0] as usize, w.shape()[1] as usize);
            let native = Layout::native();
            match w.elem() {
                I8 => Some((PackedA::new(w.as_slice::<i8>()?, m, k, k, native), id)),
                U8 => Some((PackedA::new(w.as_slice::<u8>()?, m, k, k, native), id)),
                _ => None,
            }
        }
        _ => None,
    };
    let weights = match (w.clone(), params) {
        (Some((w, id)), (Some(s), z)) if packed.is_none() => {
            let wf = Tensor::from_vec(w.shape(), dequantize(w, s, z)?)?;
            Some((Value::Tensor(wf), id))
        }
        _ => None,
    };
    let float = match &weights {
        Some((Value::Tensor(wf), _)) => conv::build_fused_with(info, wf)?,
        _ => conv::build_fused_with_any(info)?,
    };
    let z = info.constant_with_id(W_ZP);
    let channels = match (w, info.constant_with_id(W_SCALE)) {
        (Some((w, _)), Some((s, s_id))) if z.is_some() || info.input_name(W_ZP).is_none() => {
            let m = w.shape().first().copied().unwrap_or(0).max(0) as usize;
            let params = channel_params(w, s, z.as_ref().map(|z| z.0), m)?;
            Some((params, vec![Some(s_id), z.map(|z| z.1)]))
        }
        _ => None,
    };
    Ok(Box::new(QuantizedConv {
        packed,
        act,
        float,
        weights,
        channels,
    }))
}

/// Whether the attributes make every output one input position's channels.
fn pointwise(info: &NodeInfo<'_, '_>) -> Result<bool, Error> {
    let all = |name: &str, v: i64| -> Result<bool, Error> {
        Ok(info.ints(name)?.is_none_or(|a| a.iter().all(|&x| x == v)))
    };
    let kernel_ones = match info.constant_input(W) {
        Some(w) => w.shape().len() >= 3 && w.shape()[2..].iter().all(|&d| d == 1),
        None => false,
    };
    Ok(kernel_ones
        && info.int("group", 1)? == 1
        && all("strides", 1)?
        && all("dilations", 1)?
        && all("pads", 0)?
        && all("kernel_shape", 1)?)
}

/// `(W − W_zero_point) · W_scale` per output channel (axis 0), as
/// DequantizeLinear computes it.
fn dequantize(w: &Tensor, s: &Tensor, z: Option<&Tensor>) -> Result<Vec<f32>, Error> {
    let m = w.shape().first().copied().unwrap_or(0).max(0) as usize;
    let per = w.len().checked_div(m).unwrap_or(0);
    let (scales, zps) = channel_params(w, s, z, m)?;
    let ch = |i: usize| if scales.len() == 1 { 0 } else { i / per };
    Ok(match w.elem() {
        I8 => dequantized(w.as_slice::<i8>()?, &scales, &zps, ch),
        U8 => dequantized(w.as_slice::<u8>()?, &scales, &zps, ch),
        e => return Err(Error::invalid(format!("W must be int8 or uint8, got {e}"))),
    })
}

fn dequantized<T: QInt>(w: &[T], s: &[f32], z: &[i32], ch: impl Fn(usize) -> usize) -> Vec<f32> {
    w.iter()
        .enumerate()
        .map(|(i, q)| (q.to_i32() - z[ch(i)]) as f32 * s[ch(i)])
        .collect()
}

/// W's scales and zero points: both one value, or one per output channel.
fn channel_params(
    w: &Tensor,
    s: &Tensor,
    z: Option<&Tensor>,
    m: usize,
) -> Result<(Vec<f32>, Vec<i32>), Error> {
    let scales = s.as_slice::<f32>()?.to_vec();
    let zps: Vec<i32> = match z {
        Some(z) if z.elem() != w.elem() => {
            return Err(Error::invalid("W_zero_point must have W's type"))
        }
        Some(z) => match z.elem() {
            I8 => z.as_slice::<i8>()?.iter().map(|&v| v as i32).collect(),
            _ => z.as_slice::<u8>()?.iter().map(|&v| v as i32).collect(),
        },
        None => vec![0; scales.len()],
    };
    if !(scales.len() == 1 || scales.len() == m) || zps.len() != scales.len() {
        return Err(Error::invalid(format!(
            "W_scale {:?} and W_zero_point {:?} must both have 1 or M = {m} values",
            s.shape(),
            z.map(|z| z.shape().to_vec())
        )));
    }
    Ok((scales, zps))
}

/// Whether an optional input is the constant `id` was taken from (both absent
/// counts).
fn same(id: &Option<ConstId>, t: Option<&Tensor>) -> bool {
    match (id, t) {
        (Some(id), Some(t)) => id.matches(t),
        (None, None) => true,
        _ => false,
    }
}

/// X's quantizer: scale, zero point and the range of the zero point's type.
fn x_quantizer(inputs: &[Option<&Value>]) -> Result<(f32, i32, (i32, i32)), Error> {
    let (s, z) = (input(inputs, X_SCALE)?, input(inputs, X_ZP)?);
    if s.elem() != F32 || s.len() != 1 || z.len() != 1 {
        return Err(Error::invalid(
            "X_scale must be one float32 and X_zero_point one value",
        ));
    }
    let scale = s.as_slice::<f32>()?[0];
    Ok(match z.elem() {
        U8 => (scale, z.as_slice::<u8>()?[0] as i32, (0, 255)),
        I8 => (scale, z.as_slice::<i8>()?[0] as i32, (-128, 127)),
        e => {
            return Err(Error::invalid(format!(
                "X_zero_point must be int8 or uint8, got {e}"
            )))
        }
    })
}

impl Kernel for QuantizedConv {
    fn compute(&self, inputs: &[Option<&Value>], ctx: &Ctx<'_>) -> Outputs {
        let (x, w) = (input(inputs, X)?, input(inputs, W)?);
        if x.elem() != F32 || opt_input(inputs, B)?.is_some_and(|b| b.elem() != F32) {
            return Err(Error::invalid("X and B must be float32"));
        }
        let (xs, xz, range) = x_quantizer(inputs)?;
        if let Some((a, _)) = self.packed.as_ref().filter(|(_, id)| id.matches(w)) {
            return self.integer(a, inputs, (xs, xz, range), ctx);
        }
        // The float convolution, on X re-quantized as the op defines it.
        let mut xq = vec![0f32; x.len()];
        round_trip(x.as_slice::<f32>()?, &mut xq, xs, xz, range);
        let xq = Value::Tensor(Tensor::from_vec(x.shape(), xq)?);
        let dequantized;
        let wf = match &self.weights {
            Some((wf, id)) if id.matches(w) => wf,
            _ => {
                let s = input(inputs, W_SCALE)?;
                let wf = dequantize(w, s, opt_input(inputs, W_ZP)?)?;
                dequantized = Value::Tensor(Tensor::from_vec(w.shape(), wf)?);
                &dequantized
            }
        };
        let b = inputs.get(B).copied().flatten();
        self.float.compute(&[Some(&xq), Some(wf), b], ctx)
    }
}

impl QuantizedConv {
    fn integer(
        &self,
        a: &PackedA,
        inputs: &[Option<&Value>],
        (xs, xz, (lo, hi)): (f32, i32, (i32, i32)),
        ctx: &Ctx<'_>,
    ) -> Outputs {
        let (x, w) = (input(inputs, X)?, input(inputs, W)?);
        let (m, k) = (w.shape()[0] as usize, w.shape()[1] as usize);
        let shape = x.shape();
        if shape.len() != w.shape().len() || shape[1] as usize != k {
            return Err(Error::invalid(format!(
                "X {shape:?} does not fit W {:?}",
                w.shape()
            )));
        }
        let (s, z) = (input(inputs, W_SCALE)?, opt_input(inputs, W_ZP)?);
        let read;
        let (scales, zps) = match &self.channels {
            Some((params, ids)) if same(&ids[0], Some(s)) && same(&ids[1], z) => params,
            _ => {
                read = channel_params(w, s, z, m)?;
                &read
            }
        };
        let bias = match opt_input(inputs, B)? {
            Some(b) if b.len() != m => {
                return Err(Error::invalid(format!(
                    "B has {} elements, expected {m}",
                    b.len()
                )))
            }
            Some(b) => Some(b.as_slice::<f32>()?),
            None => None,
        };
        let scale = |i: usize| xs * scales[if scales.len() == 1 { 0 } else { i }];
        let q = Qdq::new(xs, xz as f32, lo as f32, hi as f32);
        let shift = if lo == 0 { 128 } else { 0 };
        let (batch, n) = (
            shape[0] as usize,
            shape[2..].iter().product::<i64>() as usize,
        );
        let xd = x.as_slice::<f32>()?;
        let mut out_shape = shape.to_vec();
        out_shape[1] = m as i64;
        let act = self.act;
        let end = Epilogue::of(act);
        one(ctx.tensor::<f32>(&out_shape, |y| {
            for (b, y) in y.chunks_exact_mut((m * n).max(1)).enumerate().take(batch) {
                let x = &xd[b * k * n..][..k * n];
                let packed = pack_levels(x, (k, n), q, shift, a.layout, ctx.threads);
                qgemm_tiles(a, zps, &packed, &[xz], y, ctx.threads, |t, out| {
                    let bias = |r: usize| bias.map_or(0.0, |b| b[t.i0 + r]);
                    let rows: [(f32, f32); MR] = std::array::from_fn(|r| {
                        if r < t.rows {
                            (scale(t.i0 + r), bias(r))
                        } else {
                            (0.0, 0.0)
                        }
                    });
                    store_tile(t, &rows, end, out);
                    if let Epilogue::Other = end {
                        for r in 0..t.rows {
                            add_then_apply(out.row(r), None, act);
                        }
                    }
                });
            }
        })?)
    }
}

/// What the tile store applies itself; `Other` activations run after it.
#[derive(Clone, Copy)]
enum Epilogue {
    None,
    Clamp(f32, f32),
    Qdq(Qdq<f32>),
    Other,
}

impl Epilogue {
    fn of(act: Option<Act>) -> Epilogue {
        match act {
            None => Epilogue::None,
            Some(Act::QuantizeDequantize(s, z, lo, hi)) => {
                Epilogue::Qdq(Qdq::new(s as f32, z as f32, lo as f32, hi as f32))
            }
            a => match clamp_bounds(a) {
                Some(Some((lo, hi))) => Epilogue::Clamp(lo as f32, hi as f32),
                _ => Epilogue::Other,
            },
        }
    }
}

/// The tile's corrected products, times each row's multiplier plus its bias
/// (`rows`), through the epilogue, into the block's rows of `out`.
fn store_tile(
    t: &Tile<'_>,
    rows: &[(f32, f32); MR],
    end: Epilogue,
    out: &mut TileOut<'_, '_, f32>,
) {
    assert!(t.rows <= MR && t.cols <= NR && t.sums.len() >= t.cols && t.beta.len() >= t.cols);
    #[cfg(target_arch = "x86_64")]
    if std::arch::is_x86_feature_detected!("avx512f") {
        // SAFETY: the CPU has AVX-512F (checked just above); the assert above
        // bounds the tile's rows and columns, and each output row holds `cols`.
        return unsafe { store_tile_avx512(t, rows, end, out) };
    }
    store_rows(t, rows, end, out)
}

simd_fn! {
    /// `store_tile` as loops the compiler vectorizes (with FMA on AVX2).
    fn store_rows[](t: &Tile<'_>, rows: &[(f32, f32); MR], end: Epilogue, out: &mut TileOut<'_, '_, f32>) {
        for (r, &(mult, bias)) in rows.iter().enumerate().take(t.rows) {
            let (alpha, u) = (t.alpha[r], t.u[r]);
            let o = out.row(r);
            let vals = t.acc[r].iter().zip(t.sums).zip(t.beta).map(|((&a, &s), &b)| {
                let v = a.wrapping_sub(alpha.wrapping_mul(s)).wrapping_sub(b.wrapping_mul(u));
                (v as f32).mul_add(mult, bias)
            });
            let pairs = o.iter_mut().zip(vals);
            match end {
                Epilogue::Clamp(lo, hi) => pairs.for_each(|(o, f)| *o = f.max(lo).min(hi)),
                Epilogue::Qdq(q) if q.product => pairs.for_each(|(o, f)| *o = q.by_product(f)),
                Epilogue::Qdq(q) => pairs.for_each(|(o, f)| *o = q.by_division(f)),
                Epilogue::None | Epilogue::Other => pairs.for_each(|(o, f)| *o = f),
            }
        }
    }
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f")]
unsafe fn store_tile_avx512(
    t: &Tile<'_>,
    rows: &[(f32, f32); MR],
    end: Epilogue,
    out: &mut TileOut<'_, '_, f32>,
) {
    use std::arch::x86_64::*;
    for h in 0..t.cols.div_ceil(16) {
        let c = (t.cols - 16 * h).min(16);
        let k = ((1u32 << c) - 1) as __mmask16;
        // SAFETY: `c` values from 16·h on lie in `sums` and `beta` (asserted by
        // the caller); the rest are masked off.
        let (sums, beta) = unsafe {
            (
                _mm512_maskz_loadu_epi32(k, t.sums.as_ptr().add(16 * h)),
                _mm512_maskz_loadu_epi32(k, t.beta.as_ptr().add(16 * h)),
            )
        };
        for (r, &(mult, bias)) in rows.iter().enumerate().take(t.rows) {
            let (alpha, u) = (_mm512_set1_epi32(t.alpha[r]), _mm512_set1_epi32(t.u[r]));
            // SAFETY: a tile row holds 32 values.
            let acc =
                unsafe { _mm512_loadu_si512(t.acc[r].as_ptr().add(16 * h) as *const __m512i) };
            let v = _mm512_sub_epi32(acc, _mm512_mullo_epi32(alpha, sums));
            let v = _mm512_sub_epi32(v, _mm512_mullo_epi32(beta, u));
            let f = _mm512_fmadd_ps(
                _mm512_cvtepi32_ps(v),
                _mm512_set1_ps(mult),
                _mm512_set1_ps(bias),
            );
            let f = match end {
                Epilogue::Clamp(lo, hi) => {
                    _mm512_min_ps(_mm512_max_ps(f, _mm512_set1_ps(lo)), _mm512_set1_ps(hi))
                }
                Epilogue::Qdq(q) => q.lanes(f),
                Epilogue::None | Epilogue::Other => f,
            };
            // SAFETY: the tile's output row holds `cols` values, `c` of them
            // from 16·h on; masked stores are slow, so only tails use one.
            unsafe {
                let o = out.row(r).as_mut_ptr().add(16 * h);
                if c == 16 {
                    _mm512_storeu_ps(o, f);
                } else {
                    _mm512_mask_storeu_ps(o, k, f);
                }
            }
        }
    }
}

crate::register!(
    "QuantizedConv",
    "ai.ort_rs.fused",
    [1, LATEST],
    &[F32],
    0,
    build
);
