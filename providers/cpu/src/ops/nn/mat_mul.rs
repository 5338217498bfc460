use ort_core::ElemType::*;
use ort_core::{ElemType, Error, PodElement, Tensor, Value};
use rayon::prelude::*;

use super::blas::{gemm, gemm_int, Mat};
use super::{data, output, PAR_WORK};
use crate::kernel::{input, one, Ctx, Kernel};
use crate::ops::LATEST;
use crate::util::broadcast_shapes;

struct MatMul;

const TYPES: &[ElemType] = &[F32, F64, F16, BF16, I32, I64, U32, U64];

/// A batched product: `m×k · k×n` per batch, with each batch's operand offsets.
pub(super) struct Plan {
    pub m: usize,
    pub n: usize,
    pub k: usize,
    pub out_shape: Vec<i64>,
    /// (offset into A, offset into B) per batch.
    pub batches: Vec<(usize, usize)>,
}

impl Plan {
    /// Numpy matmul semantics: 1-D operands gain (and lose) a unit axis, leading
    /// axes broadcast.
    pub fn new(a: &[i64], b: &[i64]) -> Result<Plan, Error> {
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
        let batch = broadcast_shapes(&[&a2[..ra - 2], &b2[..rb - 2]])?;
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
        };
        // B shared by contiguous A batches: one tall product instead of many.
        let shared = plan
            .batches
            .iter()
            .enumerate()
            .all(|(i, &(x, y))| y == 0 && x == i * m * k);
        if plan.batches.len() > 1 && shared {
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
        let one = |&(oa, ob): &(usize, usize), c: &mut [T], t: usize| {
            mm(
                Mat::rows(&a[oa..oa + asz], k),
                Mat::rows(&b[ob..ob + bsz], n),
                c,
                t,
            )
        };
        if m * n == 0 {
            return;
        }
        let many = self.batches.len();
        if many > 1 && threads > 1 && (many >= threads || m * n * k < PAR_WORK * 8) {
            out.par_chunks_mut(m * n)
                .zip(&self.batches)
                .for_each(|(c, bo)| one(bo, c, 1));
        } else {
            out.chunks_mut(m * n)
                .zip(&self.batches)
                .for_each(|(c, bo)| one(bo, c, threads));
        }
    }
}

impl Kernel for MatMul {
    fn compute(
        &self,
        inputs: &[Option<&Value>],
        ctx: &Ctx<'_>,
    ) -> Result<Vec<Option<Value>>, Error> {
        let (a, b) = (input(inputs, 0)?, input(inputs, 1)?);
        if a.elem() != b.elem() {
            return Err(Error::invalid(format!(
                "MatMul operand types differ: {} and {}",
                a.elem(),
                b.elem()
            )));
        }
        let p = Plan::new(a.shape(), b.shape())?;
        let dims = (p.m, p.n, p.k);
        one(match a.elem() {
            F32 | F64 | F16 | BF16 => with_float!(a.elem(), F => {
                let (ad, bd) = (data::<F>(a)?, data::<F>(b)?);
                output::<F>(ctx, a.elem(), &p.out_shape, |o| {
                    p.run(&ad, &bd, o, ctx.threads, |x, y, c, t| gemm(dims, x, y, c, dims.1, F::one(), false, t))
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

crate::register!("MatMul", [1, LATEST], TYPES, |_| Ok(Box::new(MatMul)));
