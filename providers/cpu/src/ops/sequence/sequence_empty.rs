//! SequenceEmpty: returns an empty sequence typed by the `dtype` attribute, resolved once
//! when the kernel is built (float by default).

use ort_core::{ElemType, Error, Value};

use super::seq;
use crate::kernel::{Ctx, Kernel, Outputs};
use crate::ops::{ANY, LATEST};

/// An empty sequence of tensors of type `dtype` (float by default).
struct SequenceEmpty {
    elem: ElemType,
}

impl Kernel for SequenceEmpty {
    fn compute(&self, _: &[Option<&Value>], _: &Ctx<'_>) -> Outputs {
        Ok(vec![Some(seq(self.elem, Vec::new()))])
    }
}

crate::register!("SequenceEmpty", [11, LATEST], ANY, |n| {
    let code = n.int("dtype", ElemType::F32 as i64)?;
    let elem = i32::try_from(code)
        .ok()
        .and_then(ElemType::from_onnx)
        .ok_or_else(|| Error::invalid(format!("SequenceEmpty: unknown dtype {code}")))?;
    Ok(Box::new(SequenceEmpty { elem }))
});
