//! RotaryEmbedding (`com.microsoft`): rotates the first `rd` values of each
//! head by the angle of its position, read from `cos_cache`/`sin_cache`
//! `[positions, rd/2]`; pairs are (i, i + rd/2), or (2i, 2i + 1) with
//! `interleaved`. Input `[B, S, N·H]` or `[B, N, S, H]`; positions are an
//! offset (`position_ids` of one value) plus the row, or `[B, S]` explicit.

use ort_core::ElemType::F32;
use ort_core::{Error, Value};

use crate::kernel::{input, one, Ctx, Kernel, NodeInfo, Outputs};

struct RotaryEmbedding {
    interleaved: bool,
    heads: usize,
    dim: usize,
}

/// Rotates `x` (one head, `rd` ≤ its length) into `o` by the angle whose
/// cosines and sines are `c` and `s` (`rd/2` each).
pub(super) fn rotate(x: &[f32], c: &[f32], s: &[f32], interleaved: bool, o: &mut [f32]) {
    let half = c.len();
    o.copy_from_slice(x);
    for i in 0..half {
        let (a, b) = if interleaved {
            (2 * i, 2 * i + 1)
        } else {
            (i, i + half)
        };
        o[a] = x[a] * c[i] - x[b] * s[i];
        o[b] = x[b] * c[i] + x[a] * s[i];
    }
}

/// Position of row `s` of batch `b`: `ids` of one value is an offset.
pub(super) fn position(ids: &[i64], seq: usize, b: usize, s: usize) -> i64 {
    if ids.len() == 1 {
        ids[0] + s as i64
    } else {
        ids[b * seq + s]
    }
}

impl Kernel for RotaryEmbedding {
    fn compute(&self, inputs: &[Option<&Value>], ctx: &Ctx<'_>) -> Outputs {
        let (x, ids) = (input(inputs, 0)?, input(inputs, 1)?);
        let (cos, sin) = (input(inputs, 2)?, input(inputs, 3)?);
        let &[mc, half] = cos.shape() else {
            return Err(Error::invalid(format!(
                "cos_cache must be 2-D, got {:?}",
                cos.shape()
            )));
        };
        if sin.shape() != cos.shape() {
            return Err(Error::invalid("sin_cache and cos_cache differ in shape"));
        }
        let (mc, half) = (mc as usize, half as usize);
        // (batch, heads, rows, head size), and whether heads come before rows.
        let (b, n, seq, h, heads_first) = match *x.shape() {
            [b, s, d] => {
                let h = if self.dim == 0 {
                    2 * half
                } else {
                    d as usize / self.heads.max(1)
                };
                if h == 0 || !(d as usize).is_multiple_of(h) {
                    return Err(Error::invalid(format!(
                        "hidden size {d} is not a number of heads of size {h}"
                    )));
                }
                (b as usize, d as usize / h, s as usize, h, false)
            }
            [b, n, s, h] => (b as usize, n as usize, s as usize, h as usize, true),
            ref sh => {
                return Err(Error::invalid(format!(
                    "input must be 3-D or 4-D, got {sh:?}"
                )))
            }
        };
        let rd = if self.dim == 0 { h } else { self.dim };
        if rd > h || rd != 2 * half {
            return Err(Error::invalid(format!(
                "rotary dimension {rd} needs cos_cache and sin_cache of {} columns and at most the head size {h}, got {half}",
                rd / 2
            )));
        }
        let ids = ids.as_slice::<i64>()?;
        if ids.len() != 1 && ids.len() != b * seq {
            return Err(Error::invalid(format!(
                "position_ids must be one offset or [B, S] = [{b}, {seq}], got {} values",
                ids.len()
            )));
        }
        let (xv, cv, sv) = (
            x.as_slice::<f32>()?,
            cos.as_slice::<f32>()?,
            sin.as_slice::<f32>()?,
        );
        let mut bad = None;
        let y = ctx.tensor(x.shape(), |o: &mut [f32]| {
            for bi in 0..b {
                for si in 0..seq {
                    let p = position(ids, seq, bi, si);
                    if p < 0 || p as usize >= mc {
                        bad = Some(p);
                        return;
                    }
                    let (c, s) = (
                        &cv[p as usize * half..][..half],
                        &sv[p as usize * half..][..half],
                    );
                    for ni in 0..n {
                        let at = if heads_first {
                            ((bi * n + ni) * seq + si) * h
                        } else {
                            (bi * seq + si) * n * h + ni * h
                        };
                        rotate(
                            &xv[at..at + rd],
                            c,
                            s,
                            self.interleaved,
                            &mut o[at..at + rd],
                        );
                        o[at + rd..at + h].copy_from_slice(&xv[at + rd..at + h]);
                    }
                }
            }
        })?;
        if let Some(p) = bad {
            return Err(Error::invalid(format!(
                "position {p} is outside the caches' {mc} rows"
            )));
        }
        one(y)
    }
}

fn build(info: &NodeInfo<'_, '_>) -> Result<Box<dyn Kernel>, Error> {
    let dim = info.int("rotary_embedding_dim", 0)?;
    let heads = info.int("num_heads", 0)?;
    if dim < 0 || heads < 0 || (dim > 0 && heads == 0) {
        return Err(Error::invalid(format!(
            "rotary_embedding_dim {dim} needs a positive num_heads, got {heads}"
        )));
    }
    Ok(Box::new(RotaryEmbedding {
        interleaved: info.int("interleaved", 0)? != 0,
        heads: heads as usize,
        dim: dim as usize,
    }))
}

crate::register!("RotaryEmbedding", "com.microsoft", [1, 1], &[F32], 0, build);
