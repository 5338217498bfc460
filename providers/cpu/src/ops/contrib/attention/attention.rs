//! Attention (`com.microsoft`): BERT-style self-attention with the Q, K and V
//! projections in one weight matrix `[D_in, Dq + Dk + Dv]` and bias, an
//! optional past `[2, B, N, P, H]` (present out), onnxruntime's mask formats
//! (`mask_index`), an additive `attention_bias` and `unidirectional` (causal).

use ort_core::ElemType::F32;
use ort_core::{Error, Value};

use super::{additive_mask, attend, present, scale, with_past, Dims};
use crate::kernel::{input, opt_input, Ctx, Kernel, NodeInfo, Outputs};
use crate::ops::nn::blas::{gemm, Mat};

pub(super) struct Attention {
    heads: usize,
    /// Dq, Dk, Dv; None: the weights' columns in three equal parts.
    sizes: Option<[usize; 3]>,
    causal: bool,
    filter: f32,
    scale: f32,
    /// Output 1 is asked for.
    present: bool,
    outputs: usize,
}

/// Columns `c0..c0 + w` of the row-major `[rows, cols]` matrix `x`.
fn columns(x: &[f32], cols: usize, c0: usize, w: usize, o: &mut [f32]) {
    for (o, r) in o.chunks_mut(w).zip(x.chunks(cols)) {
        o.copy_from_slice(&r[c0..c0 + w]);
    }
}

impl Kernel for Attention {
    fn compute(&self, inputs: &[Option<&Value>], ctx: &Ctx<'_>) -> Outputs {
        let (x, w) = (input(inputs, 0)?, input(inputs, 1)?);
        let (&[b, s, din], &[wi, wo]) = (x.shape(), w.shape()) else {
            return Err(Error::invalid(format!(
                "input must be [B, S, D] and weights [D, 3D], got {:?} and {:?}",
                x.shape(),
                w.shape()
            )));
        };
        let (b, s, din, wo) = (b as usize, s as usize, din as usize, wo as usize);
        if wi as usize != din {
            return Err(Error::invalid(format!(
                "weights have {wi} rows but the input's hidden size is {din}"
            )));
        }
        let [dq, dk, dv] = self.sizes.unwrap_or([wo / 3; 3]);
        if dq + dk + dv != wo || dq != dk || dq % self.heads != 0 || dv % self.heads != 0 {
            return Err(Error::invalid(format!(
                "hidden sizes {:?} do not fit {wo} weight columns and {} heads",
                [dq, dk, dv],
                self.heads
            )));
        }
        let (n, h) = (self.heads, dq / self.heads);
        // The three projections in one product, bias added per row.
        let mut qkv = vec![0.0f32; b * s * wo];
        let (xv, wv) = (x.as_slice::<f32>()?, w.as_slice::<f32>()?);
        gemm(
            (b * s, wo, din),
            Mat::rows(xv, din),
            Mat::rows(wv, wo),
            &mut qkv,
            wo,
            1.0,
            false,
            ctx.threads,
        );
        if let Some(bias) = opt_input(inputs, 2)? {
            let bv = bias.as_slice::<f32>()?;
            if bv.len() != wo {
                return Err(Error::invalid(format!(
                    "bias needs {wo} values, got {}",
                    bv.len()
                )));
            }
            for r in qkv.chunks_mut(wo) {
                r.iter_mut().zip(bv).for_each(|(o, &v)| *o += v);
            }
        }
        let part = |c0: usize, w: usize| {
            ctx.tensor(&[b as i64, s as i64, w as i64], |o: &mut [f32]| {
                columns(&qkv, wo, c0, w, o)
            })
        };
        let q = part(0, dq)?;
        let past = opt_input(inputs, 4)?;
        let bias = opt_input(inputs, 5)?;
        if past.is_some() && bias.is_some() {
            return Err(Error::invalid(
                "past and attention_bias cannot both be given",
            ));
        }
        let (k, v, p) = match past {
            None => (part(dq, dk)?, part(dq + dk, dv)?, 0),
            Some(pt) => {
                let &[2, pb, pn, p, ph] = pt.shape() else {
                    return Err(Error::invalid(format!(
                        "past must be [2, B, N, P, H], got {:?}",
                        pt.shape()
                    )));
                };
                let p = p as usize;
                if (pb as usize, pn as usize, ph as usize) != (b, n, h) || dk != dv {
                    return Err(Error::invalid(format!(
                        "past {:?} does not fit B = {b}, N = {n}, H = {h} (and K and V of one size)",
                        pt.shape()
                    )));
                }
                let pv = pt.as_slice::<f32>()?;
                let half = pv.len() / 2;
                let (kn, vn) = (part(dq, dk)?, part(dq + dk, dv)?);
                let k = with_past(Some((&pv[..half], p)), kn.as_slice()?, (b, n, s, h), p, ctx)?;
                let v = with_past(Some((&pv[half..], p)), vn.as_slice()?, (b, n, s, h), p, ctx)?;
                (k, v, p)
            }
        };
        let d = Dims {
            b,
            n,
            s,
            p,
            t: p + s,
        };
        let mask = additive_mask(
            opt_input(inputs, 3)?,
            bias,
            self.causal,
            self.filter,
            d,
            ctx,
        )?;
        let pres = if self.present {
            let (kp, vp) = (present(&k, n, ctx)?, present(&v, n, ctx)?);
            let len = kp.len();
            let mut shape = vec![2i64];
            shape.extend_from_slice(kp.shape());
            let (ks, vs) = (kp.as_slice::<f32>()?, vp.as_slice::<f32>()?);
            Some(ctx.tensor(&shape, |o: &mut [f32]| {
                o[..len].copy_from_slice(ks);
                o[len..].copy_from_slice(vs);
            })?)
        } else {
            None
        };
        let y = attend(q, k, v, mask, n, scale(self.scale, h), ctx)?;
        let mut out = vec![Some(Value::Tensor(y))];
        if self.outputs > 1 {
            out.push(pres.map(Value::Tensor));
        }
        Ok(out)
    }
}

/// The attributes, shared with QAttention.
pub(super) fn parse(info: &NodeInfo<'_, '_>) -> Result<Attention, Error> {
    let heads = info.int("num_heads", 0)?;
    if heads <= 0 {
        return Err(Error::invalid(format!(
            "num_heads must be positive, got {heads}"
        )));
    }
    if info.int("do_rotary", 0)? != 0 {
        return Err(Error::not_implemented(
            "Attention with do_rotary = 1 (onnxruntime's CPU kernel refuses it too)",
        ));
    }
    if info.int("past_present_share_buffer", 0)? != 0 {
        return Err(Error::not_implemented(
            "Attention with past_present_share_buffer = 1",
        ));
    }
    let sizes = match info.ints("qkv_hidden_sizes")? {
        None => None,
        Some(v) if v.len() == 3 && v.iter().all(|&x| x > 0) => {
            Some([v[0] as usize, v[1] as usize, v[2] as usize])
        }
        Some(v) => {
            return Err(Error::invalid(format!(
                "qkv_hidden_sizes must be 3 positive sizes, got {v:?}"
            )))
        }
    };
    Ok(Attention {
        heads: heads as usize,
        sizes,
        causal: info.int("unidirectional", 0)? != 0,
        filter: info.float("mask_filter_value", -10000.0)?,
        scale: info.float("scale", 0.0)?,
        present: info.node.outputs.get(1).is_some_and(|o| !o.is_empty()),
        outputs: info.num_outputs(),
    })
}

crate::register!(
    "Attention",
    "com.microsoft",
    [1, 1],
    &[F32],
    0,
    |info: &NodeInfo<'_, '_>| { Ok(Box::new(parse(info)?)) }
);
