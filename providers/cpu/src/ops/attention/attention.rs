//! Attention (opset 23 on): scaled dot-product attention over 3-D or 4-D inputs,
//! with grouped-query heads, additive or boolean masks, causal and sliding-window
//! masking, a key/value cache and padding lengths.

use ort_core::{ElemType, Error, Tensor, Value};

use super::{rounder, wants};
use crate::kernel::{input, opt_input, Ctx, Kernel, NodeInfo, Outputs};
use crate::ops::nn::{data, narrow, Flt, PAR_WORK};
use crate::ops::{FLOATS, LATEST};
use crate::util::{gemm_strided, GemmScalar, MatRef};

struct Attention {
    scale: Option<f64>,
    causal: bool,
    q_heads: Option<usize>,
    kv_heads: Option<usize>,
    softcap: f64,
    /// What the fourth output holds: 0/1 the (softcapped) scores, 2 with the
    /// mask added, 3 the probabilities.
    mode: i64,
    /// Sliding window sizes (opset 25); -1 leaves that side unbounded.
    left: i64,
    right: i64,
    outputs: [bool; 4],
    softmax_precision: Option<ElemType>,
}

fn build(info: &NodeInfo<'_, '_>) -> Result<Box<dyn Kernel>, Error> {
    let heads = |name: &str| -> Result<Option<usize>, Error> {
        match info.attr(name) {
            None => Ok(None),
            Some(_) => {
                let v = info.int(name, 0)?;
                if v <= 0 {
                    return Err(Error::invalid(format!("{name} must be positive, got {v}")));
                }
                Ok(Some(v as usize))
            }
        }
    };
    let mode = info.int("qk_matmul_output_mode", 0)?;
    if !(0..=3).contains(&mode) {
        return Err(Error::invalid(format!(
            "qk_matmul_output_mode must be 0..3, got {mode}"
        )));
    }
    let (left, right) = (
        info.int("left_window_size", -1)?,
        info.int("right_window_size", -1)?,
    );
    if left < -1 || right < -1 {
        return Err(Error::invalid(
            "window sizes must be -1 (unbounded) or nonnegative",
        ));
    }
    Ok(Box::new(Attention {
        scale: info
            .has("scale")
            .then(|| info.float("scale", 1.0))
            .transpose()?
            .map(|s| s as f64),
        causal: info.int("is_causal", 0)? != 0,
        q_heads: heads("q_num_heads")?,
        kv_heads: heads("kv_num_heads")?,
        softcap: info.float("softcap", 0.0)? as f64,
        mode,
        left,
        right,
        outputs: [
            wants(info, 0),
            wants(info, 1),
            wants(info, 2),
            wants(info, 3),
        ],
        softmax_precision: match info.int("softmax_precision", 0)? {
            0 => None,
            1 => Some(ElemType::F32),
            10 => Some(ElemType::F16),
            11 => Some(ElemType::F64),
            16 => Some(ElemType::BF16),
            p => return Err(Error::invalid(format!("unsupported softmax_precision {p}"))),
        },
    }))
}

/// Where a (batch, head)'s `rows × width` block lives in a 3-D or 4-D input.
#[derive(Clone, Copy)]
struct Layout {
    heads: usize,
    rows: usize,
    width: usize,
    /// [batch, seq, heads·width] rather than [batch, heads, seq, width].
    packed: bool,
}

impl Layout {
    fn of(t: &Tensor, heads: Option<usize>, what: &str) -> Result<Layout, Error> {
        let s = t.shape();
        match (s.len(), heads) {
            (3, Some(h)) => {
                if !(s[2] as usize).is_multiple_of(h) {
                    return Err(Error::invalid(format!(
                        "{what} hidden size {} is not a multiple of {h} heads",
                        s[2]
                    )));
                }
                Ok(Layout {
                    heads: h,
                    rows: s[1] as usize,
                    width: s[2] as usize / h,
                    packed: true,
                })
            }
            (3, None) => Err(Error::invalid(
                "3-D Attention inputs need q_num_heads and kv_num_heads",
            )),
            (4, _) => Ok(Layout {
                heads: s[1] as usize,
                rows: s[2] as usize,
                width: s[3] as usize,
                packed: false,
            }),
            (r, _) => Err(Error::invalid(format!(
                "Attention {what} must be 3-D or 4-D, got rank {r}"
            ))),
        }
    }

    /// Copies batch `b`, head `h` as a dense `rows × width` block into `out`.
    fn copy_head<F: Copy>(&self, src: &[F], b: usize, h: usize, out: &mut [F]) {
        let (r, w) = (self.rows, self.width);
        if self.packed {
            let line = self.heads * w;
            for (i, o) in out.chunks_mut(w).enumerate().take(r) {
                let at = (b * r + i) * line + h * w;
                o.copy_from_slice(&src[at..at + w]);
            }
        } else {
            let at = (b * self.heads + h) * r * w;
            out[..r * w].copy_from_slice(&src[at..at + r * w]);
        }
    }
}

/// Concatenates the cache (`[B, H, P, W]`) and the new rows of `new` along the
/// sequence axis into a dense `[B, H, P + S, W]` buffer.
fn present<F: Flt>(
    past: Option<&[F]>,
    past_len: usize,
    new: &[F],
    lay: &Layout,
    batch: usize,
) -> Vec<F> {
    let (w, total) = (lay.width, past_len + lay.rows);
    let mut out = vec![F::zero(); batch * lay.heads * total * w];
    if out.is_empty() {
        return out;
    }
    for (bh, blk) in out.chunks_mut(total * w).enumerate() {
        let (b, h) = (bh / lay.heads, bh % lay.heads);
        if let Some(p) = past {
            let n = past_len * w;
            blk[..n].copy_from_slice(&p[bh * n..(bh + 1) * n]);
        }
        lay.copy_head(new, b, h, &mut blk[past_len * w..]);
    }
    out
}

/// Everything a (batch, head) job needs to know besides its own data.
struct Plan<F> {
    q_heads: usize,
    group: usize,
    sq: usize,
    dk: usize,
    dv: usize,
    total: usize,
    /// Applied to the scores after the product (in `exact` mode Q and K come
    /// pre-scaled instead).
    post_scale: F,
    /// Round every intermediate to the input type (f16/bf16), as a computation
    /// carried out in that type would.
    exact: bool,
    /// Rounds to the softmax precision.
    round_sm: fn(F) -> F,
    softcap: F,
    causal: bool,
    left: i64,
    right: i64,
    /// Mask values (0 / -inf for boolean masks), padded to rank 4.
    mask: Option<(Vec<F>, [usize; 4])>,
    /// Per-batch offset of the query block within the keys (causal and window).
    offset: Vec<i64>,
    nonpad: Option<Vec<i64>>,
    mode: i64,
    round: fn(F) -> F,
}

impl<F: Flt> Plan<F> {
    /// The additive bias for query row `i` of batch `b`, head `h`.
    fn bias(&self, b: usize, h: usize, i: usize, out: &mut [F]) {
        let ninf = F::neg_infinity();
        match &self.mask {
            Some((m, d)) => {
                let pick = |n: usize, x: usize| if n == 1 { 0 } else { x };
                let at = ((pick(d[0], b) * d[1] + pick(d[1], h)) * d[2] + pick(d[2], i)) * d[3];
                out[..d[3]].copy_from_slice(&m[at..at + d[3]]);
                out[d[3]..].fill(ninf);
            }
            None => out.fill(F::zero()),
        }
        let pos = i as i64 + self.offset[b];
        if self.causal {
            for (j, o) in out.iter_mut().enumerate() {
                if j as i64 > pos {
                    *o += ninf;
                }
            }
        }
        if self.left >= 0 || self.right >= 0 {
            for (j, o) in out.iter_mut().enumerate() {
                let diff = pos - j as i64;
                if (self.left >= 0 && diff > self.left) || (self.right >= 0 && -diff > self.right) {
                    *o += ninf;
                }
            }
        }
        if let Some(np) = &self.nonpad {
            let n = np[b].max(0) as usize;
            out.iter_mut().skip(n).for_each(|o| *o += ninf);
        }
    }

    /// Rows `r0..` of batch·head `bh`: `y` holds their outputs (`rows × dv`), `qk`
    /// the optional fourth output (`rows × total`).
    #[allow(clippy::too_many_arguments)]
    fn rows(
        &self,
        bh: usize,
        r0: usize,
        q: &[F],
        k: &[F],
        v: &[F],
        y: &mut [F],
        qk: Option<&mut [F]>,
    ) -> Result<(), Error>
    where
        F: GemmScalar,
    {
        let (dk, dv, l) = (self.dk, self.dv, self.total);
        let rows = y.len() / dv;
        let (b, h) = (bh / self.q_heads, bh % self.q_heads);
        let kvh = b * (self.q_heads / self.group) + h / self.group;
        let qa = (bh * self.sq + r0) * dk;
        let kb = &k[kvh * l * dk..(kvh + 1) * l * dk];
        let vb = &v[kvh * l * dv..(kvh + 1) * l * dv];
        let mut s = vec![F::zero(); rows * l];
        gemm_strided(
            MatRef::rows(&q[qa..qa + rows * dk], rows, dk),
            MatRef::transposed(kb, dk, l),
            &mut s,
            l,
            false,
            1,
        )?;
        let mut bias = vec![F::zero(); l];
        let mut qk = qk;
        let (a, cap, rt) = (self.post_scale, self.softcap, self.round);
        for (r, srow) in s.chunks_mut(l).enumerate() {
            if self.exact {
                srow.iter_mut().for_each(|x| *x = rt(*x));
            } else {
                srow.iter_mut().for_each(|x| *x *= a);
            }
            if cap > F::zero() {
                srow.iter_mut()
                    .for_each(|x| *x = rt(rt(rt(*x / cap).tanh()) * cap));
            }
            let out_row = qk.as_deref_mut().map(|o| &mut o[r * l..(r + 1) * l]);
            self.bias(b, h, r0 + r, &mut bias);
            let masked = bias.iter().all(|&x| x == F::neg_infinity());
            let mut out_row = out_row;
            if self.mode <= 1 {
                if let Some(o) = &mut out_row {
                    o.copy_from_slice(srow);
                }
            }
            srow.iter_mut()
                .zip(&bias)
                .for_each(|(x, &c)| *x = rt(*x + c));
            if self.mode == 2 {
                if let Some(o) = &mut out_row {
                    o.copy_from_slice(srow);
                }
            }
            if masked {
                srow.fill(F::zero());
            } else {
                softmax(srow, self.exact, self.round_sm);
            }
            if self.mode == 3 {
                if let Some(o) = &mut out_row {
                    o.copy_from_slice(srow);
                }
            }
            srow.iter_mut().for_each(|x| *x = (self.round)(*x));
        }
        gemm_strided(
            MatRef::rows(&s, rows, l),
            MatRef::rows(vb, l, dv),
            y,
            dv,
            false,
            1,
        )
    }
}

/// Softmax of one row in place; an all `-inf` row becomes zeros. In `exact`
/// mode every step is rounded by `r`.
fn softmax<F: Flt>(x: &mut [F], exact: bool, r: fn(F) -> F) {
    let mut m = F::neg_infinity();
    for &v in x.iter() {
        if v.is_nan() || v > m {
            m = v;
            if v.is_nan() {
                break;
            }
        }
    }
    if m == F::neg_infinity() {
        x.fill(F::zero());
        return;
    }
    let sum = if exact {
        x.iter_mut().for_each(|v| *v = r(r(r(*v) - r(m)).exp()));
        x.iter().fold(F::zero(), |s, &v| r(s + v))
    } else {
        x.iter_mut().for_each(|v| *v = (*v - m).fast_exp());
        crate::ops::nn::sum_by(x, |v| v)
    };
    if exact {
        x.iter_mut().for_each(|v| *v = r(*v / sum));
        return;
    }
    let inv = if sum == F::zero() {
        F::one()
    } else {
        F::one() / sum
    };
    x.iter_mut().for_each(|v| *v *= inv);
}

impl Kernel for Attention {
    fn compute(&self, inputs: &[Option<&Value>], ctx: &Ctx<'_>) -> Outputs {
        let q = input(inputs, 0)?;
        crate::with_float!(q.elem(), F => self.run::<F>(inputs, ctx))
    }
}

impl Attention {
    fn run<F: Flt + GemmScalar>(&self, inputs: &[Option<&Value>], ctx: &Ctx<'_>) -> Outputs {
        let (q, k, v) = (input(inputs, 0)?, input(inputs, 1)?, input(inputs, 2)?);
        let mask = opt_input(inputs, 3)?;
        let (past_k, past_v) = (opt_input(inputs, 4)?, opt_input(inputs, 5)?);
        let nonpad = opt_input(inputs, 6)?;
        if q.rank() != k.rank() || q.rank() != v.rank() {
            return Err(Error::invalid("Q, K and V must have the same rank"));
        }
        let ql = Layout::of(q, self.q_heads, "Q")?;
        let kl = Layout::of(k, self.kv_heads, "K")?;
        let vl = Layout::of(v, self.kv_heads, "V")?;
        let batch = q.shape()[0] as usize;
        if k.shape()[0] as usize != batch || v.shape()[0] as usize != batch {
            return Err(Error::invalid("Q, K and V disagree on the batch size"));
        }
        if ql.width != kl.width {
            return Err(Error::invalid(format!(
                "Q head size {} differs from K head size {}",
                ql.width, kl.width
            )));
        }
        if kl.heads != vl.heads || kl.rows != vl.rows {
            return Err(Error::invalid(
                "K and V disagree on heads or sequence length",
            ));
        }
        if kl.heads == 0 || ql.heads % kl.heads != 0 {
            return Err(Error::invalid(format!(
                "{} query heads are not a multiple of {} key/value heads",
                ql.heads, kl.heads
            )));
        }
        let (pk, pv) = match (past_k, past_v) {
            (Some(a), Some(b)) => (Some(a), Some(b)),
            (None, None) => (None, None),
            _ => {
                return Err(Error::invalid(
                    "past_key and past_value must be given together",
                ))
            }
        };
        if pk.is_some() && nonpad.is_some() {
            return Err(Error::invalid(
                "nonpad_kv_seqlen cannot be combined with past_key/past_value",
            ));
        }
        let past_len = match (pk, pv) {
            (Some(a), Some(b)) => {
                let (sa, sb) = (a.shape(), b.shape());
                let ok = sa.len() == 4
                    && sb.len() == 4
                    && sa[0] as usize == batch
                    && sb[0] as usize == batch
                    && sa[1] as usize == kl.heads
                    && sb[1] as usize == kl.heads
                    && sa[2] == sb[2]
                    && sa[3] as usize == kl.width
                    && sb[3] as usize == vl.width;
                if !ok {
                    return Err(Error::invalid(format!(
                        "past_key {sa:?} / past_value {sb:?} do not match K and V"
                    )));
                }
                sa[2] as usize
            }
            _ => 0,
        };
        let total = past_len + kl.rows;
        let (sq, dk, dv) = (ql.rows, ql.width, vl.width);

        let pk_d = pk.map(data::<F>).transpose()?;
        let pv_d = pv.map(data::<F>).transpose()?;
        let kp = present(pk_d.as_deref(), past_len, &data::<F>(k)?, &kl, batch);
        let vp = present(pv_d.as_deref(), past_len, &data::<F>(v)?, &vl, batch);
        let mut qd = present(None, 0, &data::<F>(q)?, &ql, batch);
        let scale = self.scale.unwrap_or(1.0 / (dk as f64).sqrt());
        let round = rounder::<F>(q.elem());
        // bfloat16 keeps so few bits that results depend on where rounding happens:
        // follow a computation carried out in bfloat16 step by step. float16 is
        // computed in f32 with only the probabilities rounded, as numpy's float16
        // products accumulate differently from step-by-step rounding anyway.
        let exact = q.elem() == ElemType::BF16;
        // In exact mode Q and K are scaled by √scale (in the input type) up front.
        let ks = if exact {
            let a = round(F::of(scale.sqrt()));
            qd.iter_mut().for_each(|v| *v = round(*v * a));
            Some(kp.iter().map(|&v| round(v * a)).collect::<Vec<F>>())
        } else {
            None
        };

        let nonpad = nonpad.map(|t| t.to_i64_vec()).transpose()?;
        if let Some(n) = &nonpad {
            if n.len() != batch {
                return Err(Error::invalid(format!(
                    "nonpad_kv_seqlen has {} entries for batch {batch}",
                    n.len()
                )));
            }
        }
        let offset: Vec<i64> = (0..batch)
            .map(|b| match &nonpad {
                Some(n) if pk.is_none() => n[b] - sq as i64,
                _ => past_len as i64,
            })
            .collect();
        let mask = match mask {
            None => None,
            Some(m) => {
                let s = m.shape();
                if s.is_empty() || s.len() > 4 {
                    return Err(Error::invalid(format!(
                        "attn_mask must have rank 1 to 4, got {s:?}"
                    )));
                }
                let mut d = [1usize; 4];
                for (i, &x) in s.iter().enumerate() {
                    d[4 - s.len() + i] = x as usize;
                }
                let fits = |n: usize, full: usize| n == 1 || n == full;
                if !fits(d[0], batch) || !fits(d[1], ql.heads) || !fits(d[2], sq) || d[3] > total {
                    return Err(Error::invalid(format!(
                        "attn_mask {s:?} does not broadcast to [{batch}, {}, {sq}, {total}]",
                        ql.heads
                    )));
                }
                let vals: Vec<F> = if m.elem() == ElemType::Bool {
                    m.as_slice::<bool>()?
                        .iter()
                        .map(|&a| if a { F::zero() } else { F::neg_infinity() })
                        .collect()
                } else {
                    data::<F>(m)?.into_owned()
                };
                Some((vals, d))
            }
        };
        let plan = Plan::<F> {
            q_heads: ql.heads,
            group: ql.heads / kl.heads,
            sq,
            dk,
            dv,
            total,
            post_scale: F::of(scale),
            exact,
            round_sm: match self.softmax_precision {
                Some(ElemType::F32 | ElemType::F64) => |v| v,
                _ => round,
            },
            softcap: F::of(self.softcap),
            causal: self.causal,
            left: self.left,
            right: self.right,
            mask,
            offset,
            nonpad,
            mode: self.mode,
            round,
        };

        let heads = batch * ql.heads;
        let mut y = vec![F::zero(); heads * sq * dv];
        let want_qk = self.outputs[3];
        let mut qk = vec![F::zero(); if want_qk { heads * sq * total } else { 0 }];
        if !y.is_empty() && total > 0 {
            // Jobs of up to `rb` query rows of one head.
            let rb = 64usize;
            let mut jobs = Vec::new();
            let mut qk_heads = qk.chunks_mut((sq * total).max(1));
            for (bh, yh) in y.chunks_mut(sq * dv).enumerate() {
                let mut qk_blocks = qk_heads.next().map(|c| c.chunks_mut(rb * total));
                for (blk, yb) in yh.chunks_mut(rb * dv).enumerate() {
                    let qb = qk_blocks.as_mut().and_then(|c| c.next());
                    jobs.push((bh, blk * rb, yb, qb));
                }
            }
            let work = heads * sq * total * (dk + dv);
            let f = |(bh, r0, yb, qb): (usize, usize, &mut [F], Option<&mut [F]>)| {
                plan.rows(bh, r0, &qd, ks.as_deref().unwrap_or(&kp), &vp, yb, qb)
            };
            let threads = if work >= PAR_WORK { ctx.threads } else { 1 };
            crate::parallel::try_for_each_item(threads, jobs, f)?;
        }

        let mut outs = Vec::with_capacity(4);
        let y_shape: Vec<i64> = if ql.packed {
            vec![batch as i64, sq as i64, (ql.heads * dv) as i64]
        } else {
            vec![batch as i64, ql.heads as i64, sq as i64, dv as i64]
        };
        let y = if ql.packed {
            // [B, H, S, Dv] -> [B, S, H·Dv]
            let mut t = vec![F::zero(); y.len()];
            for (bh, blk) in y.chunks(sq * dv).enumerate() {
                let (b, h) = (bh / ql.heads, bh % ql.heads);
                for (i, row) in blk.chunks(dv).enumerate() {
                    let at = (b * sq + i) * ql.heads * dv + h * dv;
                    t[at..at + dv].copy_from_slice(row);
                }
            }
            t
        } else {
            y
        };
        outs.push(Some(Value::from(narrow(ctx, q.elem(), &y_shape, &y)?)));
        let kv_shape = |w: usize| vec![batch as i64, kl.heads as i64, total as i64, w as i64];
        outs.push(if self.outputs[1] {
            Some(Value::from(narrow(ctx, k.elem(), &kv_shape(dk), &kp)?))
        } else {
            None
        });
        outs.push(if self.outputs[2] {
            Some(Value::from(narrow(ctx, v.elem(), &kv_shape(dv), &vp)?))
        } else {
            None
        });
        if want_qk {
            let shape = [batch as i64, ql.heads as i64, sq as i64, total as i64];
            outs.push(Some(Value::from(narrow(ctx, q.elem(), &shape, &qk)?)));
        }
        Ok(outs)
    }
}

crate::register!("Attention", [23, LATEST], FLOATS, build);
