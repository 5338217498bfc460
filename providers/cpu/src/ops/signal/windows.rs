//! Hann, Hamming and Blackman windows as a three-term cosine series Σ aₖ·cos(2πkn/d) in
//! f64, with d = size (periodic) or size − 1 (symmetric).

use std::f64::consts::PI;

use ort_core::{ElemType, Error, Value};

use super::{from_f64s, scalar_int};
use crate::kernel::{one, Ctx, Kernel, Outputs};
use crate::ops::LATEST;

/// HannWindow, HammingWindow and BlackmanWindow: `w(n)` for `n` in `0..size`, the
/// argument scaled by `size` (periodic) or `size - 1` (symmetric).
struct Window {
    /// Cosine series coefficients: `w = Σ a[k] cos(2πkn / d)`.
    coef: [f64; 3],
    periodic: bool,
    out: ElemType,
}

impl Kernel for Window {
    fn compute(&self, inputs: &[Option<&Value>], ctx: &Ctx<'_>) -> Outputs {
        let size = scalar_int(inputs, 0)?.ok_or_else(|| Error::invalid("size is required"))?;
        if size < 0 {
            return Err(Error::invalid(format!("window size {size} is negative")));
        }
        let d = if self.periodic { size } else { size - 1 } as f64;
        let w: Vec<f64> = (0..size)
            .map(|n| {
                let x = 2.0 * PI * n as f64 / d;
                self.coef
                    .iter()
                    .enumerate()
                    .map(|(k, a)| a * (k as f64 * x).cos())
                    .sum()
            })
            .collect();
        one(from_f64s(ctx, self.out, &[size], &w)?)
    }
}

fn build(n: &crate::kernel::NodeInfo<'_, '_>, coef: [f64; 3]) -> Result<Box<dyn Kernel>, Error> {
    let dt = n.int("output_datatype", 1)?;
    let out = ElemType::from_onnx(dt as i32)
        .filter(|e| crate::ops::NUMERIC.contains(e))
        .ok_or_else(|| Error::invalid(format!("output_datatype {dt} is not a numeric type")))?;
    Ok(Box::new(Window {
        coef,
        periodic: n.int("periodic", 1)? != 0,
        out,
    }))
}

const HAMMING_A: f64 = 25.0 / 46.0;

crate::register!("HannWindow", [17, LATEST], crate::ops::ANY, |n| build(
    n,
    [0.5, -0.5, 0.0]
));
crate::register!("HammingWindow", [17, LATEST], crate::ops::ANY, |n| build(
    n,
    [HAMMING_A, -(1.0 - HAMMING_A), 0.0]
));
crate::register!("BlackmanWindow", [17, LATEST], crate::ops::ANY, |n| build(
    n,
    [0.42, -0.5, 0.08]
));
