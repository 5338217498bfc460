//! Normalizer: each row divided by its maximum, L1 norm or L2 norm; a row whose
//! divisor is 0 passes unchanged, as in onnxruntime.

use ort_core::{Error, Value};

use crate::kernel::{input, one, Ctx, Kernel, Outputs};
use crate::ops::{ANY, LATEST};

#[derive(Clone, Copy)]
enum Norm {
    Max,
    L1,
    L2,
}

struct Normalizer {
    norm: Norm,
}

impl Kernel for Normalizer {
    fn compute(&self, inputs: &[Option<&Value>], ctx: &Ctx<'_>) -> Outputs {
        let x = input(inputs, 0)?;
        let shape = x.shape();
        let cols = match shape {
            [c] | [_, c] => *c as usize,
            _ => return Err(Error::invalid("Normalizer input must have rank 1 or 2")),
        };
        let v = x.to_f64_vec()?;
        let mut out = Vec::with_capacity(v.len());
        for row in v.chunks(cols.max(1)) {
            let d = match self.norm {
                Norm::Max => row.iter().copied().fold(f64::NEG_INFINITY, f64::max),
                Norm::L1 => row.iter().map(|a| a.abs()).sum(),
                Norm::L2 => row.iter().map(|a| a * a).sum::<f64>().sqrt(),
            };
            let d = if d == 0.0 || row.is_empty() { 1.0 } else { d };
            out.extend(row.iter().map(|a| (a / d) as f32));
        }
        one(ctx.tensor_from(shape, &out)?)
    }
}

crate::register!("Normalizer", "ai.onnx.ml", [1, LATEST], ANY, 0, |n| {
    let norm = match n.string("norm", "MAX")?.as_str() {
        "MAX" => Norm::Max,
        "L1" => Norm::L1,
        "L2" => Norm::L2,
        s => return Err(Error::invalid(format!("unknown norm {s:?}"))),
    };
    Ok(Box::new(Normalizer { norm }))
});
