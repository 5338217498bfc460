//! FlexAttention (ai.onnx.preview opset 1): scaled dot-product attention over 4-D
//! inputs with grouped-query heads. The `score_mod` / `prob_mod` graph attributes
//! need subgraph execution, which kernels do not have: such nodes are refused.

use ort_core::{ElemType, Error, Value};
use rayon::prelude::*;

use crate::kernel::{input, one, Ctx, Kernel, NodeInfo, Outputs};
use crate::ops::nn::{data, narrow, Flt, PAR_WORK};
use crate::ops::{FLOATS, LATEST};
use crate::util::{gemm_strided, GemmScalar, MatRef};

struct FlexAttention {
    scale: Option<f64>,
}

fn build(info: &NodeInfo<'_, '_>) -> Result<Box<dyn Kernel>, Error> {
    for g in ["score_mod", "prob_mod"] {
        if info.has(g) {
            return Err(Error::not_implemented(format!(
                "FlexAttention with a {g} graph is not supported"
            )));
        }
    }
    Ok(Box::new(FlexAttention {
        scale: info
            .has("scale")
            .then(|| info.float("scale", 1.0))
            .transpose()?
            .map(|s| s as f64),
    }))
}

impl Kernel for FlexAttention {
    fn compute(&self, inputs: &[Option<&Value>], ctx: &Ctx<'_>) -> Outputs {
        let q = input(inputs, 0)?;
        crate::with_float!(q.elem(), F => self.run::<F>(inputs, ctx))
    }
}

impl FlexAttention {
    fn run<F: Flt + GemmScalar>(&self, inputs: &[Option<&Value>], ctx: &Ctx<'_>) -> Outputs {
        let (q, k, v) = (input(inputs, 0)?, input(inputs, 1)?, input(inputs, 2)?);
        let (qs, ks, vs) = (q.shape(), k.shape(), v.shape());
        if qs.len() != 4 || ks.len() != 4 || vs.len() != 4 {
            return Err(Error::invalid("FlexAttention needs 4-D Q, K and V"));
        }
        let [b, hq, l, e] = [qs[0], qs[1], qs[2], qs[3]].map(|d| d as usize);
        let [hk, s, dv] = [ks[1], ks[2], vs[3]].map(|d| d as usize);
        if ks[0] as usize != b
            || vs[0] as usize != b
            || vs[1] != ks[1]
            || vs[2] != ks[2]
            || ks[3] as usize != e
        {
            return Err(Error::invalid(format!(
                "FlexAttention shapes Q {qs:?}, K {ks:?}, V {vs:?} do not agree"
            )));
        }
        if hk == 0 || hq % hk != 0 {
            return Err(Error::invalid(format!(
                "{hq} query heads are not a multiple of {hk} key/value heads"
            )));
        }
        let scale = self.scale.unwrap_or(1.0 / (e as f64).sqrt());
        let (qd, kd, vd) = (data::<F>(q)?, data::<F>(k)?, data::<F>(v)?);
        let group = hq / hk;
        let mut y = vec![F::zero(); b * hq * l * dv];
        let sc = F::of(scale);
        let job = |(bh, yh): (usize, &mut [F])| -> Result<(), Error> {
            let kvh = (bh / hq) * hk + (bh % hq) / group;
            let mut p = vec![F::zero(); l * s];
            gemm_strided(
                MatRef::rows(&qd[bh * l * e..(bh + 1) * l * e], l, e),
                MatRef::transposed(&kd[kvh * s * e..(kvh + 1) * s * e], e, s),
                &mut p,
                s,
                false,
                1,
            )?;
            for row in p.chunks_mut(s) {
                row.iter_mut().for_each(|x| *x *= sc);
                let m = row.iter().fold(F::neg_infinity(), |m, &x| m.max(x));
                row.iter_mut().for_each(|x| *x = (*x - m).exp());
                let sum = row.iter().fold(F::zero(), |a, &x| a + x);
                row.iter_mut().for_each(|x| *x = *x / sum);
            }
            gemm_strided(
                MatRef::rows(&p, l, s),
                MatRef::rows(&vd[kvh * s * dv..(kvh + 1) * s * dv], s, dv),
                yh,
                dv,
                false,
                1,
            )
        };
        if l * dv > 0 && s > 0 {
            if ctx.threads > 1 && b * hq > 1 && b * hq * l * s * (e + dv) >= PAR_WORK {
                y.par_chunks_mut(l * dv).enumerate().try_for_each(job)?;
            } else {
                y.chunks_mut(l * dv).enumerate().try_for_each(job)?;
            }
        }
        let out_elem: ElemType = v.elem();
        one(narrow(
            ctx,
            out_elem,
            &[b as i64, hq as i64, l as i64, dv as i64],
            &y,
        )?)
    }
}

crate::register!(
    "FlexAttention",
    "ai.onnx.preview",
    [1, LATEST],
    FLOATS,
    0,
    build
);
