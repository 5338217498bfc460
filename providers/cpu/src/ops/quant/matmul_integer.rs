//! MatMulInteger: the integer product with zero points, on the u8/i8 GEMM
//! (`qgemm`) over B packed at session creation when it is constant.

use ort_core::ElemType::{I8, U8};
use ort_core::{Error, PodElement, Tensor, Value};

use super::qgemm::{qgemm, PackedB};
use super::{ints, stored, MatmulPlan};
use crate::kernel::{input, one, opt_input, ConstId, Ctx, Kernel, NodeInfo, Outputs};
use crate::ops::LATEST;

pub(crate) struct MatMulInteger {
    /// B packed at session creation when it is a constant matrix.
    packed: Option<(PackedB, ConstId)>,
}

impl Kernel for MatMulInteger {
    fn compute(&self, inputs: &[Option<&Value>], ctx: &Ctx<'_>) -> Outputs {
        one(self.product::<i32>(inputs, ctx, |_, _, v, o| o.copy_from_slice(v))?)
    }
}

impl MatMulInteger {
    /// The product of inputs 0..4 (A, B, A_zero_point, B_zero_point) into a
    /// tensor of `O`, each run of an output row handed to `store` as `qgemm`
    /// does: (row, first column, int32 values, output run).
    pub(crate) fn product<O: PodElement + Send>(
        &self,
        inputs: &[Option<&Value>],
        ctx: &Ctx<'_>,
        store: impl Fn(usize, usize, &[i32], &mut [O]) + Sync,
    ) -> Result<Tensor, Error> {
        let (a, b) = (input(inputs, 0)?, input(inputs, 1)?);
        let plan = MatmulPlan::new(a.shape(), b.shape())?;
        let zp = |i: usize, t: &Tensor| match opt_input(inputs, i)? {
            Some(z) if z.elem() != t.elem() => Err(Error::invalid(format!(
                "zero point type {} differs from its input's {}",
                z.elem(),
                t.elem()
            ))),
            z => Ok(z),
        };
        let za = match zp(2, a)? {
            Some(z) => plan.rows(&ints(z)?, z.shape())?,
            None => vec![0],
        };
        let zb = match zp(3, b)? {
            Some(z) => plan.cols(&ints(z)?, z.shape())?,
            None => vec![0],
        };
        let (m, k, n) = (plan.m, plan.k, plan.n);
        for t in [a, b] {
            if !matches!(t.elem(), U8 | I8) {
                return Err(Error::invalid(format!(
                    "MatMulInteger takes uint8 or int8, got {}",
                    t.elem()
                )));
            }
        }
        let pre = self
            .packed
            .as_ref()
            .filter(|(p, id)| id.matches(b) && (p.k(), p.n()) == (k, n))
            .map(|(p, _)| p);
        let owned = match pre {
            Some(_) => Vec::new(),
            None => {
                let sb = stored(b)?;
                let count = plan.pairs.iter().map(|p| p.1 + 1).max().unwrap_or(0);
                dispatch_q!(sb.elem(), TB => {
                    let bv = sb.as_slice::<TB>()?;
                    Ok::<_, Error>((0..count)
                        .map(|ib| PackedB::new(&bv[ib * k * n..][..k * n], (k, n), n, 1))
                        .collect::<Vec<_>>())
                })?
            }
        };
        let sa = stored(a)?;
        dispatch_q!(sa.elem(), TA => {
            let av = sa.as_slice::<TA>()?;
            ctx.tensor(&plan.out_shape, |o: &mut [O]| {
                for (p, &(ia, ib)) in plan.pairs.iter().enumerate() {
                    let za = if za.len() == 1 { &za[..] } else { &za[ia * m..(ia + 1) * m] };
                    let zb = if zb.len() == 1 { &zb[..] } else { &zb[ib * n..(ib + 1) * n] };
                    qgemm(
                        &av[ia * m * k..][..m * k],
                        m,
                        k,
                        za,
                        pre.unwrap_or_else(|| &owned[ib]),
                        zb,
                        &mut o[p * m * n..][..m * n],
                        ctx.threads,
                        &store,
                    );
                }
            })
        })
    }

    pub(crate) fn build(info: &NodeInfo<'_, '_>) -> MatMulInteger {
        MatMulInteger {
            packed: prepack(info.constant_with_id(1)),
        }
    }
}

/// Packs a constant 2-D B of u8 or i8.
pub(crate) fn prepack(b: Option<(&Tensor, ConstId)>) -> Option<(PackedB, ConstId)> {
    let (b, id) = b?;
    let &[k, n] = b.shape() else { return None };
    let (k, n) = (k as usize, n as usize);
    match b.elem() {
        U8 => Some((PackedB::new(b.as_slice::<u8>().ok()?, (k, n), n, 1), id)),
        I8 => Some((PackedB::new(b.as_slice::<i8>().ok()?, (k, n), n, 1), id)),
        _ => None,
    }
}

fn build(info: &NodeInfo<'_, '_>) -> Result<Box<dyn Kernel>, Error> {
    Ok(Box::new(MatMulInteger::build(info)))
}

crate::register!("MatMulInteger", [10, LATEST], &[U8, I8], build);
