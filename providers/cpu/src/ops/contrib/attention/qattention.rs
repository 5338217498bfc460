//! QAttention (`com.microsoft`): Attention on a uint8 input and an int8 or
//! uint8 weight matrix, dequantized as `(q − zero_point) · scale` (the
//! weight's per tensor or per column), which is what onnxruntime's kernel
//! computes up to float rounding.

use ort_core::ElemType::U8;
use ort_core::Value;

use super::attention::{parse, Attention};
use super::dequantized;
use crate::kernel::{input, opt_input, Ctx, Kernel, NodeInfo, Outputs};

struct QAttention(Attention);

impl Kernel for QAttention {
    fn compute(&self, inputs: &[Option<&Value>], ctx: &Ctx<'_>) -> Outputs {
        let x = dequantized(
            input(inputs, 0)?,
            input(inputs, 3)?,
            opt_input(inputs, 6)?,
            ctx,
        )?;
        let w = dequantized(
            input(inputs, 1)?,
            input(inputs, 4)?,
            opt_input(inputs, 7)?,
            ctx,
        )?;
        let (x, w) = (Value::Tensor(x), Value::Tensor(w));
        let at = |i: usize| inputs.get(i).copied().flatten();
        self.0
            .compute(&[Some(&x), Some(&w), at(2), at(5), at(8)], ctx)
    }
}

crate::register!(
    "QAttention",
    "com.microsoft",
    [1, 1],
    &[U8],
    0,
    |info: &NodeInfo<'_, '_>| { Ok(Box::new(QAttention(parse(info)?))) }
);
