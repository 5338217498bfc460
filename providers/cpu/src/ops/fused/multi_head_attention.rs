//! MultiHeadAttention (fused domain): `softmax(scale · Qₕ·Kₕᵀ + Mask) · Vₕ` per
//! batch and head over packed `[B, S, H·D]` inputs, what the optimizer makes of
//! the exported Reshape/Transpose/MatMul/Softmax chain. Heads are read in place
//! through strided matrix views and written in place into the output, so
//! nothing is transposed; each head's keys and values are packed once for the
//! product kernel. Softmax's division is applied to the `Dv`-wide result rows
//! rather than to the `Sk`-wide weights.
//!
//! float16 and bfloat16 compute in f32 and are rounded once, at the end.

use ort_core::{ElemType, Error, Tensor, Value};

use crate::kernel::{input, one, opt_input, Ctx, Kernel, NodeInfo, Outputs};
use crate::ops::nn::blas::{gemm, gemm_prepacked, pack_b, Mat};
use crate::ops::nn::sgemm::PackedB;
use crate::ops::nn::simd_fn;
use crate::ops::nn::{as_f32, as_f32_mut, data, output, Flt, PAR_WORK};
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

/// Query rows per job at most: bounds the score buffer.
const ROWS: usize = 64;

/// Sizes and the broadcast mask, shared by every (batch, row block) job.
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

/// One head's keys (as Kᵀ) and values, packed for the product kernel when it
/// takes them (f32 on AVX-512).
type Packed = (Option<PackedB>, Option<PackedB>);

impl<F: Flt + GemmScalar> Plan<'_, F> {
    /// Head `bh`'s keys as a `d × sk` matrix and values as `sk × dv`, read in
    /// place from packed `[B, S, H·W]` inputs.
    fn kv<'k>(&self, bh: usize, k: &'k [F], v: &'k [F]) -> (Mat<'k, F>, Mat<'k, F>) {
        let (b, h) = (bh / self.heads, bh % self.heads);
        let (qw, vw) = (self.heads * self.d, self.heads * self.dv);
        // Row i of head h in a packed [B, S, H·W] tensor starts at (b·S + i)·H·W + h·W.
        let kt = Mat {
            data: &k[b * self.sk * qw + h * self.d..],
            rs: 1,
            cs: qw,
        };
        let vm = Mat {
            data: &v[b * self.sk * vw + h * self.dv..],
            rs: vw,
            cs: 1,
        };
        (kt, vm)
    }

    fn pack(&self, bh: usize, k: &[F], v: &[F]) -> Packed {
        let (kt, vm) = self.kv(bh, k, v);
        (pack_b(kt, self.d, self.sk), pack_b(vm, self.sk, self.dv))
    }

    /// Query rows `r0..` of batch `b` over every head; `y` is their
    /// `rows × H·dv` slice of the output, written in place.
    #[allow(clippy::too_many_arguments)]
    fn rows(&self, b: usize, r0: usize, q: &[F], k: &[F], v: &[F], packs: &[Packed], y: &mut [F]) {
        let (heads, sk, d, dv) = (self.heads, self.sk, self.d, self.dv);
        let (qw, yw) = (heads * d, heads * dv);
        let rows = y.len() / yw;
        let mut s = vec![F::zero(); rows * sk];
        let mut inv = vec![F::zero(); rows];
        for h in 0..heads {
            let bh = b * heads + h;
            let ((kt, vm), (kp, vp)) = (self.kv(bh, k, v), &packs[bh]);
            let qm = Mat {
                data: &q[(b * self.sq + r0) * qw + h * d..],
                rs: qw,
                cs: 1,
            };
            // The scale rides on the product (alpha) rather than a pass of its own.
            let dims = (rows, sk, d);
            if !kp
                .as_ref()
                .is_some_and(|kp| gemm_prepacked(dims, qm, kp, &mut s, sk, self.scale, false, 1))
            {
                gemm(dims, qm, kt, &mut s, sk, self.scale, false, 1);
            }
            self.exp_rows(b, h, r0, &mut s, &mut inv);
            // Unnormalised weights times V straight into the head's columns,
            // each row divided by its sum after (dv values instead of sk).
            let (pm, dims, yh) = (Mat::rows(&s, sk), (rows, dv, sk), &mut y[h * dv..]);
            if !vp
                .as_ref()
                .is_some_and(|vp| gemm_prepacked(dims, pm, vp, yh, yw, F::one(), false, 1))
            {
                gemm(dims, pm, vm, yh, yw, F::one(), false, 1);
            }
            for (row, &f) in yh.chunks_mut(yw).zip(&inv) {
                row[..dv].iter_mut().for_each(|x| *x *= f);
            }
        }
    }

    /// Masks the scores of query rows `r0..` of head (b, h) and replaces them by
    /// their shifted exponentials; `inv` gets each row's 1 / sum (0 for a row
    /// with nothing to attend to).
    fn exp_rows(&self, b: usize, h: usize, r0: usize, s: &mut [F], inv: &mut [F]) {
        let sk = self.sk;
        for (r, (row, inv)) in s.chunks_mut(sk).zip(inv).enumerate() {
            let i = r0 + r;
            let (mut mask, mut bias) = (None, F::zero());
            if let Some((m, dm)) = self.mask {
                let pick = |n: usize, x: usize| if n == 1 { 0 } else { x };
                let at =
                    ((pick(dm[0], b) * dm[1] + pick(dm[1], h)) * dm[2] + pick(dm[2], i)) * dm[3];
                if dm[3] == 1 {
                    bias = m[at];
                } else {
                    mask = Some(&m[at..at + sk]);
                }
            }
            // Keys past i + Sk − Sq are hidden from query i.
            let visible = if self.causal {
                (i + sk + 1).saturating_sub(self.sq).min(sk)
            } else {
                sk
            };
            let (seen, hidden) = row.split_at_mut(visible);
            let sum = shifted_exp(seen, mask, bias);
            hidden.fill(F::zero());
            *inv = if sum == F::zero() {
                F::zero()
            } else {
                F::one() / sum
            };
        }
    }
}

/// [`softmax::shifted_exp_row`](crate::ops::nn::softmax::shifted_exp_row)
/// for any float: `row[i] = exp(row[i] + mask[i] + bias − max)`, returning
/// the sum.
fn shifted_exp<F: Flt>(row: &mut [F], mask: Option<&[F]>, bias: F) -> F {
    let mask32 = match mask {
        None => Some(None),
        Some(m) => as_f32(m).map(Some),
    };
    if let (Some(r), Some(b), Some(m)) = (as_f32_mut(row), as_f32(&[bias]), mask32) {
        if let Some(sum) = crate::ops::nn::softmax::shifted_exp_row(r, m, b[0]) {
            return F::of(sum as f64);
        }
    }
    shifted_exp_any(row, mask, bias)
}

simd_fn! {
    fn shifted_exp_any[F: Flt](row: &mut [F], mask: Option<&[F]>, bias: F) -> F {
        match mask {
            Some(m) => row.iter_mut().zip(m).for_each(|(x, &c)| *x = *x + c + bias),
            None => row.iter_mut().for_each(|x| *x += bias),
        }
        // NaNs are skipped unless everything is NaN: the row then stays NaN.
        let m = crate::ops::nn::max(row);
        if m == F::neg_infinity() || row.is_empty() {
            row.fill(F::zero());
            return F::zero();
        }
        row.iter_mut().for_each(|v| *v = (*v - m).fast_exp());
        crate::ops::nn::sum_by(row, |v| v)
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
        let work = b * heads * sq * sk * (d + dv);
        let threads = if work >= PAR_WORK { ctx.threads } else { 1 };
        // Every head's keys and values packed once, for all of its query rows.
        let mut packs: Vec<Packed> = (0..b * heads).map(|_| (None, None)).collect();
        if sk > 0 && sq > 0 {
            let items = packs.iter_mut().enumerate().collect();
            crate::parallel::try_for_each_item(threads, items, |(bh, p): (usize, &mut Packed)| {
                *p = plan.pack(bh, &kd, &vd);
                Ok::<(), Error>(())
            })?;
        }
        // A job per block of query rows over all heads, so that each writes a
        // contiguous [rows, H·Dv] piece of the output; blocks are made smaller
        // when there are too few for the threads.
        let per_batch = (2 * threads)
            .div_ceil(b.max(1))
            .max(sq.div_ceil(ROWS))
            .clamp(1, sq.div_ceil(16).max(1));
        let job_rows = sq.div_ceil(per_batch).max(1);
        let shape = [b as i64, sq as i64, (heads * dv) as i64];
        let mut done = Ok(());
        let y = output::<F>(ctx, q.elem(), &shape, |o| {
            if o.is_empty() {
                return;
            }
            if sk == 0 {
                // Nothing to attend to: every weighted sum is empty.
                return o.fill(F::zero());
            }
            let mut jobs = Vec::new();
            for (bi, ob) in o.chunks_mut(sq * heads * dv).enumerate() {
                for (blk, y) in ob.chunks_mut(job_rows * heads * dv).enumerate() {
                    jobs.push((bi, blk * job_rows, y));
                }
            }
            let f = |(bi, r0, y): (usize, usize, &mut [F])| {
                plan.rows(bi, r0, &qd, &kd, &vd, &packs, y);
                Ok::<(), Error>(())
            };
            done = crate::parallel::try_for_each_item(threads, jobs, f);
        })?;
        done?;
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
