//! RotaryEmbedding (opset 23): rotates pairs of each head's leading
//! `rotary_embedding_dim` features by position-dependent angles.

use ort_core::{Error, Value};
use rayon::prelude::*;

use crate::kernel::{input, one, opt_input, Ctx, Kernel, NodeInfo, Outputs};
use crate::ops::nn::{data, output, Flt, PAR_WORK};
use crate::ops::{FLOATS, LATEST};

struct RotaryEmbedding {
    interleaved: bool,
    rotary_dim: usize,
    num_heads: usize,
}

fn build(info: &NodeInfo<'_, '_>) -> Result<Box<dyn Kernel>, Error> {
    let nonneg = |name: &str| -> Result<usize, Error> {
        let v = info.int(name, 0)?;
        usize::try_from(v).map_err(|_| Error::invalid(format!("{name} must be >= 0, got {v}")))
    };
    Ok(Box::new(RotaryEmbedding {
        interleaved: info.int("interleaved", 0)? != 0,
        rotary_dim: nonneg("rotary_embedding_dim")?,
        num_heads: nonneg("num_heads")?,
    }))
}

impl Kernel for RotaryEmbedding {
    fn compute(&self, inputs: &[Option<&Value>], ctx: &Ctx<'_>) -> Outputs {
        let x = input(inputs, 0)?;
        let (cos, sin) = (input(inputs, 1)?, input(inputs, 2)?);
        let pos = opt_input(inputs, 3)?.map(|t| t.to_i64_vec()).transpose()?;
        let s = x.shape();
        // (batch, heads, seq, head size, whether heads are packed in the last axis)
        let (b, h, n, d, packed) = match s.len() {
            4 => (s[0], s[1], s[2], s[3], false),
            3 => {
                let h = self.num_heads as i64;
                if h == 0 || s[2] % h != 0 {
                    return Err(Error::invalid(format!(
                        "3-D RotaryEmbedding input {s:?} needs num_heads dividing its last axis"
                    )));
                }
                (s[0], h, s[1], s[2] / h, true)
            }
            r => {
                return Err(Error::invalid(format!(
                    "RotaryEmbedding input must be 3-D or 4-D, got rank {r}"
                )))
            }
        };
        let (b, h, n, d) = (b as usize, h as usize, n as usize, d as usize);
        let rd = if self.rotary_dim == 0 {
            d
        } else {
            self.rotary_dim
        };
        if rd > d || rd % 2 != 0 {
            return Err(Error::invalid(format!(
                "rotary_embedding_dim {rd} must be even and at most the head size {d}"
            )));
        }
        let half = rd / 2;
        let cs = cos.shape();
        if cs != sin.shape() || cs.last().copied() != Some(half as i64) {
            return Err(Error::invalid(format!(
                "cos/sin caches {cs:?} / {:?} must end in rotary_embedding_dim/2 = {half}",
                sin.shape()
            )));
        }
        let rows = cos.len() / half.max(1);
        // Cache row for (batch, position in sequence).
        let row = |bi: usize, si: usize| -> Result<usize, Error> {
            let r = match &pos {
                Some(p) => {
                    let v = *p.get(bi * n + si).ok_or_else(|| {
                        Error::invalid("position_ids must have shape [batch, sequence]")
                    })?;
                    usize::try_from(v).map_err(|_| Error::invalid("negative position id"))?
                }
                None if cs.len() == 2 => si,
                None => bi * n + si,
            };
            if r >= rows {
                return Err(Error::invalid(format!(
                    "position {r} is outside the cos/sin cache of {rows} rows"
                )));
            }
            Ok(r)
        };
        let table: Vec<usize> = (0..b * n)
            .map(|i| row(i / n.max(1), i % n.max(1)))
            .collect::<Result<_, _>>()?;
        let interleaved = self.interleaved;
        one(crate::with_float!(x.elem(), F => {
            let (xd, cd, sd) = (data::<F>(x)?, data::<F>(cos)?, data::<F>(sin)?);
            output::<F>(ctx, x.elem(), s, |o| {
                if d == 0 {
                    return;
                }
                // One head vector per chunk of d; find its (batch, seq) from its index.
                let f = |(i, (o, x)): (usize, (&mut [F], &[F]))| {
                    let (bi, si) = if packed {
                        (i / (n * h), (i / h) % n)
                    } else {
                        (i / (h * n), i % n)
                    };
                    let r = table[bi * n + si];
                    let (c, sn) = (&cd[r * half..(r + 1) * half], &sd[r * half..(r + 1) * half]);
                    rotate(x, o, c, sn, half, interleaved);
                };
                if ctx.threads > 1 && o.len() >= PAR_WORK {
                    o.par_chunks_mut(d).zip(xd.par_chunks(d)).enumerate().for_each(f);
                } else {
                    o.chunks_mut(d).zip(xd.chunks(d)).enumerate().for_each(f);
                }
            })
        })?)
    }
}

#[inline(always)]
fn rotate<F: Flt>(x: &[F], o: &mut [F], cos: &[F], sin: &[F], half: usize, interleaved: bool) {
    for k in 0..half {
        let (i1, i2) = if interleaved {
            (2 * k, 2 * k + 1)
        } else {
            (k, k + half)
        };
        let (x1, x2) = (x[i1], x[i2]);
        o[i1] = cos[k] * x1 - sin[k] * x2;
        o[i2] = sin[k] * x1 + cos[k] * x2;
    }
    o[2 * half..].copy_from_slice(&x[2 * half..]);
}

crate::register!("RotaryEmbedding", [23, LATEST], FLOATS, build);
