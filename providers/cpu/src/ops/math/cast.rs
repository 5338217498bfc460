use ort_core::{ElemType, Error, Value};

use super::cast_to;
use crate::kernel::{input, one, Ctx, Kernel};
use crate::ops::{ANY, LATEST};

struct Cast {
    to: ElemType,
}

impl Kernel for Cast {
    fn compute(
        &self,
        inputs: &[Option<&Value>],
        ctx: &Ctx<'_>,
    ) -> Result<Vec<Option<Value>>, Error> {
        one(cast_to(ctx, input(inputs, 0)?, self.to)?)
    }
}

crate::register!("Cast", [6, LATEST], ANY, |n| {
    let code = n.int("to", 0)?;
    let to = ElemType::from_onnx(code as i32)
        .filter(|&e| e != ElemType::Undefined)
        .ok_or_else(|| Error::invalid(format!("Cast: unknown target type {code}")))?;
    if to.is_float() && to.size() == 1
        || matches!(
            to,
            ElemType::U4 | ElemType::I4 | ElemType::U2 | ElemType::I2
        )
    {
        return Err(Error::not_implemented(format!(
            "Cast to {to} is not supported yet"
        )));
    }
    Ok(Box::new(Cast { to }))
});
