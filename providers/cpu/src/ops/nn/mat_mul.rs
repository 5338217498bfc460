//! MatMul: numpy-broadcast batches of `blas::gemm` (folded into one tall product when B
//! is shared), a prepacked constant f32 B, and a wrapping loop for integers.

use ort_core::ElemType::*;
use ort_core::{ElemType, Error, PodElement, Tensor, Value};

use super::blas::{gemm, gemm_int, gemm_prepacked_then, prepack_b, takes_prepacked_b, Mat};
use super::sgemm::{Bias, PackedB, Then};
use super::{data, output, PAR_WORK};
use crate::kernel::{input, one, opt_input, ConstId, Ctx, Kernel, NodeInfo, Outputs};
use crate::ops::fused::activation::{clamp_bounds, finish, Act};
use crate::ops::LATEST;
use crate::util::broadcast_all;

/// MatMul, and FusedMatMul with its transposes, scale, bias and activation.
#[derive(Default)]
pub(crate) struct MatMul {
    trans_a: bool,
    trans_b: bool,
    alpha: f64,
    bias: bool,
    act: Option<Act>,
    /// A constant float32 B, packed at session creation.
    packed: Option<(PackedB, ConstId)>,
}

const TYPES: &[ElemType] = &[F32, F64, F16, BF16, I32, I64, U32, U64];

/// A batched product: `m×k · k×n` per batch, with each batch's operand offsets.
pub(super) struct Plan {
    pub m: usize,
    pub n: usize,
    pub k: usize,
    pub out_shape: Vec<i64>,
    /// (offset into A, offset into B) per batch.
    pub batches: Vec<(usize, usize)>,
    /// The stored A (B) blocks are k×m (n×k): read them transposed.
    pub trans_a: bool,
    pub trans_b: bool,
}

impl Plan {
    /// Numpy matmul semantics: 1-D operands gain (and lose) a unit axis, leading
    /// axes broadcast.
    /// As [`Plan::new`] for operands whose last two axes are stored swapped.
    pub fn new_t(a: &[i64], b: &[i64], trans_a: bool, trans_b: bool) -> Result<Plan, Error> {
        let swap = |s: &[i64], t: bool| {
            let mut s = s.to_vec();
            if t && s.len() >= 2 {
                let r = s.len();
                s.swap(r - 1, r - 2);
            }
            s
        };
        let (trans_a, trans_b) = (trans_a && a.len() >= 2, trans_b && b.len() >= 2);
        let (a, b) = (&swap(a, trans_a)[..], &swap(b, trans_b)[..]);
        if a.is_empty() || b.is_empty() {
            return Err(Error::invalid("MatMul operands must have rank >= 1"));
        }
        let a2: Vec<i64> = if a.len() == 1 {
            vec![1, a[0]]
        } else {
            a.to_vec()
        };
        let b2: Vec<i64> = if b.len() == 1 {
            vec![b[0], 1]
        } else {
            b.to_vec()
        };
        let (ra, rb) = (a2.len(), b2.len());
        let (m, k, k2, n) = (a2[ra - 2], a2[ra - 1], b2[rb - 2], b2[rb - 1]);
        if k != k2 {
            return Err(Error::invalid(format!(
                "MatMul shapes {a:?} and {b:?} do not agree on the inner axis"
            )));
        }
        let batch = broadcast_all(&[&a2[..ra - 2], &b2[..rb - 2]])?;
        let mut out_shape = batch.clone();
        if a.len() > 1 {
            out_shape.push(m);
        }
        if b.len() > 1 {
            out_shape.push(n);
        }
        let (m, n, k) = (m as usize, n as usize, k as usize);
        let offsets = |shape: &[i64], mat: usize| -> Vec<usize> {
            // Element strides of the operand's batch axes, zero where broadcast.
            let mut strides = vec![0; batch.len()];
            let mut s = mat;
            for (i, &d) in shape.iter().enumerate().rev() {
                let j = batch.len() - shape.len() + i;
                strides[j] = if d == 1 { 0 } else { s };
                s *= d as usize;
            }
            let count: i64 = batch.iter().product();
            (0..count as usize)
                .map(|mut bi| {
                    let mut off = 0;
                    for (j, &d) in batch.iter().enumerate().rev() {
                        off += (bi % d as usize) * strides[j];
                        bi /= d as usize;
                    }
                    off
                })
                .collect()
        };
        let (oa, ob) = (offsets(&a2[..ra - 2], m * k), offsets(&b2[..rb - 2], k * n));
        let mut plan = Plan {
            m,
            n,
            k,
            out_shape,
            batches: oa.into_iter().zip(ob).collect(),
            trans_a,
            trans_b,
        };
        // B shared by contiguous A batches: one tall product instead of many.
        let shared = plan
            .batches
            .iter()
            .enumerate()
            .all(|(i, &(x, y))| y == 0 && x == i * m * k);
        if plan.batches.len() > 1 && shared && !trans_a {
            plan.m *= plan.batches.len();
            plan.batches = vec![(0, 0)];
        }
        Ok(plan)
    }

    /// Runs `mm(a, b, c, threads)` per batch: side by side when the matrices are
    /// small or plentiful, else one after another with threads inside each.
    pub fn run<T: Send + Sync>(
        &self,
        a: &[T],
        b: &[T],
        out: &mut [T],
        threads: usize,
        mm: impl Fn(Mat<'_, T>, Mat<'_, T>, &mut [T], usize) + Sync,
    ) {
        let (m, n, k) = (self.m, self.n, self.k);
        let (asz, bsz) = (m * k, k * n);
        let (ta, tb) = (self.trans_a, self.trans_b);
        let one = |&(oa, ob): &(usize, usize), c: &mut [T], t: usize| {
            let (ab, bb) = (&a[oa..oa + asz], &b[ob..ob + bsz]);
            mm(
                if ta {
                    Mat::rows(ab, m).t()
                } else {
                    Mat::rows(ab, k)
                },
                if tb {
                    Mat::rows(bb, k).t()
                } else {
                    Mat::rows(bb, n)
                },
                c,
                t,
            )
        };
        if m * n == 0 {
            return;
        }
        let many = self.batches.len();
        if many > 1 && threads > 1 && (many >= threads || m * n * k < PAR_WORK * 8) {
            crate::parallel::for_each_chunk(threads, out, m * n, |i, c| {
                one(&self.batches[i], c, 1)
            });
        } else {
            out.chunks_mut(m * n)
                .zip(&self.batches)
                .for_each(|(c, bo)| one(bo, c, threads));
        }
    }
}

impl Kernel for MatMul {
    fn compute(&self, inputs: &[Option<&Value>], ctx: &Ctx<'_>) -> Outputs {
        let (a, b) = (input(inputs, 0)?, input(inputs, 1)?);
        let p = Plan::new_t(a.shape(), b.shape(), self.trans_a, self.trans_b)?;
        let dims = (p.m, p.n, p.k);
        let bias = if self.bias {
            opt_input(inputs, 2)?
        } else {
            None
        };
        if let Some(c) = bias {
            let n = p.n as i64;
            let trailing = c.len() as i64 == n && c.shape().iter().rev().skip(1).all(|&d| d == 1);
            if !trailing || c.rank() > p.out_shape.len().max(1) || c.elem() != a.elem() {
                return Err(Error::invalid(format!(
                    "Bias must be {} with {n} elements along the last axis, got {} of shape {:?}",
                    a.elem(),
                    c.elem(),
                    c.shape()
                )));
            }
        }
        let fused = self.alpha != 1.0 || bias.is_some() || self.act.is_some();
        if fused && !a.elem().is_float() {
            return Err(Error::invalid("FusedMatMul takes float tensors"));
        }
        let pre = self
            .packed
            .as_ref()
            .filter(|(pb, id)| id.matches(b) && takes_prepacked_b(p.m, pb, (p.k, p.n)));
        if let (Some((pb, _)), F32, [(0, 0)]) = (pre, a.elem(), &p.batches[..]) {
            let ad = a.as_slice::<f32>()?;
            let cd = bias.map(|c| c.as_slice::<f32>()).transpose()?;
            return one(ctx.tensor(&p.out_shape, |o: &mut [f32]| {
                let am = if p.trans_a {
                    Mat::rows(&ad[..p.m * p.k], p.m).t()
                } else {
                    Mat::rows(&ad[..p.m * p.k], p.k)
                };
                // The bias, and ReLU, Clip or HardSwish, go on each tile
                // while it is in cache; other activations take a pass after.
                let bounds = clamp_bounds(self.act);
                let (lo, hi) = bounds
                    .flatten()
                    .unwrap_or((f64::NEG_INFINITY, f64::INFINITY));
                let bias = cd.map_or(Bias::None, Bias::Cols);
                let swish = matches!(self.act, Some(Act::HardSwish));
                let then = if swish {
                    Some(Then::HardSwish(bias))
                } else {
                    Some(Then::Clamp(bias, lo as f32, hi as f32))
                        .filter(|_| cd.is_some() || bounds.is_some_and(|b| b.is_some()))
                };
                let alpha = self.alpha as f32;
                let (threads, ldc) = (ctx.threads, dims.1);
                let done = gemm_prepacked_then(dims, am, pb, o, ldc, alpha, false, threads, then);
                debug_assert!(done, "takes_prepacked_b said yes");
                if bounds.is_none() && !swish {
                    finish(o, None, self.act, ctx.threads);
                }
            })?);
        }
        one(match a.elem() {
            F32 | F64 | F16 | BF16 => with_float!(a.elem(), F => {
                let (ad, bd) = (data::<F>(a)?, data::<F>(b)?);
                let cd = bias.map(data::<F>).transpose()?;
                let alpha = F::of(self.alpha);
                output::<F>(ctx, a.elem(), &p.out_shape, |o| {
                    if let Some(cd) = &cd {
                        o.chunks_mut(dims.1.max(1)).for_each(|r| r.copy_from_slice(cd));
                    }
                    let acc = cd.is_some();
                    p.run(&ad, &bd, o, ctx.threads, |x, y, c, t| gemm(dims, x, y, c, dims.1, alpha, acc, t));
                    finish(o, None, self.act, ctx.threads);
                })
            }),
            _ => crate::dispatch_int!(a.elem(), T => int::<T>(ctx, &p, a, b)),
        }?)
    }
}

fn int<T>(ctx: &Ctx<'_>, p: &Plan, a: &Tensor, b: &Tensor) -> Result<Tensor, Error>
where
    T: PodElement + num_traits::Zero + num_traits::WrappingAdd + num_traits::WrappingMul,
{
    let (ad, bd) = (a.as_slice::<T>()?, b.as_slice::<T>()?);
    let dims = (p.m, p.n, p.k);
    ctx.tensor::<T>(&p.out_shape, |o| {
        p.run(ad, bd, o, ctx.threads, |x, y, c, _| {
            gemm_int(dims, x, y, c, dims.1)
        })
    })
}

crate::register!("MatMul", [1, LATEST], TYPES, same: [0, 1], |info| Ok(Box::new(MatMul {
    alpha: 1.0,
    packed: info
        .constant_with_id(1)
        .and_then(|(b, id)| Some((prepack_b(b, false)?, id))),
    ..MatMul::default()
})));

/// FusedMatMul (`docs/fused-ops.md`).
pub(crate) fn build_fused(info: &NodeInfo<'_, '_>) -> Result<Box<dyn Kernel>, Error> {
    Ok(Box::new(MatMul {
        trans_a: info.int("transA", 0)? != 0,
        trans_b: info.int("transB", 0)? != 0,
        alpha: info.float("alpha", 1.0)? as f64,
        bias: true,
        act: Act::parse(info)?,
        packed: info.constant_with_id(1).and_then(|(b, id)| {
            let trans = info.int("transB", 0).ok()? != 0;
            Some((prepack_b(b, trans)?, id))
        }),
    }))
}
