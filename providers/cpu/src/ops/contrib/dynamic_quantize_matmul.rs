//! DynamicQuantizeMatMul (`com.microsoft`): A quantized to uint8 as
//! DynamicQuantizeLinear does (range widened to include 0), then
//! MatMulIntegerToFloat with B's scale and zero point and the bias.

use ort_core::ElemType::{I8, U8};
use ort_core::{Tensor, Value};

use super::matmul_integer_to_float::multipliers;
use crate::kernel::{input, one, opt_input, Ctx, Kernel, NodeInfo, Outputs};
use crate::ops::fused::matmul_integer_to_float::{columns, per_column, scaled_product};
use crate::ops::quant::dynamic_quantize_linear::quantize_u8;
use crate::ops::quant::matmul_integer::MatMulInteger;

struct DynamicQuantizeMatMul(MatMulInteger);

impl Kernel for DynamicQuantizeMatMul {
    fn compute(&self, inputs: &[Option<&Value>], ctx: &Ctx<'_>) -> Outputs {
        let n = columns(input(inputs, 1)?);
        let b_scale = per_column(input(inputs, 2)?, n, "b_scale")?;
        let bias = opt_input(inputs, 4)?
            .map(|b| per_column(b, n, "bias"))
            .transpose()?;
        let (qa, a_scale, a_zp) = quantize_u8(input(inputs, 0)?, ctx)?;
        let (qa, a_zp) = (Value::Tensor(qa), Value::Tensor(Tensor::scalar(a_zp)));
        let none = None;
        let mm = [
            Some(&qa),
            *inputs.get(1).unwrap_or(&none),
            Some(&a_zp),
            *inputs.get(3).unwrap_or(&none),
        ];
        let scale = multipliers(&[a_scale], b_scale)?;
        one(scaled_product(&self.0, &mm, &scale, bias, ctx)?)
    }
}

crate::register!(
    "DynamicQuantizeMatMul",
    "com.microsoft",
    [1, 1],
    &[U8, I8],
    1,
    |info: &NodeInfo<'_, '_>| Ok(Box::new(DynamicQuantizeMatMul(MatMulInteger::build(info))))
);
