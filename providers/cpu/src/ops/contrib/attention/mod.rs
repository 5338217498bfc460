//! onnxruntime's attention contrib ops (`com.microsoft`): Attention,
//! MultiHeadAttention, GroupQueryAttention, RotaryEmbedding and
//! EmbedLayerNormalization. Attention and MultiHeadAttention turn their masks
//! into one additive mask and run the fused domain's MultiHeadAttention kernel
//! on packed `[B, S, N·H]` operands.

#[allow(clippy::module_inception)]
mod attention;
mod embed_layer_normalization;
mod group_query_attention;
mod multi_head_attention;
mod qattention;
mod qembed_layer_normalization;
mod rotary_embedding;

use ort_core::{Error, Tensor, Value};

use crate::kernel::{Ctx, Kernel};
use crate::ops::fused::multi_head_attention::MultiHeadAttention;

/// What onnxruntime adds to the scores of a key hidden by causality.
const HIDDEN: f32 = f32::MIN;

/// The sizes an attention mask is built for: batch, heads, query rows, past
/// keys and all keys (past and new).
#[derive(Clone, Copy)]
pub(super) struct Dims {
    pub b: usize,
    pub n: usize,
    pub s: usize,
    pub p: usize,
    pub t: usize,
}

/// onnxruntime's padding mask `mask_index` as additive `[B, S, T]` values
/// (`fv` where a key is hidden): key lengths `[B]` (or the first B of
/// `[3B+2]`), end and start positions `[2B]`, or a raw 0/1 mask `[B, T]` or
/// `[B, S, T]` (values above 0 keep the key). `[B, 1]` and `[1, 1]` mask
/// nothing.
fn padding(m: &Tensor, d: Dims, fv: f32, what: &str) -> Result<Option<Vec<f32>>, Error> {
    let v = m.as_slice::<i32>()?;
    let (b, s, t) = (d.b, d.s, d.t);
    let mut out = vec![0.0f32; b * s * t];
    let mut rows = |f: &dyn Fn(usize, usize, usize) -> bool| {
        for bi in 0..b {
            for si in 0..s {
                for ti in 0..t {
                    if f(bi, si, ti) {
                        out[(bi * s + si) * t + ti] = fv;
                    }
                }
            }
        }
    };
    let bad = || {
        Error::invalid(format!(
            "{what} of shape {:?} fits none of [B], [2B], [3B+2], [B, T], [B, S, T] with B = {b}, S = {s}, T = {t}",
            m.shape()
        ))
    };
    match *m.shape() {
        [l] if l as usize == b || l as usize == 3 * b + 2 => {
            rows(&|bi, _, ti| ti as i64 >= v[bi] as i64)
        }
        [l] if l as usize == 2 * b => {
            if let Some(e) = v[..b].iter().find(|&&e| e < 0) {
                return Err(Error::invalid(format!(
                    "{what}: end positions must be non-negative, got {e}"
                )));
            }
            rows(&|bi, _, ti| {
                let start = (v[b + bi].max(0) as usize).min(t);
                ti as i64 >= v[bi] as i64 || ti < start
            })
        }
        [bb, 1] if bb == 1 || bb as usize == b => return Ok(None),
        [bb, tt] if bb as usize == b && tt as usize == t => rows(&|bi, _, ti| v[bi * t + ti] <= 0),
        [bb, ss, tt] if bb as usize == b && ss as usize == s && tt as usize == t => {
            rows(&|bi, si, ti| v[(bi * s + si) * t + ti] <= 0)
        }
        [_, _, _, _] => {
            return Err(Error::not_implemented(format!(
                "a 4-D {what} (onnxruntime's CPU kernel refuses it too)"
            )))
        }
        _ => return Err(bad()),
    }
    Ok(Some(out))
}

/// The additive mask `[B|1, N|1, S, T]` the scores get: the padding mask,
/// the attention bias and, with `causal`, `HIDDEN` for keys after the query's
/// position (onnxruntime leaves the last query row unmasked). None when
/// nothing masks.
pub(super) fn additive_mask(
    mask_index: Option<&Tensor>,
    bias: Option<&Tensor>,
    causal: bool,
    fv: f32,
    d: Dims,
    ctx: &Ctx<'_>,
) -> Result<Option<Tensor>, Error> {
    let pad = mask_index
        .map(|m| padding(m, d, fv, "mask"))
        .transpose()?
        .flatten();
    let causal = causal && d.s > 1;
    if pad.is_none() && bias.is_none() && !causal {
        return Ok(None);
    }
    let (s, t) = (d.s, d.t);
    let (bb, bn, bias_v) = match bias {
        Some(a) => match *a.shape() {
            [x, y, ss, tt]
                if (x == 1 || x as usize == d.b)
                    && (y == 1 || y as usize == d.n)
                    && ss as usize == s
                    && tt as usize == t =>
            {
                (x as usize, y as usize, Some(a.as_slice::<f32>()?))
            }
            ref sh => {
                return Err(Error::invalid(format!(
                "attention_bias must be [B or 1, N or 1, S, T] = [{}, {}, {s}, {t}], got {sh:?}",
                d.b, d.n
            )))
            }
        },
        None => (1, 1, None),
    };
    let mb = if pad.is_some() { d.b } else { bb };
    let shape = [mb as i64, bn as i64, s as i64, t as i64];
    let m = ctx.tensor(&shape, |o: &mut [f32]| {
        for bi in 0..mb {
            for ni in 0..bn {
                for si in 0..s {
                    let row = &mut o[((bi * bn + ni) * s + si) * t..][..t];
                    // The arena hands out reused memory: every value is written.
                    match bias_v {
                        Some(bv) => {
                            let at = (((if bb == 1 { 0 } else { bi }) * bn + ni) * s + si) * t;
                            row.copy_from_slice(&bv[at..at + t]);
                        }
                        None => row.fill(0.0),
                    }
                    if let Some(p) = &pad {
                        let pr = &p[(bi * s + si) * t..][..t];
                        row.iter_mut().zip(pr).for_each(|(o, &v)| *o += v);
                    }
                    if causal && si + 1 < s {
                        let from = (d.p + si + 1).min(t);
                        row[from..].fill(HIDDEN);
                    }
                }
            }
        }
    })?;
    Ok(Some(m))
}

/// `[B, N, L, H]` (heads first) as `[B, L, N·H]` (heads packed in rows).
pub(super) fn heads_to_rows(x: &[f32], (b, n, l, h): (usize, usize, usize, usize), o: &mut [f32]) {
    for bi in 0..b {
        for ni in 0..n {
            for li in 0..l {
                let src = ((bi * n + ni) * l + li) * h;
                let dst = (bi * l + li) * n * h + ni * h;
                o[dst..dst + h].copy_from_slice(&x[src..src + h]);
            }
        }
    }
}

/// `[B, L, N·H]` as `[B, N, L, H]`.
pub(super) fn rows_to_heads(x: &[f32], (b, n, l, h): (usize, usize, usize, usize), o: &mut [f32]) {
    for bi in 0..b {
        for ni in 0..n {
            for li in 0..l {
                let dst = ((bi * n + ni) * l + li) * h;
                let src = (bi * l + li) * n * h + ni * h;
                o[dst..dst + h].copy_from_slice(&x[src..src + h]);
            }
        }
    }
}

/// Keys (or values) of all positions, packed `[B, P + L, N·H]`: the past
/// `[B, N, P, H]` (first `p` of its rows) followed by the new `[B, L, N·H]`.
pub(super) fn with_past(
    past: Option<(&[f32], usize)>,
    new: &[f32],
    (b, n, l, h): (usize, usize, usize, usize),
    p: usize,
    ctx: &Ctx<'_>,
) -> Result<Tensor, Error> {
    let t = p + l;
    ctx.tensor(&[b as i64, t as i64, (n * h) as i64], |o: &mut [f32]| {
        for bi in 0..b {
            if let Some((pv, rows)) = past {
                for ni in 0..n {
                    for pi in 0..p {
                        let src = ((bi * n + ni) * rows + pi) * h;
                        let dst = (bi * t + pi) * n * h + ni * h;
                        o[dst..dst + h].copy_from_slice(&pv[src..src + h]);
                    }
                }
            }
            let dst = (bi * t + p) * n * h;
            o[dst..dst + l * n * h].copy_from_slice(&new[bi * l * n * h..][..l * n * h]);
        }
    })
}

/// Packed keys or values `[B, T, N·H]` as the present cache `[B, N, T, H]`.
pub(super) fn present(x: &Tensor, n: usize, ctx: &Ctx<'_>) -> Result<Tensor, Error> {
    let &[b, t, nh] = x.shape() else {
        return Err(Error::invalid("packed keys must be 3-D"));
    };
    let (b, t, h) = (b as usize, t as usize, nh as usize / n);
    let xv = x.as_slice::<f32>()?;
    ctx.tensor(
        &[b as i64, n as i64, t as i64, h as i64],
        |o: &mut [f32]| rows_to_heads(xv, (b, n, t, h), o),
    )
}

/// `softmax(scale · Qₕ·Kₕᵀ + mask) · Vₕ` per batch and head, with Q, K and V
/// packed `[B, ·, N·H]`; the result is `[B, S, N·Hv]`.
pub(super) fn attend(
    q: Tensor,
    k: Tensor,
    v: Tensor,
    mask: Option<Tensor>,
    heads: usize,
    scale: f64,
    ctx: &Ctx<'_>,
) -> Result<Tensor, Error> {
    let mha = MultiHeadAttention {
        heads,
        scale: Some(scale),
        causal: false,
    };
    let vals = [Value::Tensor(q), Value::Tensor(k), Value::Tensor(v)];
    let mask = mask.map(Value::Tensor);
    let y = mha.compute(
        &[
            Some(&vals[0]),
            Some(&vals[1]),
            Some(&vals[2]),
            mask.as_ref(),
        ],
        ctx,
    )?;
    match y.into_iter().next().flatten() {
        Some(Value::Tensor(t)) => Ok(t),
        _ => Err(Error::invalid("attention gave no tensor")),
    }
}

/// `(q − zero_point) · scale` in float32, for a uint8/int8 tensor with one
/// scale (and zero point) or one per value of its last axis.
pub(super) fn dequantized(
    q: &Tensor,
    scale: &Tensor,
    zp: Option<&Tensor>,
    ctx: &Ctx<'_>,
) -> Result<Tensor, Error> {
    let qv = crate::ops::quant::ints(q)?;
    let sv = crate::ops::quant::floats(scale)?;
    let zv = zp
        .map(crate::ops::quant::ints)
        .transpose()?
        .unwrap_or_else(|| vec![0]);
    let cols = *q.shape().last().unwrap_or(&1) as usize;
    for (what, len) in [("scale", sv.len()), ("zero point", zv.len())] {
        if len != 1 && len != cols {
            return Err(Error::invalid(format!(
                "a {what} of {len} values does not fit a tensor of shape {:?}",
                q.shape()
            )));
        }
    }
    let pick = |v: usize, i: usize| if v == 1 { 0 } else { i % cols };
    ctx.tensor(q.shape(), |o: &mut [f32]| {
        for (i, (o, &x)) in o.iter_mut().zip(&qv).enumerate() {
            *o = (x - zv[pick(zv.len(), i)]) as f32 * sv[pick(sv.len(), i)];
        }
    })
}

/// The `scale` attribute, 0 or absent meaning 1/√H.
pub(super) fn scale(attr: f32, h: usize) -> f64 {
    if attr == 0.0 {
        1.0 / (h as f64).sqrt()
    } else {
        attr as f64
    }
}
