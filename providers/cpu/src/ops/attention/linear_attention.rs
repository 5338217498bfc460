//! LinearAttention (opset 27): recurrent attention over a `d_k × d_v` state per
//! key/value head, with optional gating (decay) and delta-rule correction (beta).

use ort_core::{Error, Value};
use rayon::prelude::*;

use super::wants;
use crate::kernel::{input, opt_input, Ctx, Kernel, NodeInfo, Outputs};
use crate::ops::nn::{data, narrow, Flt, PAR_WORK};
use crate::ops::{FLOATS, LATEST};

struct LinearAttention {
    q_heads: usize,
    kv_heads: usize,
    scale: f64,
    gating: bool,
    delta: bool,
    want_state: bool,
}

fn build(info: &NodeInfo<'_, '_>) -> Result<Box<dyn Kernel>, Error> {
    let rule = info.string("update_rule", "gated_delta")?;
    let (gating, delta) = match rule.as_str() {
        "linear" => (false, false),
        "gated" => (true, false),
        "delta" => (false, true),
        "gated_delta" => (true, true),
        r => return Err(Error::invalid(format!("unknown update_rule '{r}'"))),
    };
    let (q, kv) = (info.int("q_num_heads", 0)?, info.int("kv_num_heads", 0)?);
    if q <= 0 || kv <= 0 || q % kv != 0 {
        return Err(Error::invalid(format!(
            "q_num_heads ({q}) must be a positive multiple of kv_num_heads ({kv})"
        )));
    }
    Ok(Box::new(LinearAttention {
        q_heads: q as usize,
        kv_heads: kv as usize,
        scale: info.float("scale", 0.0)? as f64,
        gating,
        delta,
        want_state: wants(info, 1),
    }))
}

impl Kernel for LinearAttention {
    fn compute(&self, inputs: &[Option<&Value>], ctx: &Ctx<'_>) -> Outputs {
        let q = input(inputs, 0)?;
        crate::with_float!(q.elem(), F => self.run::<F>(inputs, ctx))
    }
}

impl LinearAttention {
    fn run<F: Flt>(&self, inputs: &[Option<&Value>], ctx: &Ctx<'_>) -> Outputs {
        let (q, k, v) = (input(inputs, 0)?, input(inputs, 1)?, input(inputs, 2)?);
        let past = opt_input(inputs, 3)?;
        let (decay, beta) = (opt_input(inputs, 4)?, opt_input(inputs, 5)?);
        for (name, t) in [("query", q), ("key", k), ("value", v)] {
            if t.rank() != 3 {
                return Err(Error::invalid(format!(
                    "LinearAttention {name} must be rank 3, got {:?}",
                    t.shape()
                )));
            }
        }
        let (hq, hk) = (self.q_heads, self.kv_heads);
        let (b, t) = (q.shape()[0] as usize, q.shape()[1] as usize);
        let (qw, kw, vw) = (
            q.shape()[2] as usize,
            k.shape()[2] as usize,
            v.shape()[2] as usize,
        );
        if qw % hq != 0 || kw % hk != 0 || vw % hk != 0 {
            return Err(Error::invalid(
                "hidden sizes are not multiples of the head counts",
            ));
        }
        let (dk, dv) = (qw / hq, vw / hk);
        if kw / hk != dk || k.shape()[..2] != q.shape()[..2] || v.shape()[..2] != q.shape()[..2] {
            return Err(Error::invalid(
                "query, key and value disagree on batch, sequence or head size",
            ));
        }
        if self.gating != decay.is_some() || self.delta != beta.is_some() {
            return Err(Error::invalid(
                "decay is required exactly for gated rules and beta exactly for delta rules",
            ));
        }
        let decay_w = match decay {
            Some(g) => {
                let w = g.shape().last().copied().unwrap_or(0) as usize;
                if g.rank() != 3 || g.shape()[..2] != q.shape()[..2] || (w != hk && w != hk * dk) {
                    return Err(Error::invalid(format!(
                        "decay {:?} must be [B, T, kv_num_heads] or [B, T, kv_num_heads*d_k]",
                        g.shape()
                    )));
                }
                w
            }
            None => 0,
        };
        let beta_w = match beta {
            Some(bt) => {
                let w = bt.shape().last().copied().unwrap_or(0) as usize;
                if bt.rank() != 3 || bt.shape()[..2] != q.shape()[..2] || (w != hk && w != 1) {
                    return Err(Error::invalid(format!(
                        "beta {:?} must be [B, T, kv_num_heads] or [B, T, 1]",
                        bt.shape()
                    )));
                }
                w
            }
            None => 0,
        };
        let state_shape = [b as i64, hk as i64, dk as i64, dv as i64];
        if let Some(p) = past {
            if p.shape() != state_shape {
                return Err(Error::invalid(format!(
                    "past_state {:?} does not match {state_shape:?}",
                    p.shape()
                )));
            }
        }
        let scale = F::of(if self.scale == 0.0 {
            1.0 / (dk as f64).sqrt()
        } else {
            self.scale
        });
        let (qd, kd, vd) = (data::<F>(q)?, data::<F>(k)?, data::<F>(v)?);
        let gd = decay.map(data::<F>).transpose()?;
        let bd = beta.map(data::<F>).transpose()?;
        let mut state = match past {
            Some(p) => data::<F>(p)?.into_owned(),
            None => vec![F::zero(); b * hk * dk * dv],
        };
        let group = hq / hk;
        // Per (batch, kv head): the group's outputs as [group, T, dv].
        let mut ys = vec![F::zero(); b * hk * group * t * dv];
        let job = |(bh, (st, y)): (usize, (&mut [F], &mut [F]))| {
            let (bi, h) = (bh / hk, bh % hk);
            let mut vt = vec![F::zero(); dv];
            for ti in 0..t {
                let row = bi * t + ti;
                if let Some(g) = &gd {
                    let g = &g[row * decay_w..(row + 1) * decay_w];
                    for (d, srow) in st.chunks_mut(dv).enumerate() {
                        let e = if decay_w == hk { g[h] } else { g[h * dk + d] }.exp();
                        srow.iter_mut().for_each(|s| *s *= e);
                    }
                }
                let kt = &kd[row * kw + h * dk..row * kw + (h + 1) * dk];
                vt.copy_from_slice(&vd[row * vw + h * dv..row * vw + (h + 1) * dv]);
                if let Some(bb) = &bd {
                    let beta = bb[row * beta_w + if beta_w == 1 { 0 } else { h }];
                    let mut r = vec![F::zero(); dv];
                    for (srow, &kv) in st.chunks(dv).zip(kt) {
                        r.iter_mut().zip(srow).for_each(|(r, &s)| *r += s * kv);
                    }
                    vt.iter_mut()
                        .zip(&r)
                        .for_each(|(v, &r)| *v = beta * (*v - r));
                }
                for (srow, &kv) in st.chunks_mut(dv).zip(kt) {
                    srow.iter_mut().zip(&vt).for_each(|(s, &v)| *s += kv * v);
                }
                for g in 0..group {
                    let qh = h * group + g;
                    let qt = &qd[row * qw + qh * dk..row * qw + (qh + 1) * dk];
                    let out = &mut y[(g * t + ti) * dv..(g * t + ti + 1) * dv];
                    out.fill(F::zero());
                    for (srow, &qv) in st.chunks(dv).zip(qt) {
                        out.iter_mut().zip(srow).for_each(|(o, &s)| *o += qv * s);
                    }
                    out.iter_mut().for_each(|o| *o *= scale);
                }
            }
        };
        if dk * dv > 0 && group * t * dv > 0 {
            let it = state.chunks_mut(dk * dv).zip(ys.chunks_mut(group * t * dv));
            if ctx.threads > 1 && b * hk > 1 && b * hk * t * dk * dv >= PAR_WORK {
                it.enumerate()
                    .collect::<Vec<_>>()
                    .into_par_iter()
                    .for_each(job);
            } else {
                it.enumerate().for_each(job);
            }
        }
        // [B, Hkv, group, T, dv] -> [B, T, Hq·dv]
        let mut y = vec![F::zero(); b * t * hq * dv];
        if dv > 0 {
            for (i, row) in ys.chunks(dv).enumerate() {
                let ti = i % t.max(1);
                let qh = (i / t.max(1)) % hq;
                let bi = i / (t.max(1) * hq);
                let at = (bi * t + ti) * hq * dv + qh * dv;
                y[at..at + dv].copy_from_slice(row);
            }
        }
        let y_shape = [b as i64, t as i64, (hq * dv) as i64];
        let mut outs = vec![Some(Value::from(narrow(ctx, q.elem(), &y_shape, &y)?))];
        if self.want_state {
            let elem = past.map_or(q.elem(), |p| p.elem());
            outs.push(Some(Value::from(narrow(ctx, elem, &state_shape, &state)?)));
        }
        Ok(outs)
    }
}

crate::register!("LinearAttention", [27, LATEST], FLOATS, build);
