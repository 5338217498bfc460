//! Shape: copies the input's dimensions from `start` to `end`, clamped like Python
//! slices, into a 1-D int64 tensor.

use ort_core::Value;

use crate::kernel::{input, one, Ctx, Kernel, Outputs};
use crate::ops::{ANY, LATEST};

/// `start`/`end` (opset 15) select a range of dimensions, clamped like Python slices.
struct Shape {
    start: i64,
    end: Option<i64>,
}

impl Kernel for Shape {
    fn compute(&self, inputs: &[Option<&Value>], ctx: &Ctx<'_>) -> Outputs {
        let dims = input(inputs, 0)?.shape();
        let r = dims.len() as i64;
        let clamp = |v: i64| (if v < 0 { v + r } else { v }).clamp(0, r) as usize;
        let (s, e) = (clamp(self.start), clamp(self.end.unwrap_or(r)));
        let sel = if s < e { &dims[s..e] } else { &[] };
        one(ctx.tensor_from(&[sel.len() as i64], sel)?)
    }
}

crate::register!("Shape", [1, LATEST], ANY, |n| Ok(Box::new(Shape {
    start: n.int("start", 0)?,
    end: if n.has("end") {
        Some(n.int("end", 0)?)
    } else {
        None
    },
})));
