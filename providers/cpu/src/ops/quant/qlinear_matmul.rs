//! QLinearMatMul: exact f64 batched product of zero-point-centered operands wrapped to
//! int32, requantized by one f32 multiplier per output element (round half even).

use ort_core::ElemType::{I8, U8};
use ort_core::{Error, Value};

use super::{centered, floats, ints, qrange, requant, scalar, wrap_i32, MatmulPlan, QInt};
use crate::kernel::{input, one, Ctx, Kernel, Outputs};
use crate::ops::LATEST;

struct QLinearMatMul;

impl Kernel for QLinearMatMul {
    fn compute(&self, inputs: &[Option<&Value>], ctx: &Ctx<'_>) -> Outputs {
        let t = |i| input(inputs, i);
        let (a, a_scale, a_zp, b) = (t(0)?, t(1)?, t(2)?, t(3)?);
        let (b_scale, b_zp, y_scale, y_zp) = (t(4)?, t(5)?, t(6)?, t(7)?);
        if a_zp.elem() != a.elem() || b_zp.elem() != b.elem() {
            return Err(Error::invalid("zero points must have their inputs' types"));
        }
        let plan = MatmulPlan::new(a.shape(), b.shape())?;
        let (m, k, n) = (plan.m, plan.k, plan.n);
        let a_zps = plan.rows(&ints(a_zp)?, a_zp.shape())?;
        let a_scales = plan.rows(&floats(a_scale)?, a_scale.shape())?;
        let b_zps = plan.cols(&ints(b_zp)?, b_zp.shape())?;
        let b_scales = plan.cols(&floats(b_scale)?, b_scale.shape())?;
        let ys = scalar(&floats(y_scale)?, "y_scale")?;
        let yz = scalar(&ints(y_zp)?, "y_zero_point")?;
        let range = qrange(y_zp.elem())?;
        let av = centered(a, |i| a_zps[i / k])?;
        let bv = centered(b, |i| b_zps[i / (k * n) * n + i % n])?;
        let acc = plan.run(&av, &bv, ctx.threads)?;
        one(
            dispatch_q!(y_zp.elem(), T => ctx.tensor(&plan.out_shape, |o: &mut [T]| {
                for (p, &(ia, ib)) in plan.pairs.iter().enumerate() {
                    for r in 0..m {
                        for c in 0..n {
                            // As ONNX Runtime: one f32 multiplier per output element, applied
                            // to the int32 accumulator.
                            let mult = a_scales[ia * m + r] * b_scales[ib * n + c] / ys;
                            let i = (p * m + r) * n + c;
                            o[i] = T::from_i32(requant(wrap_i32(acc[i]) as f32 * mult, yz, range));
                        }
                    }
                }
            }))?,
        )
    }
}

crate::register!("QLinearMatMul", [10, LATEST], &[U8, I8], |_| Ok(Box::new(
    QLinearMatMul
)));
