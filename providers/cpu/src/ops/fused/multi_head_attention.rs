//! MultiHeadAttention (fused domain): `softmax(scale · Qₕ·Kₕᵀ + Mask) · Vₕ` per
//! batch and head over packed `[B, S, H·D]` inputs, what the optimizer makes of
//! the exported Reshape/Transpose/MatMul/Softmax chain. Heads are read in place
//! through strided matrix views, so no input is transposed or copied.
//!
//! float16 and bfloat16 compute in f32 and are rounded once, at the end.

use ort_core::{ElemType, Error, Tensor, Value};

use crate::kernel::{input, one, opt_input, Ctx, Kernel, NodeInfo, Outputs};
use crate::ops::nn::blas::{gemm, gemm_prepacked, pack_b, Mat};
use crate::ops::nn::simd_fn;
use crate::ops::nn::{data, output, Flt, PAR_WORK};
use crate::ops::{FLOATS, LATEST};
use crate::util::GemmScalar;

pub(crate) struct MultiHeadAttention {
    pub heads: usize,
    /// Default 1/√D.
    pub scale: Option<f64>,
    pub causal: bool,
}

fn build(info: &NodeInfo<'_, '_>) -> Result<Box<dyn Kernel>, Error> {
    let heads = info.int("num_heads", 0)?;
    if heads <= 0 {
        return Err(Error::invalid(format!(
            "num_heads must be positive, got {heads}"
        )));
    }
    Ok(Box::new(MultiHeadAttention {
        heads: heads as usize,
        scale: info
            .has("scale")
            .then(|| info.float("scale", 1.0))
            .transpose()?
            .map(f64::from),
        causal: info.int("causal", 0)? != 0,
    }))
}

/// Query rows per product: bounds the score buffer.
const ROWS: usize = 64;

/// Sizes and the broadcast mask, shared by every (batch, head, row block) job.
struct Plan<'a, F> {
    heads: usize,
    sq: usize,
    sk: usize,
    d: usize,
    dv: usize,
    scale: F,
    causal: bool,
    /// Mask values and its shape padded to rank 4 (dims are 1 or full).
    mask: Option<(&'a [F], [usize; 4])>,
}

impl<F: Flt + GemmScalar> Plan<'_, F> {
    /// Query rows `r0..` of head `bh` (= b·H + h); `y` is their `rows × dv` output.
    fn rows(
        &self,
        bh: usize,
        r0: usize,
        q: &[F],
        k: &[F],
        v: &[F],
        y: &mut [F],
    ) -> Result<(), Error> {
        let (h_all, sk, d, dv) = (self.heads, self.sk, self.d, self.dv);
        let (b, h) = (bh / h_all, bh % h_all);
        let (qw, vw) = (h_all * d, h_all * dv);
        // Row i of head h in a packed [B, S, H·W] tensor starts at (b·S + i)·H·W + h·W.
        let ka = b * sk * qw + h * d;
        let va = b * sk * vw + h * dv;
        let kt = Mat {
            data: &k[ka..],
            rs: 1,
            cs: qw,
        };
        let vm = Mat {
            data: &v[va..],
            rs: vw,
            cs: 1,
        };
        // Keys and values packed once for all of this job's query rows.
        let (kp, vp) = (pack_b(kt, d, sk), pack_b(vm, sk, dv));
        let mut s = vec![F::zero(); ROWS.min(y.len() / dv) * sk];
        for (blk, yb) in y.chunks_mut(ROWS * dv).enumerate() {
            let r0 = r0 + blk * ROWS;
            let rows = yb.len() / dv;
            let s = &mut s[..rows * sk];
            let qm = Mat {
                data: &q[(b * self.sq + r0) * qw + h * d..],
                rs: qw,
                cs: 1,
            };
            // The scale rides on the product (alpha) rather than a pass of its own.
            let dims = (rows, sk, d);
            if !kp
                .as_ref()
                .is_some_and(|kp| gemm_prepacked(dims, qm, kp, s, sk, self.scale, false, 1))
            {
                gemm(dims, qm, kt, s, sk, self.scale, false, 1);
            }
            self.softmax_rows(b, h, r0, s);
            let (pm, dims) = (Mat::rows(s, sk), (rows, dv, sk));
            if !vp
                .as_ref()
                .is_some_and(|vp| gemm_prepacked(dims, pm, vp, yb, dv, F::one(), false, 1))
            {
                gemm(dims, pm, vm, yb, dv, F::one(), false, 1);
            }
        }
        Ok(())
    }

    /// Masks and normalises the scores of query rows `r0..` of head (b, h).
    fn softmax_rows(&self, b: usize, h: usize, r0: usize, s: &mut [F]) {
        let sk = self.sk;
        for (r, row) in s.chunks_mut(sk).enumerate() {
            let i = r0 + r;
            if let Some((m, dm)) = self.mask {
                let pick = |n: usize, x: usize| if n == 1 { 0 } else { x };
                let at =
                    ((pick(dm[0], b) * dm[1] + pick(dm[1], h)) * dm[2] + pick(dm[2], i)) * dm[3];
                if dm[3] == 1 {
                    row.iter_mut().for_each(|x| *x += m[at]);
                } else {
                    row.iter_mut()
                        .zip(&m[at..at + sk])
                        .for_each(|(x, &c)| *x += c);
                }
            }
            // Keys past i + Sk − Sq are hidden from query i.
            let visible = if self.causal {
                (i + sk + 1).saturating_sub(self.sq).min(sk)
            } else {
                sk
            };
            softmax(&mut row[..visible]);
            row[visible..].fill(F::zero());
        }
    }
}

simd_fn! {
    /// Softmax in place, shifted by the maximum for stability; a row with nothing
    /// to attend to (empty or all `-inf`) becomes zeros.
    fn softmax[F: Flt](x: &mut [F]) {
        let m = crate::ops::nn::max(x);
        if m == F::neg_infinity() {
            x.fill(F::zero());
            return;
        }
        x.iter_mut().for_each(|v| *v = (*v - m).fast_exp());
        let sum = crate::ops::nn::sum_by(x, |v| v);
        let inv = F::one() / sum;
        x.iter_mut().for_each(|v| *v *= inv);
    }
}

impl Kernel for MultiHeadAttention {
    fn compute(&self, inputs: &[Option<&Value>], ctx: &Ctx<'_>) -> Outputs {
        match input(inputs, 0)?.elem() {
            ElemType::F64 => self.run::<f64>(inputs, ctx),
            ElemType::F32 | ElemType::F16 | ElemType::BF16 => self.run::<f32>(inputs, ctx),
            e => Err(Error::not_implemented(format!(
                "MultiHeadAttention on {e} tensors"
            ))),
        }
    }
}

/// `(batch, seq, heads × width)` of a packed 3-D input.
fn packed(t: &Tensor, heads: usize, what: &str) -> Result<(usize, usize, usize), Error> {
    match *t.shape() {
        [b, s, hw] if (hw as usize).is_multiple_of(heads) => {
            Ok((b as usize, s as usize, hw as usize / heads))
        }
        [_, _, hw] => Err(Error::invalid(format!(
            "{what} hidden size {hw} is not a multiple of {heads} heads"
        ))),
        ref s => Err(Error::invalid(format!(
            "{what} must be 3-D [batch, seq, heads·width], got shape {s:?}"
        ))),
    }
}

impl MultiHeadAttention {
    fn run<F: Flt + GemmScalar>(&self, inputs: &[Option<&Value>], ctx: &Ctx<'_>) -> Outputs {
        let (q, k, v) = (input(inputs, 0)?, input(inputs, 1)?, input(inputs, 2)?);
        let heads = self.heads;
        let (b, sq, d) = packed(q, heads, "Q")?;
        let (bk, sk, dk) = packed(k, heads, "K")?;
        let (bv, sv, dv) = packed(v, heads, "V")?;
        if bk != b || bv != b || sv != sk || dk != d {
            return Err(Error::invalid(format!(
                "Q {:?}, K {:?} and V {:?} do not agree on batch, key length or head size",
                q.shape(),
                k.shape(),
                v.shape()
            )));
        }
        let mask_t = opt_input(inputs, 3)?;
        let mask_d = mask_t.map(data::<F>).transpose()?;
        let mask = match (mask_t, &mask_d) {
            (Some(t), Some(m)) => {
                let s = t.shape();
                if s.len() > 4 {
                    return Err(Error::invalid(format!(
                        "Mask must have rank 4 or less, got {s:?}"
                    )));
                }
                let mut dm = [1usize; 4];
                for (i, &x) in s.iter().enumerate() {
                    dm[4 - s.len() + i] = x as usize;
                }
                let full = [b, heads, sq, sk];
                if dm.iter().zip(full).any(|(&n, f)| n != 1 && n != f) {
                    return Err(Error::invalid(format!(
                        "Mask {s:?} does not broadcast to {full:?}"
                    )));
                }
                Some((m.as_ref(), dm))
            }
            _ => None,
        };
        let plan = Plan {
            heads,
            sq,
            sk,
            d,
            dv,
            scale: F::of(self.scale.unwrap_or(1.0 / (d as f64).sqrt())),
            causal: self.causal,
            mask,
        };
        let (qd, kd, vd) = (data::<F>(q)?, data::<F>(k)?, data::<F>(v)?);
        // Per head, [B·H, Sq, Dv]; interleaved into [B, Sq, H·Dv] at the end.
        let mut yh = vec![F::zero(); b * heads * sq * dv];
        if !yh.is_empty() && sk > 0 {
            // A job per head, each packing its keys and values once; heads are
            // split into row blocks only when there are too few for the threads.
            let per_head = (2 * ctx.threads)
                .div_ceil(b * heads)
                .clamp(1, sq.div_ceil(16).max(1));
            let job_rows = sq.div_ceil(per_head);
            let mut jobs = Vec::new();
            for (bh, y) in yh.chunks_mut(sq * dv).enumerate() {
                for (blk, yb) in y.chunks_mut(job_rows * dv).enumerate() {
                    jobs.push((bh, blk * job_rows, yb));
                }
            }
            let f = |(bh, r0, yb): (usize, usize, &mut [F])| plan.rows(bh, r0, &qd, &kd, &vd, yb);
            let work = b * heads * sq * sk * (d + dv);
            let threads = if work >= PAR_WORK { ctx.threads } else { 1 };
            crate::parallel::try_for_each_item(threads, jobs, f)?;
        }
        let shape = [b as i64, sq as i64, (heads * dv) as i64];
        let y = output::<F>(ctx, q.elem(), &shape, |o| {
            if sq * dv == 0 {
                return;
            }
            for (bh, blk) in yh.chunks(sq * dv).enumerate() {
                let (bi, h) = (bh / heads, bh % heads);
                for (i, row) in blk.chunks(dv).enumerate() {
                    let at = (bi * sq + i) * heads * dv + h * dv;
                    o[at..at + dv].copy_from_slice(row);
                }
            }
        })?;
        one(y)
    }
}

crate::register!(
    "MultiHeadAttention",
    "ai.ort_rs.fused",
    [1, LATEST],
    FLOATS,
    0,
    build
);
