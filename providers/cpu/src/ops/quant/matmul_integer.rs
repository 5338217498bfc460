use ort_core::ElemType::{I8, U8};
use ort_core::{Error, Tensor, Value};

use super::{centered, ints, wrap_i32, MatmulPlan};
use crate::kernel::{input, one, opt_input, Ctx, Kernel};
use crate::ops::LATEST;

struct MatMulInteger;

impl Kernel for MatMulInteger {
    fn compute(
        &self,
        inputs: &[Option<&Value>],
        ctx: &Ctx<'_>,
    ) -> Result<Vec<Option<Value>>, Error> {
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
        let (k, n) = (plan.k, plan.n);
        let av = match zp(2, a)? {
            Some(z) => {
                let rows = plan.rows(&ints(z)?, z.shape())?;
                centered(a, |i| rows[i / k])?
            }
            None => centered(a, |_| 0)?,
        };
        let bv = match zp(3, b)? {
            Some(z) => {
                let cols = plan.cols(&ints(z)?, z.shape())?;
                centered(b, |i| cols[i / (k * n) * n + i % n])?
            }
            None => centered(b, |_| 0)?,
        };
        let acc = plan.run(&av, &bv, ctx.threads)?;
        one(ctx.tensor(&plan.out_shape, |o: &mut [i32]| {
            o.iter_mut().zip(&acc).for_each(|(o, &v)| *o = wrap_i32(v))
        })?)
    }
}

crate::register!("MatMulInteger", [10, LATEST], &[U8, I8], |_| Ok(Box::new(
    MatMulInteger
)));
