//! Gemm: β·C broadcast into the output, then α·op(A)·op(B) accumulated by `blas::gemm`
//! for floats or a wrapping integer loop; FusedGemm adds an activation.

use ort_core::ElemType::*;
use ort_core::{ElemType, Error, Tensor, Value};

use super::blas::{gemm, gemm_int, Mat};
use super::{data, output};
use crate::kernel::{input, one, opt_input, Ctx, Kernel, NodeInfo, Outputs};
use crate::ops::fused::activation::{finish, Act};
use crate::ops::LATEST;

pub(crate) struct Gemm {
    pub alpha: f32,
    pub beta: f32,
    pub trans_a: bool,
    pub trans_b: bool,
    /// FusedGemm's activation.
    pub act: Option<Act>,
}

const TYPES: &[ElemType] = &[F32, F64, F16, BF16, I32, I64, U32, U64];

fn build(info: &NodeInfo<'_, '_>) -> Result<Box<dyn Kernel>, Error> {
    Ok(Box::new(Gemm::parse(info, false)?))
}

/// FusedGemm: Gemm plus an activation (`docs/fused-ops.md`); floats only.
pub(crate) fn build_fused(info: &NodeInfo<'_, '_>) -> Result<Box<dyn Kernel>, Error> {
    Ok(Box::new(Gemm::parse(info, true)?))
}

impl Gemm {
    pub(crate) fn parse(info: &NodeInfo<'_, '_>, fused: bool) -> Result<Gemm, Error> {
        Ok(Gemm {
            alpha: info.float("alpha", 1.0)?,
            beta: info.float("beta", 1.0)?,
            trans_a: info.int("transA", 0)? != 0,
            trans_b: info.int("transB", 0)? != 0,
            act: if fused { Act::parse(info)? } else { None },
        })
    }
}

/// The (row, column) strides that broadcast C over an m×n output.
pub(crate) fn c_strides(c: &Tensor, m: usize, n: usize) -> Result<(usize, usize), Error> {
    let s = c.shape();
    let (cm, cn) = match s.len() {
        0 => (1, 1),
        1 => (1, s[0] as usize),
        2 => (s[0] as usize, s[1] as usize),
        _ => (0, 0),
    };
    if !(cm == 1 || cm == m) || !(cn == 1 || cn == n) {
        return Err(Error::invalid(format!(
            "C of shape {s:?} does not broadcast to [{m}, {n}]"
        )));
    }
    Ok((if cm == 1 { 0 } else { cn }, if cn == 1 { 0 } else { 1 }))
}

impl Kernel for Gemm {
    fn compute(&self, inputs: &[Option<&Value>], ctx: &Ctx<'_>) -> Outputs {
        let (a, b, c) = (input(inputs, 0)?, input(inputs, 1)?, opt_input(inputs, 2)?);
        let (sa, sb) = (a.shape(), b.shape());
        if b.elem() != a.elem() || c.is_some_and(|c| c.elem() != a.elem()) {
            return Err(Error::invalid("A, B and C must share one element type"));
        }
        let (m, n, k) = self.dims(sa, sb)?;
        let c = c.filter(|_| self.beta != 0.0);
        let cs = c.map(|c| c_strides(c, m, n)).transpose()?;
        let shape = [m as i64, n as i64];
        one(match a.elem() {
            F32 | F64 | F16 | BF16 => with_float!(a.elem(), F => {
                let (ad, bd) = (data::<F>(a)?, data::<F>(b)?);
                let cd = c.map(data::<F>).transpose()?;
                output::<F>(ctx, a.elem(), &shape, |y| {
                    if let (Some(cd), Some((rs, cs))) = (&cd, cs) {
                        let beta = F::of(self.beta as f64);
                        for (i, row) in y.chunks_mut(n.max(1)).enumerate() {
                            row.iter_mut().enumerate().for_each(|(j, v)| *v = beta * cd[i * rs + j * cs]);
                        }
                    }
                    let (am, bm) = self.mats(&ad, &bd, sa, sb);
                    gemm((m, n, k), am, bm, y, n, F::of(self.alpha as f64), cd.is_some(), ctx.threads);
                    finish(y, None, self.act, ctx.threads);
                })
            }),
            _ => crate::dispatch_int!(a.elem(), T => {
                let (ad, bd) = (a.as_slice::<T>()?, b.as_slice::<T>()?);
                let cd = c.map(|c| c.as_slice::<T>()).transpose()?;
                let (alpha, beta) = (self.alpha as i64 as T, self.beta as i64 as T);
                ctx.tensor::<T>(&shape, |y| {
                    let (am, bm) = self.mats(ad, bd, sa, sb);
                    gemm_int((m, n, k), am, bm, y, n);
                    for (i, row) in y.chunks_mut(n.max(1)).enumerate() {
                        for (j, v) in row.iter_mut().enumerate() {
                            let add = match (cd, cs) {
                                (Some(cd), Some((rs, cs))) => beta.wrapping_mul(cd[i * rs + j * cs]),
                                _ => 0,
                            };
                            *v = v.wrapping_mul(alpha).wrapping_add(add);
                        }
                    }
                })
            }),
        }?)
    }
}

impl Gemm {
    /// (m, n, k) of the product of A and B, shapes `sa` and `sb`.
    pub(crate) fn dims(&self, sa: &[i64], sb: &[i64]) -> Result<(usize, usize, usize), Error> {
        if sa.len() != 2 || sb.len() != 2 {
            return Err(Error::invalid(format!(
                "Gemm needs 2-D A and B, got {sa:?} and {sb:?}"
            )));
        }
        let (m, k) = if self.trans_a {
            (sa[1], sa[0])
        } else {
            (sa[0], sa[1])
        };
        let (k2, n) = if self.trans_b {
            (sb[1], sb[0])
        } else {
            (sb[0], sb[1])
        };
        if k != k2 {
            return Err(Error::invalid(format!(
                "Gemm inner sizes differ: A {sa:?}, B {sb:?}"
            )));
        }
        Ok((m as usize, n as usize, k as usize))
    }

    fn mats<'a, T>(
        &self,
        a: &'a [T],
        b: &'a [T],
        sa: &[i64],
        sb: &[i64],
    ) -> (Mat<'a, T>, Mat<'a, T>) {
        let (a, b) = (Mat::rows(a, sa[1] as usize), Mat::rows(b, sb[1] as usize));
        (
            if self.trans_a { a.t() } else { a },
            if self.trans_b { b.t() } else { b },
        )
    }
}

crate::register!("Gemm", [1, LATEST], TYPES, build);
