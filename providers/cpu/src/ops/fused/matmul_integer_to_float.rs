//! MatMulIntegerToFloat (fused domain): MatMulInteger, then Cast to float32,
//! a Mul by a scale and an optional bias Add, as dynamically quantized models
//! write a linear layer (`docs/fused-ops.md`). The integer GEMM converts, scales
//! and biases each run of its output as it stores it, with the arithmetic of
//! the three float ops, instead of writing int32 and three passes over it.

use ort_core::ElemType::{F32, I8, U8};
use ort_core::{Error, Tensor, Value};

use crate::kernel::{input, one, opt_input, Ctx, Kernel, NodeInfo, Outputs};
use crate::ops::quant::matmul_integer::MatMulInteger;
use crate::ops::LATEST;

struct MatMulIntegerToFloat(MatMulInteger);

fn build(info: &NodeInfo<'_, '_>) -> Result<Box<dyn Kernel>, Error> {
    Ok(Box::new(MatMulIntegerToFloat(MatMulInteger::build(info))))
}

/// A scale or bias of one value or one per output column.
pub(crate) fn per_column<'t>(t: &'t Tensor, n: usize, what: &str) -> Result<&'t [f32], Error> {
    let ok = t.elem() == F32 && t.shape().len() <= 1 && (t.len() == 1 || t.len() == n);
    if !ok {
        return Err(Error::invalid(format!(
            "{what} must be float32 with 1 or N = {n} values, got {} {:?}",
            t.elem(),
            t.shape()
        )));
    }
    t.as_slice::<f32>()
}

/// The number of output columns of `A ⋅ B` (a 1-D B is one column).
pub(crate) fn columns(b: &Tensor) -> usize {
    match b.shape() {
        [_] => 1,
        s => s.last().map_or(0, |&n| n as usize),
    }
}

/// `float32(MatMulInteger(mm)) · scale + bias` with `mm` = (A, B, A_zero_point,
/// B_zero_point), `scale` and `bias` one value each or one per column.
pub(crate) fn scaled_product(
    mmi: &MatMulInteger,
    mm: &[Option<&Value>],
    scale: &[f32],
    bias: Option<&[f32]>,
    ctx: &Ctx<'_>,
) -> Result<Tensor, Error> {
    let n = columns(input(mm, 1)?);
    // One value per column, so each run is a zip the compiler vectorizes.
    let full = |v: &[f32]| {
        if v.len() == 1 {
            vec![v[0]; n]
        } else {
            v.to_vec()
        }
    };
    let scale = full(scale);
    // As Cast, Mul and Add round them: the int32 to the nearest float, then
    // one rounding per operation (no fused multiply-add).
    match bias.map(full) {
        Some(bias) => mmi.product::<f32>(mm, ctx, |_, j0, v, o| {
            let (s, b) = (&scale[j0..j0 + o.len()], &bias[j0..j0 + o.len()]);
            for (((o, &v), &s), &b) in o.iter_mut().zip(v).zip(s).zip(b) {
                *o = v as f32 * s + b;
            }
        }),
        None => mmi.product::<f32>(mm, ctx, |_, j0, v, o| {
            let s = &scale[j0..j0 + o.len()];
            for ((o, &v), &s) in o.iter_mut().zip(v).zip(s) {
                *o = v as f32 * s;
            }
        }),
    }
}

impl Kernel for MatMulIntegerToFloat {
    fn compute(&self, inputs: &[Option<&Value>], ctx: &Ctx<'_>) -> Outputs {
        let n = columns(input(inputs, 1)?);
        let scale = per_column(input(inputs, 4)?, n, "Scale")?;
        let bias = opt_input(inputs, 5)?
            .map(|b| per_column(b, n, "Bias"))
            .transpose()?;
        let mm = &inputs[..4.min(inputs.len())];
        one(scaled_product(&self.0, mm, scale, bias, ctx)?)
    }
}

crate::register!(
    "MatMulIntegerToFloat",
    "ai.ort_rs.fused",
    [1, LATEST],
    &[U8, I8],
    0,
    build
);
