//! MatMulIntegerToFloat (`com.microsoft`): `(A − a_zp) ⋅ (B − b_zp) · a_scale ·
//! b_scale + bias` in float32, the linear layer of onnxruntime's dynamically
//! quantized models. The fused domain's kernel with the two scales multiplied
//! into one per column first, as onnxruntime does.

use ort_core::ElemType::{I8, U8};
use ort_core::{Error, Value};

use crate::kernel::{input, one, opt_input, Ctx, Kernel, NodeInfo, Outputs};
use crate::ops::fused::matmul_integer_to_float::{columns, per_column, scaled_product};
use crate::ops::quant::matmul_integer::MatMulInteger;

struct MatMulIntegerToFloat(MatMulInteger);

/// `a_scale · b_scale` per output column; `a_scale` is one value.
pub(super) fn multipliers(a_scale: &[f32], b_scale: &[f32]) -> Result<Vec<f32>, Error> {
    match a_scale {
        [a] => Ok(b_scale.iter().map(|b| a * b).collect()),
        _ => Err(Error::not_implemented(format!(
            "a_scale must be one value (per-tensor), got {}",
            a_scale.len()
        ))),
    }
}

impl Kernel for MatMulIntegerToFloat {
    fn compute(&self, inputs: &[Option<&Value>], ctx: &Ctx<'_>) -> Outputs {
        let n = columns(input(inputs, 1)?);
        let a_scale = per_column(input(inputs, 2)?, 1, "a_scale")?;
        let b_scale = per_column(input(inputs, 3)?, n, "b_scale")?;
        let bias = opt_input(inputs, 6)?
            .map(|b| per_column(b, n, "bias"))
            .transpose()?;
        let none = None;
        let at = |i: usize| inputs.get(i).unwrap_or(&none);
        let mm = [*at(0), *at(1), *at(4), *at(5)];
        let scale = multipliers(a_scale, b_scale)?;
        one(scaled_product(&self.0, &mm, &scale, bias, ctx)?)
    }
}

crate::register!(
    "MatMulIntegerToFloat",
    "com.microsoft",
    [1, 1],
    &[U8, I8],
    0,
    |info: &NodeInfo<'_, '_>| Ok(Box::new(MatMulIntegerToFloat(MatMulInteger::build(info))))
);
