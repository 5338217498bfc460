//! EmbedLayerNormalization (`com.microsoft`): BERT's embeddings, word +
//! position (+ segment) rows summed and layer-normalized over the hidden axis;
//! the second output counts each batch row's mask values equal to 1, the
//! optional third is the sum before normalization.

use ort_core::ElemType::I32;
use ort_core::{Error, Tensor, Value};

use crate::kernel::{input, opt_input, Ctx, Kernel, NodeInfo, Outputs};

pub(super) struct EmbedLayerNormalization {
    epsilon: f32,
    outputs: usize,
}

/// Row `i` of a `[rows, hidden]` table, or an error naming it.
fn row<'a>(t: &'a [f32], hidden: usize, i: i32, what: &str) -> Result<&'a [f32], Error> {
    let rows = t.len() / hidden.max(1);
    if i < 0 || i as usize >= rows {
        return Err(Error::invalid(format!(
            "{what} index {i} is outside its {rows} rows"
        )));
    }
    Ok(&t[i as usize * hidden..][..hidden])
}

impl Kernel for EmbedLayerNormalization {
    fn compute(&self, inputs: &[Option<&Value>], ctx: &Ctx<'_>) -> Outputs {
        let ids = input(inputs, 0)?;
        let &[b, s] = ids.shape() else {
            return Err(Error::invalid(format!(
                "input_ids must be [B, S], got {:?}",
                ids.shape()
            )));
        };
        let (b, s) = (b as usize, s as usize);
        let word = input(inputs, 2)?;
        let hidden = *word.shape().last().unwrap_or(&0) as usize;
        let pos = input(inputs, 3)?.as_slice::<f32>()?;
        let (gamma, beta) = (
            input(inputs, 5)?.as_slice::<f32>()?,
            input(inputs, 6)?.as_slice::<f32>()?,
        );
        if gamma.len() != hidden || beta.len() != hidden {
            return Err(Error::invalid(format!(
                "gamma and beta need {hidden} values"
            )));
        }
        let seg = match (opt_input(inputs, 1)?, opt_input(inputs, 4)?) {
            (Some(i), Some(t)) => Some((i.as_slice::<i32>()?, t.as_slice::<f32>()?)),
            (None, _) => None,
            (Some(_), None) => return Err(Error::invalid("segment_ids needs segment_embedding")),
        };
        let pids = opt_input(inputs, 8)?
            .map(|t| t.as_slice::<i32>())
            .transpose()?;
        if let Some(p) = pids {
            if p.len() != s && p.len() != b * s {
                return Err(Error::invalid(format!(
                    "position_ids must be [1, S] or [B, S], got {} values",
                    p.len()
                )));
            }
        }
        let (iv, wv) = (ids.as_slice::<i32>()?, word.as_slice::<f32>()?);
        let mut sum = vec![0.0f32; b * s * hidden];
        for bi in 0..b {
            for si in 0..s {
                let k = bi * s + si;
                let p = match pids {
                    Some(p) if p.len() == s => p[si],
                    Some(p) => p[k],
                    None => si as i32,
                };
                let e = &mut sum[k * hidden..][..hidden];
                let (w, pr) = (
                    row(wv, hidden, iv[k], "input_ids")?,
                    row(pos, hidden, p, "position")?,
                );
                for ((e, &w), &p) in e.iter_mut().zip(w).zip(pr) {
                    *e = w + p;
                }
                if let Some((sid, st)) = seg {
                    let sr = row(st, hidden, sid[k], "segment_ids")?;
                    e.iter_mut().zip(sr).for_each(|(e, &v)| *e += v);
                }
            }
        }
        let shape = [b as i64, s as i64, hidden as i64];
        let y = ctx.tensor(&shape, |o: &mut [f32]| {
            for (o, e) in o.chunks_mut(hidden).zip(sum.chunks(hidden)) {
                let mean = e.iter().map(|&v| v as f64).sum::<f64>() / hidden as f64;
                let var = e.iter().map(|&v| (v as f64 - mean).powi(2)).sum::<f64>() / hidden as f64;
                let inv = 1.0 / (var + self.epsilon as f64).sqrt();
                for (((o, &v), &g), &bt) in o.iter_mut().zip(e).zip(gamma).zip(beta) {
                    *o = ((v as f64 - mean) * inv) as f32 * g + bt;
                }
            }
        })?;
        let counts: Vec<i32> = match opt_input(inputs, 7)? {
            Some(m) => {
                let mv = m.as_slice::<i32>()?;
                if mv.len() != b * s {
                    return Err(Error::invalid(format!(
                        "mask must be [B, S] = [{b}, {s}], got {:?}",
                        m.shape()
                    )));
                }
                mv.chunks(s.max(1))
                    .map(|r| r.iter().filter(|&&v| v == 1).count() as i32)
                    .collect()
            }
            None => vec![0; b],
        };
        let mut out = vec![Some(Value::Tensor(y))];
        if self.outputs > 1 {
            out.push(Some(Value::Tensor(ctx.tensor_from(&[b as i64], &counts)?)));
        }
        if self.outputs > 2 {
            out.push(Some(Value::Tensor(Tensor::from_vec(&shape, sum)?)));
        }
        Ok(out)
    }
}

/// The attributes, shared with QEmbedLayerNormalization.
pub(super) fn parse(info: &NodeInfo<'_, '_>) -> Result<EmbedLayerNormalization, Error> {
    Ok(EmbedLayerNormalization {
        epsilon: info.float("epsilon", 1e-12)?,
        outputs: info.num_outputs(),
    })
}

fn build(info: &NodeInfo<'_, '_>) -> Result<Box<dyn Kernel>, Error> {
    Ok(Box::new(parse(info)?))
}

crate::register!(
    "EmbedLayerNormalization",
    "com.microsoft",
    [1, 1],
    &[I32],
    0,
    build
);
