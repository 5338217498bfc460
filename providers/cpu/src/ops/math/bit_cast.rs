//! BitCast: copies the raw bytes under a type of the same bit width, renormalizing only
//! 4- and 2-bit values (a byte each, sign-extended or masked) and bools (0 or 1).

use ort_core::{ElemType, Error, Tensor, Value};

use super::convert::wrap_bits;
use crate::kernel::{input, one, Ctx, Kernel, Outputs};
use crate::ops::LATEST;

/// Reinterprets each element's bits as another type of the same bit width.
struct BitCast {
    to: ElemType,
}

impl Kernel for BitCast {
    fn compute(&self, inputs: &[Option<&Value>], ctx: &Ctx<'_>) -> Outputs {
        let x = input(inputs, 0)?;
        let (from, to) = (x.elem(), self.to);
        if from == ElemType::String || from.packed_bits() != to.packed_bits() {
            return Err(Error::invalid(format!(
                "BitCast needs types of equal bit width, got {from} and {to}"
            )));
        }
        let src = x.bytes().ok_or_else(|| {
            Error::invalid("tensor lives in device memory; copy it to the host first")
        })?;
        // In memory, 4- and 2-bit values take a byte each (signed ones sign-extended),
        // and bools are 0 or 1: only those bytes need more than a copy.
        let bits = to.packed_bits() as u32;
        let fix: Option<fn(u8, u32) -> u8> = match to {
            ElemType::I4 | ElemType::I2 => Some(|b, n| wrap_bits(b as i64, n, true)),
            ElemType::U4 | ElemType::U2 | ElemType::F4E2M1 => {
                Some(|b, n| wrap_bits(b as i64, n, false))
            }
            ElemType::Bool => Some(|b, _| (b != 0) as u8),
            _ => None,
        };
        let t = ctx.tensor(&[src.len() as i64], |o: &mut [u8]| match fix {
            Some(f) => o.iter_mut().zip(src).for_each(|(o, &b)| *o = f(b, bits)),
            None => o.copy_from_slice(src),
        })?;
        one(Tensor::from_buffer(
            to,
            x.shape(),
            t.buffer().clone(),
            t.offset(),
        )?)
    }
}

crate::register!("BitCast", [26, LATEST], &[], |n| {
    let code = n.int("to", 0)?;
    let to = ElemType::from_onnx(code as i32)
        .filter(|&e| !matches!(e, ElemType::Undefined | ElemType::String))
        .ok_or_else(|| Error::invalid(format!("BitCast: unsupported target type {code}")))?;
    Ok(Box::new(BitCast { to }))
});
