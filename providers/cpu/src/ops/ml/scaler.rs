//! Scaler: `(x - offset) * scale` in f32, offset and scale given once or per column.

use ort_core::{Error, Value};

use crate::kernel::{input, one, Ctx, Kernel, Outputs};
use crate::ops::{ANY, LATEST};

struct Scaler {
    offset: Vec<f32>,
    scale: Vec<f32>,
}

/// `v` for `cols` columns: one value for all, or one per column.
fn per_column<'a>(v: &'a [f32], cols: usize, what: &str) -> Result<&'a [f32], Error> {
    if v.len() == 1 || v.len() == cols {
        Ok(v)
    } else {
        Err(Error::invalid(format!(
            "Scaler {what} has {} values for {cols} columns",
            v.len()
        )))
    }
}

impl Kernel for Scaler {
    fn compute(&self, inputs: &[Option<&Value>], ctx: &Ctx<'_>) -> Outputs {
        let x = input(inputs, 0)?;
        let cols = x.shape().last().map_or(1, |&c| c as usize);
        let off = per_column(&self.offset, cols, "offset")?;
        let sc = per_column(&self.scale, cols, "scale")?;
        let v = x.to_f64_vec()?;
        let out: Vec<f32> = v
            .iter()
            .enumerate()
            .map(|(i, &a)| {
                let c = i % cols.max(1);
                (a as f32 - off[c % off.len()]) * sc[c % sc.len()]
            })
            .collect();
        one(ctx.tensor_from(x.shape(), &out)?)
    }
}

crate::register!("Scaler", "ai.onnx.ml", [1, LATEST], ANY, 0, |n| {
    let offset = n.floats("offset")?.unwrap_or_else(|| vec![0.0]);
    let scale = n.floats("scale")?.unwrap_or_else(|| vec![1.0]);
    if offset.is_empty() || scale.is_empty() {
        return Err(Error::invalid("Scaler offset and scale must not be empty"));
    }
    Ok(Box::new(Scaler { offset, scale }))
});
