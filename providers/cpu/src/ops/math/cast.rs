//! Cast: `convert::cast_with` (ONNX Runtime's rules: floats to integers truncate through
//! i64, small floats go through f32), with the `saturate` and `round_mode` attributes.

use ort_core::{ElemType, Error, Value};

use super::convert::{cast_with, CastOpts, E8M0Round};
use crate::kernel::{input, one, Ctx, Kernel, NodeInfo, Outputs};
use crate::ops::{ANY, LATEST};

struct Cast {
    to: ElemType,
    opts: CastOpts,
}

impl Kernel for Cast {
    fn compute(&self, inputs: &[Option<&Value>], ctx: &Ctx<'_>) -> Outputs {
        one(cast_with(ctx, input(inputs, 0)?, self.to, self.opts)?)
    }
}

/// Cast's `saturate` (opset 19+) and `round_mode` (opset 24+) attributes.
pub(crate) fn cast_opts(n: &NodeInfo<'_, '_>) -> Result<CastOpts, Error> {
    Ok(CastOpts {
        saturate: n.int("saturate", 1)? != 0,
        round: E8M0Round::parse(&n.string("round_mode", "up")?)?,
    })
}

crate::register!("Cast", [6, LATEST], ANY, |n| {
    let code = n.int("to", 0)?;
    let to = ElemType::from_onnx(code as i32)
        .filter(|&e| {
            !matches!(
                e,
                ElemType::Undefined | ElemType::Complex64 | ElemType::Complex128
            )
        })
        .ok_or_else(|| Error::invalid(format!("Cast: unsupported target type {code}")))?;
    Ok(Box::new(Cast {
        to,
        opts: cast_opts(n)?,
    }))
});
