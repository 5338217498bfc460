//! GroupQueryAttention (`com.microsoft`): the decoder attention of LLMs that
//! onnxruntime-genai exports. N query heads share Nkv key/value heads; the
//! KV cache is `[B, Nkv, len, H]` (past in, present out) and `seqlens_k` gives
//! each batch row's valid length − 1. The first prompt (S = total length)
//! ignores the past; otherwise the new rows follow each row's past. Optional
//! rotary embedding of Q and K, causal and local-window masking, softcap,
//! attention bias, and a sink logit (`head_sink`, or 0 with `smooth_softmax`).

use ort_core::ElemType::F32;
use ort_core::{Error, Value};

use super::rotary_embedding::rotate;
use crate::kernel::{input, opt_input, Ctx, Kernel, NodeInfo, Outputs};

struct GroupQueryAttention {
    heads: usize,
    kv_heads: usize,
    scale: f32,
    softcap: f32,
    window: i64,
    rotary: bool,
    interleaved: bool,
    smooth: bool,
    causal: bool,
}

/// Rotates each head (`heads` of size `h`) of rows `[B, S, heads·h]` in place,
/// row (b, i) by the cache row `pos(b, i)`.
fn rotate_rows(
    x: &mut [f32],
    (b, s, heads, h): (usize, usize, usize, usize),
    caches: (&[f32], &[f32], usize),
    interleaved: bool,
    pos: &dyn Fn(usize, usize) -> i64,
) -> Result<(), Error> {
    let (cv, sv, half) = caches;
    let rows = cv.len() / half.max(1);
    let mut tmp = vec![0.0f32; 2 * half];
    for bi in 0..b {
        for i in 0..s {
            let p = pos(bi, i);
            if p < 0 || p as usize >= rows {
                return Err(Error::invalid(format!(
                    "position {p} is outside the caches' {rows} rows"
                )));
            }
            let (c, sn) = (
                &cv[p as usize * half..][..half],
                &sv[p as usize * half..][..half],
            );
            for hi in 0..heads {
                let at = (bi * s + i) * heads * h + hi * h;
                rotate(&x[at..at + 2 * half], c, sn, interleaved, &mut tmp);
                x[at..at + 2 * half].copy_from_slice(&tmp);
            }
        }
    }
    Ok(())
}

impl GroupQueryAttention {
    fn run(&self, inputs: &[Option<&Value>], ctx: &Ctx<'_>) -> Outputs {
        for (i, what) in [
            (12, "k_scale"),
            (13, "v_scale"),
            (14, "q_norm_weight"),
            (15, "k_norm_weight"),
        ] {
            if opt_input(inputs, i)?.is_some() {
                return Err(Error::not_implemented(format!(
                    "GroupQueryAttention with {what}"
                )));
            }
        }
        let (n, nkv) = (self.heads, self.kv_heads);
        let q_in = input(inputs, 0)?;
        let &[b, s, qw] = q_in.shape() else {
            return Err(Error::invalid(format!(
                "query must be [B, S, D], got {:?}",
                q_in.shape()
            )));
        };
        let (b, s, qw) = (b as usize, s as usize, qw as usize);
        let qv = q_in.as_slice::<f32>()?;
        // Q, K and V as rows [B, S, heads·H]; packed QKV when key and value are absent.
        let (mut q, mut k, v, h) = match (opt_input(inputs, 1)?, opt_input(inputs, 2)?) {
            (Some(k), Some(v)) => {
                let h = qw / n;
                (
                    qv.to_vec(),
                    k.as_slice::<f32>()?.to_vec(),
                    v.as_slice::<f32>()?.to_vec(),
                    h,
                )
            }
            (None, None) => {
                let h = qw / (n + 2 * nkv);
                let (mut q, mut k, mut v) = (Vec::new(), Vec::new(), Vec::new());
                for r in qv.chunks(qw) {
                    q.extend_from_slice(&r[..n * h]);
                    k.extend_from_slice(&r[n * h..(n + nkv) * h]);
                    v.extend_from_slice(&r[(n + nkv) * h..]);
                }
                (q, k, v, h)
            }
            _ => return Err(Error::invalid("key and value must be given together")),
        };
        if h == 0 || q.len() != b * s * n * h || k.len() != b * s * nkv * h || v.len() != k.len() {
            return Err(Error::invalid(format!(
                "query {:?} and key/value do not fit {n} query and {nkv} key/value heads",
                q_in.shape()
            )));
        }
        let seqlens = input(inputs, 5)?.as_slice::<i32>()?;
        let tot = *input(inputs, 6)?
            .as_slice::<i32>()?
            .first()
            .ok_or_else(|| Error::invalid("total_sequence_length is empty"))?
            as usize;
        if seqlens.len() != b {
            return Err(Error::invalid(format!(
                "seqlens_k needs B = {b} values, got {}",
                seqlens.len()
            )));
        }
        let past = match (opt_input(inputs, 3)?, opt_input(inputs, 4)?) {
            (Some(pk), Some(pv)) => {
                let sh = pk.shape();
                if sh.len() != 4
                    || sh[0] as usize != b
                    || sh[1] as usize != nkv
                    || sh[3] as usize != h
                    || pv.shape() != sh
                {
                    return Err(Error::invalid(format!(
                        "past_key and past_value must be [B, Nkv, P, H] = [{b}, {nkv}, P, {h}], got {sh:?} and {:?}",
                        pv.shape()
                    )));
                }
                Some((pk.as_slice::<f32>()?, pv.as_slice::<f32>()?, sh[2] as usize))
            }
            (None, None) => None,
            _ => {
                return Err(Error::invalid(
                    "past_key and past_value must be given together",
                ))
            }
        };
        let pbuf = past.map_or(0, |p| p.2);
        let first = s == tot;
        if !first && s > 1 && b != 1 {
            return Err(Error::invalid(
                "a prompt after the first needs batch size 1",
            ));
        }
        let tp = tot.max(pbuf);
        // Each row's total and past lengths.
        let mut lens = Vec::with_capacity(b);
        for &sk in seqlens {
            let t = sk as i64 + 1;
            let p = if first { 0 } else { t - s as i64 };
            if sk < 0 || t as usize > tot || p < 0 || p as usize + s > tp {
                return Err(Error::invalid(format!(
                    "seqlens_k {sk} does not fit total_sequence_length {tot}, {s} new rows and a cache of {tp}"
                )));
            }
            lens.push((t as usize, p as usize));
        }
        if self.rotary {
            let (cos, sin) = match (opt_input(inputs, 7)?, opt_input(inputs, 8)?) {
                (Some(c), Some(sn)) => (c, sn),
                _ => return Err(Error::invalid("do_rotary needs cos_cache and sin_cache")),
            };
            let half = *cos.shape().get(1).unwrap_or(&0) as usize;
            if 2 * half > h || sin.shape() != cos.shape() {
                return Err(Error::invalid(format!(
                    "cos_cache {:?} does not fit head size {h}",
                    cos.shape()
                )));
            }
            let ids = opt_input(inputs, 9)?
                .map(|t| t.as_slice::<i64>())
                .transpose()?;
            let pos = |bi: usize, i: usize| -> i64 {
                match ids {
                    Some(ids) if first => ids[0] + i as i64,
                    Some(ids) => ids[bi * s + i],
                    None => (lens[bi].1 + i) as i64,
                }
            };
            let caches = (cos.as_slice::<f32>()?, sin.as_slice::<f32>()?, half);
            rotate_rows(&mut q, (b, s, n, h), caches, self.interleaved, &pos)?;
            rotate_rows(&mut k, (b, s, nkv, h), caches, self.interleaved, &pos)?;
        }
        // The present caches: each row's past, then its new keys and values.
        let cache_shape = [b as i64, nkv as i64, tp as i64, h as i64];
        let fill = |new: &[f32], old: Option<&[f32]>, o: &mut [f32]| {
            o.fill(0.0);
            for (bi, &(_, p)) in lens.iter().enumerate() {
                for g in 0..nkv {
                    let base = (bi * nkv + g) * tp * h;
                    if let Some(old) = old {
                        let src = (bi * nkv + g) * pbuf * h;
                        o[base..base + p * h].copy_from_slice(&old[src..src + p * h]);
                    }
                    for i in 0..s {
                        let src = (bi * s + i) * nkv * h + g * h;
                        o[base + (p + i) * h..][..h].copy_from_slice(&new[src..src + h]);
                    }
                }
            }
        };
        let pk = ctx.tensor(&cache_shape, |o: &mut [f32]| fill(&k, past.map(|p| p.0), o))?;
        let pv = ctx.tensor(&cache_shape, |o: &mut [f32]| fill(&v, past.map(|p| p.1), o))?;
        let (kc, vc) = (pk.as_slice::<f32>()?, pv.as_slice::<f32>()?);
        let bias = opt_input(inputs, 10)?;
        let bias = match bias {
            Some(t) => {
                let sh = t.shape();
                if sh.len() != 4
                    || !(sh[0] == 1 || sh[0] as usize == b)
                    || !(sh[1] == 1 || sh[1] as usize == n)
                    || sh[2] as usize != s
                    || (sh[3] as usize) < tot
                {
                    return Err(Error::invalid(format!(
                        "attention_bias must be [B or 1, N or 1, S, total] = [{b}, {n}, {s}, {tot}], got {sh:?}"
                    )));
                }
                Some((
                    t.as_slice::<f32>()?,
                    sh[0] as usize,
                    sh[1] as usize,
                    sh[3] as usize,
                ))
            }
            None => None,
        };
        let sink = opt_input(inputs, 11)?
            .map(|t| t.as_slice::<f32>())
            .transpose()?;
        let group = n / nkv;
        let scale = if self.scale == 0.0 {
            1.0 / (h as f32).sqrt()
        } else {
            self.scale
        };
        let y = ctx.tensor(&[b as i64, s as i64, (n * h) as i64], |o: &mut [f32]| {
            let mut sc = vec![0.0f32; tp];
            for (bi, &(t, p)) in lens.iter().enumerate() {
                for hi in 0..n {
                    let g = hi / group;
                    let kb = &kc[(bi * nkv + g) * tp * h..];
                    let vb = &vc[(bi * nkv + g) * tp * h..];
                    for i in 0..s {
                        let pos = p + i;
                        let qr = &q[(bi * s + i) * n * h + hi * h..][..h];
                        let lo = if self.window > 0 {
                            (pos as i64 - self.window + 1).max(0) as usize
                        } else {
                            0
                        };
                        let hi_j = if self.causal { (pos + 1).min(t) } else { t };
                        let lo = lo.min(hi_j);
                        let mut m = f32::NEG_INFINITY;
                        for j in lo..hi_j {
                            let kr = &kb[j * h..][..h];
                            let mut d = qr.iter().zip(kr).map(|(a, b)| a * b).sum::<f32>() * scale;
                            if self.softcap > 0.0 {
                                d = self.softcap * (d / self.softcap).tanh();
                            }
                            if let Some((bv, bb, bn, bt)) = bias {
                                let at = (((if bb == 1 { 0 } else { bi }) * bn
                                    + if bn == 1 { 0 } else { hi })
                                    * s
                                    + i)
                                    * bt
                                    + j;
                                d += bv[at];
                            }
                            sc[j] = d;
                            m = m.max(d);
                        }
                        let extra = match sink {
                            Some(sk) => Some(sk[hi]),
                            None if self.smooth => Some(0.0),
                            None => None,
                        };
                        if let Some(e) = extra {
                            m = m.max(e);
                        }
                        let mut total = extra.map_or(0.0, |e| (e - m).exp());
                        for x in &mut sc[lo..hi_j] {
                            *x = (*x - m).exp();
                            total += *x;
                        }
                        let out = &mut o[(bi * s + i) * n * h + hi * h..][..h];
                        out.fill(0.0);
                        for j in lo..hi_j {
                            let w = sc[j] / total;
                            out.iter_mut()
                                .zip(&vb[j * h..][..h])
                                .for_each(|(o, &v)| *o += w * v);
                        }
                    }
                }
            }
        })?;
        Ok(vec![
            Some(Value::Tensor(y)),
            Some(Value::Tensor(pk)),
            Some(Value::Tensor(pv)),
        ])
    }
}

impl Kernel for GroupQueryAttention {
    fn compute(&self, inputs: &[Option<&Value>], ctx: &Ctx<'_>) -> Outputs {
        self.run(inputs, ctx)
    }
}

fn build(info: &NodeInfo<'_, '_>) -> Result<Box<dyn Kernel>, Error> {
    let (n, nkv) = (info.int("num_heads", 0)?, info.int("kv_num_heads", 0)?);
    if n <= 0 || nkv <= 0 || n % nkv != 0 {
        return Err(Error::invalid(format!(
            "num_heads {n} must be a positive multiple of kv_num_heads {nkv}"
        )));
    }
    for a in ["qk_output", "sliding_window_cache"] {
        if info.int(a, 0)? != 0 {
            return Err(Error::not_implemented(format!(
                "GroupQueryAttention with {a}"
            )));
        }
    }
    for a in ["k_quant_type", "v_quant_type"] {
        let t = info.string(a, "NONE")?;
        if t != "NONE" {
            return Err(Error::not_implemented(format!(
                "GroupQueryAttention with {a} {t}"
            )));
        }
    }
    let window = info.int("local_window_size", -1)?;
    let causal = info.int("causal", 1)? != 0;
    if window != -1 && !causal {
        return Err(Error::invalid("local_window_size needs causal attention"));
    }
    Ok(Box::new(GroupQueryAttention {
        heads: n as usize,
        kv_heads: nkv as usize,
        scale: info.float("scale", 0.0)?,
        softcap: info.float("softcap", 0.0)?,
        window,
        rotary: info.int("do_rotary", 0)? != 0,
        interleaved: info.int("rotary_interleaved", 0)? != 0,
        smooth: info.int("smooth_softmax", -1)? == 1,
        causal,
    }))
}

crate::register!(
    "GroupQueryAttention",
    "com.microsoft",
    [1, 1],
    &[F32],
    0,
    build
);
