//! MultiHeadAttention (`com.microsoft`): attention of query `[B, S, D]` over
//! key and value `[B, L, D]` (or already split into heads, `[B, N, L, H]`, a
//! cross-attention cache), with an optional packed bias, onnxruntime's key
//! padding mask formats, an additive `attention_bias`, past key and value
//! `[B, N, P, H]` and the present ones out.

use ort_core::ElemType::F32;
use ort_core::{Error, Tensor, Value};

use super::{additive_mask, attend, heads_to_rows, present, scale, with_past, Dims};
use crate::kernel::{input, opt_input, Ctx, Kernel, NodeInfo, Outputs};

struct MultiHeadAttention {
    heads: usize,
    causal: bool,
    filter: f32,
    scale: f32,
    /// How many outputs the node has (presents are made only when asked for).
    outputs: usize,
}

/// `x` plus `bias[c0..]` on every row of width `w`.
fn biased(x: &Tensor, bias: Option<&[f32]>, c0: usize, ctx: &Ctx<'_>) -> Result<Tensor, Error> {
    let Some(bias) = bias else {
        return Ok(x.clone());
    };
    let w = *x.shape().last().unwrap_or(&0) as usize;
    let xv = x.as_slice::<f32>()?;
    ctx.tensor(x.shape(), |o: &mut [f32]| {
        for (o, r) in o.chunks_mut(w).zip(xv.chunks(w)) {
            for ((o, &v), &b) in o.iter_mut().zip(r).zip(&bias[c0..c0 + w]) {
                *o = v + b;
            }
        }
    })
}

impl Kernel for MultiHeadAttention {
    fn compute(&self, inputs: &[Option<&Value>], ctx: &Ctx<'_>) -> Outputs {
        let q = input(inputs, 0)?;
        let (k, v) = match (opt_input(inputs, 1)?, opt_input(inputs, 2)?) {
            (Some(k), Some(v)) => (k, v),
            _ => {
                return Err(Error::not_implemented(
                    "MultiHeadAttention with packed QKV or KV (onnxruntime's CPU kernel refuses them too)",
                ))
            }
        };
        for (i, what) in [(8, "past_sequence_length"), (9, "cache_indirection")] {
            if opt_input(inputs, i)?.is_some() {
                return Err(Error::not_implemented(format!(
                    "MultiHeadAttention with {what}"
                )));
            }
        }
        let n = self.heads;
        let &[b, s, dq] = q.shape() else {
            return Err(Error::invalid(format!(
                "query must be [B, S, D], got {:?}",
                q.shape()
            )));
        };
        let (b, s, dq) = (b as usize, s as usize, dq as usize);
        let bias_t = opt_input(inputs, 3)?;
        let bias = bias_t.map(|t| t.as_slice::<f32>()).transpose()?;
        let q = biased(q, bias, 0, ctx)?;
        // Keys and values packed [B, L, N·H]; 4-D ones are heads already (no bias).
        let (k, v, l) = match (k.shape(), v.shape()) {
            ([_, l, _], [_, _, _]) => {
                let dk = k.shape()[2] as usize;
                (
                    biased(k, bias, dq, ctx)?,
                    biased(v, bias, dq + dk, ctx)?,
                    *l as usize,
                )
            }
            ([_, _, l, _], [_, _, _, _]) => {
                let rows = |t: &Tensor| -> Result<Tensor, Error> {
                    let d: Vec<usize> = t.shape().iter().map(|&x| x as usize).collect();
                    let tv = t.as_slice::<f32>()?;
                    ctx.tensor(
                        &[d[0] as i64, d[2] as i64, (d[1] * d[3]) as i64],
                        |o: &mut [f32]| heads_to_rows(tv, (d[0], d[1], d[2], d[3]), o),
                    )
                };
                (rows(k)?, rows(v)?, *l as usize)
            }
            (ks, vs) => {
                return Err(Error::not_implemented(format!(
                "MultiHeadAttention with key {ks:?} and value {vs:?} (3-D or 4-D heads expected)"
            )))
            }
        };
        let (dk, dv) = (k.shape()[2] as usize, v.shape()[2] as usize);
        if dk != dq || dq % n != 0 || dv % n != 0 || k.shape()[0] as usize != b {
            return Err(Error::invalid(format!(
                "query {:?}, key {:?} and value {:?} do not fit {n} heads",
                q.shape(),
                k.shape(),
                v.shape()
            )));
        }
        let (h, hv) = (dq / n, dv / n);
        let (pk, pv) = (opt_input(inputs, 6)?, opt_input(inputs, 7)?);
        let (k, v, p) = match (pk, pv) {
            (None, None) => (k, v, 0),
            (Some(pk), Some(pv)) => {
                let p = *pk.shape().get(2).unwrap_or(&0) as usize;
                if pk.shape() != [b as i64, n as i64, p as i64, h as i64]
                    || pv.shape() != [b as i64, n as i64, p as i64, hv as i64]
                {
                    return Err(Error::invalid(format!(
                        "past_key {:?} and past_value {:?} must be [B, N, P, H] = [{b}, {n}, P, {h}]",
                        pk.shape(),
                        pv.shape()
                    )));
                }
                let k = with_past(
                    Some((pk.as_slice()?, p)),
                    k.as_slice()?,
                    (b, n, l, h),
                    p,
                    ctx,
                )?;
                let v = with_past(
                    Some((pv.as_slice()?, p)),
                    v.as_slice()?,
                    (b, n, l, hv),
                    p,
                    ctx,
                )?;
                (k, v, p)
            }
            _ => {
                return Err(Error::invalid(
                    "past_key and past_value must be given together",
                ))
            }
        };
        let d = Dims {
            b,
            n,
            s,
            p,
            t: p + l,
        };
        let mask = additive_mask(
            opt_input(inputs, 4)?,
            opt_input(inputs, 5)?,
            self.causal,
            self.filter,
            d,
            ctx,
        )?;
        let mut out = Vec::new();
        if self.outputs > 1 {
            out.push(Some(Value::Tensor(present(&k, n, ctx)?)));
            out.push(Some(Value::Tensor(present(&v, n, ctx)?)));
        }
        let y = attend(q, k, v, mask, n, scale(self.scale, h), ctx)?;
        out.insert(0, Some(Value::Tensor(y)));
        out.truncate(self.outputs);
        Ok(out)
    }
}

fn build(info: &NodeInfo<'_, '_>) -> Result<Box<dyn Kernel>, Error> {
    let heads = info.int("num_heads", 0)?;
    if heads <= 0 {
        return Err(Error::invalid(format!(
            "num_heads must be positive, got {heads}"
        )));
    }
    if info.node.outputs.get(3).is_some_and(|o| !o.is_empty()) {
        return Err(Error::not_implemented("MultiHeadAttention's qk output"));
    }
    Ok(Box::new(MultiHeadAttention {
        heads: heads as usize,
        causal: info.int("unidirectional", 0)? != 0,
        filter: info.float("mask_filter_value", -10000.0)?,
        scale: info.float("scale", 0.0)?,
        outputs: info.num_outputs(),
    }))
}

crate::register!(
    "MultiHeadAttention",
    "com.microsoft",
    [1, 1],
    &[F32],
    0,
    build
);
