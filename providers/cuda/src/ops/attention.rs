//! The fused-domain MultiHeadAttention (`docs/fused-ops.md`):
//! `softmax(scale · Qₕ·Kₕᵀ + Mask) · Vₕ` per batch and head. cuBLAS reads each
//! head's columns of Q, K and V in place (row stride H·D) and writes each
//! head's columns of the output, so no transposes are made; the scores are one
//! scratch block [B, H, Sq, Sk].

use cudarc::driver::PushKernelArg;
use ort_core::kit::Attributes;
use ort_core::kit::{broadcast, broadcast_strides};
use ort_core::{ElemType, Error, GraphView, NodeView};

use super::matmul::{gemm, Gemm};
use super::softmax::Softmax;
use super::{elementwise, invalid, is_fused, launch, Claim, Cx, Ints, Io, Kernel, Lower, Lowered};
use crate::kernels::Dims;

#[derive(Clone, Debug)]
pub struct Attention {
    pub heads: i64,
    /// None: 1/√D.
    pub scale: Option<f32>,
    pub causal: bool,
}

pub fn claim(node: &NodeView<'_>, graph: &GraphView<'_>) -> Result<Option<Claim>, String> {
    if !is_fused(node, "MultiHeadAttention") {
        return Ok(None);
    }
    // The scores would be rounded to the storage type before the softmax.
    if graph.elem_of(&node.inputs[0]) != Some(ElemType::F32) {
        return Err("attention in float16 or bfloat16 is left to the CPU".into());
    }
    let heads = node.attr_int("num_heads", 0)?;
    if heads < 1 {
        return Err("MultiHeadAttention without num_heads".into());
    }
    let a = Attention {
        heads,
        scale: match node.attr("scale") {
            Some(_) => Some(node.attr_float("scale", 1.0)?),
            None => None,
        },
        causal: node.attr_int("causal", 0)? != 0,
    };
    let n = if node.has_input(3) { 4 } else { 3 };
    Ok(Some(Claim::one(Lowered::inputs(a, n))))
}

/// Batch, query length, key length, head size, value head size.
struct Sizes {
    b: i64,
    sq: i64,
    sk: i64,
    d: i64,
    dv: i64,
}

impl Attention {
    fn sizes(&self, q: &[i64], k: &[i64], v: &[i64]) -> Result<Sizes, Error> {
        let h = self.heads;
        let ok = q.len() == 3 && k.len() == 3 && v.len() == 3;
        if !ok
            || q[0] != k[0]
            || k[0] != v[0]
            || k[1] != v[1]
            || q[2] != k[2]
            || q[2] % h != 0
            || v[2] % h != 0
        {
            return Err(invalid(format!(
                "MultiHeadAttention of Q {q:?}, K {k:?}, V {v:?} in {h} heads"
            )));
        }
        Ok(Sizes {
            b: q[0],
            sq: q[1],
            sk: k[1],
            d: q[2] / h,
            dv: v[2] / h,
        })
    }
}

impl Kernel for Attention {
    fn shape(&self, inputs: &[&[i64]], _: &[Ints]) -> Result<Vec<i64>, Error> {
        let s = self.sizes(inputs[0], inputs[1], inputs[2])?;
        if let Some(m) = inputs.get(3) {
            let scores = [s.b, self.heads, s.sq, s.sk];
            if broadcast(m, &scores)? != scores {
                return Err(invalid(format!(
                    "an attention mask of {m:?} for scores {scores:?}"
                )));
            }
        }
        Ok(vec![s.b, s.sq, self.heads * s.dv])
    }
    fn launch(&self, cx: &Cx<'_>, io: Io<'_>) -> Result<(), Error> {
        let Io { inputs, out, .. } = io;
        let (q, k, v) = (&inputs[0], &inputs[1], &inputs[2]);
        let s = self.sizes(&q.shape, &k.shape, &v.shape)?;
        let h = self.heads;
        let shape = [s.b, h, s.sq, s.sk];
        let scores = cx.alloc(&shape, ElemType::F32)?;
        if scores.is_empty() {
            // Out is not empty (the partition skips those), so there are no keys.
            return Err(invalid("MultiHeadAttention over no keys"));
        }
        let scale = self.scale.unwrap_or(1.0 / (s.d as f32).sqrt());
        let es = 4u64;
        // Per batch: scores[h] = scale · Q[:, h] · K[:, h]ᵀ, all heads in one call.
        let qk = Gemm {
            m: s.sq,
            n: s.sk,
            k: s.d,
            trans_a: false,
            trans_b: true,
            batch: h,
            ld: Some([h * s.d, h * s.d, s.sk]),
        };
        let pv = Gemm {
            m: s.sq,
            n: s.dv,
            k: s.sk,
            trans_a: false,
            trans_b: false,
            batch: h,
            ld: Some([s.sk, h * s.dv, h * s.dv]),
        };
        for b in 0..s.b as u64 {
            let sp = scores.ptr() + b * (h * s.sq * s.sk) as u64 * es;
            let qp = q.ptr() + b * (s.sq * h * s.d) as u64 * es;
            let kp = k.ptr() + b * (s.sk * h * s.d) as u64 * es;
            gemm(
                cx,
                ElemType::F32,
                &qk,
                scale,
                (qp, s.d),
                (kp, s.d),
                0.0,
                (sp, s.sq * s.sk),
            )?;
        }
        if let Some(m) = inputs.get(3) {
            let st = [
                broadcast_strides(&shape, &shape),
                broadcast_strides(&m.shape, &shape),
            ];
            let d = Dims::new(&shape, &[&st[0], &st[1]]).map_err(Error::invalid)?;
            let f = cx.float_fn("binary", ElemType::F32)?;
            let (sp, mp, n, add) = (scores.ptr(), m.ptr(), scores.len() as i64, 0i32);
            let mut args = cx.args(f);
            args.arg(&sp).arg(&mp).arg(&sp).arg(&d).arg(&n).arg(&add);
            launch(args, elementwise(scores.len()), "attention mask")?;
        }
        if self.causal {
            let f = cx.float_fn("causal", ElemType::F32)?;
            let (sp, n) = (scores.ptr(), scores.len() as i64);
            let mut args = cx.args(f);
            args.arg(&sp).arg(&n).arg(&s.sq).arg(&s.sk);
            launch(args, elementwise(scores.len()), "causal mask")?;
        }
        let softmax = Softmax {
            axis: -1,
            flat: false,
            log: false,
        };
        softmax.launch(
            cx,
            Io {
                inputs: std::slice::from_ref(&scores),
                ints: &[],
                out: &scores,
            },
        )?;
        // Per batch: out[:, h] = probabilities[h] · V[:, h].
        for b in 0..s.b as u64 {
            let sp = scores.ptr() + b * (h * s.sq * s.sk) as u64 * es;
            let vp = v.ptr() + b * (s.sk * h * s.dv) as u64 * es;
            let op = out.ptr() + b * (s.sq * h * s.dv) as u64 * es;
            gemm(
                cx,
                ElemType::F32,
                &pv,
                1.0,
                (sp, s.sq * s.sk),
                (vp, s.dv),
                0.0,
                (op, s.dv),
            )?;
        }
        cx.keep(scores);
        Ok(())
    }
}
