//! DFT: one planned rustfft FFT in f64 of dft_length (zero-padded or truncated) per line,
//! scaled by 1/n when inverse; a onesided inverse first rebuilds the Hermitian spectrum.

use ort_core::{Error, Value};
use rustfft::num_complex::Complex;
use rustfft::FftPlanner;

use super::{complex_of, from_f64s, scalar_int};
use crate::kernel::{input, one, Ctx, Kernel, NodeInfo, Outputs};
use crate::ops::{FLOATS, LATEST};

/// DFT. Opset 17 takes the axis as an attribute; opset 20 as input 2 (default -2).
struct Dft {
    /// The axis attribute (opset 17), or None when it is input 2.
    axis_attr: Option<i64>,
    inverse: bool,
    onesided: bool,
}

impl Kernel for Dft {
    #[allow(clippy::needless_range_loop)]
    fn compute(&self, inputs: &[Option<&Value>], ctx: &Ctx<'_>) -> Outputs {
        let x = input(inputs, 0)?;
        let shape = x.shape();
        let rank = shape.len();
        if rank < 2 {
            return Err(Error::invalid(format!(
                "DFT input must have rank 2 or more, got shape {shape:?}"
            )));
        }
        let a = match self.axis_attr {
            Some(a) => a,
            None => scalar_int(inputs, 2)?.unwrap_or(-2),
        };
        // The axis counts over the signal dimensions, the last (real/imaginary) excluded;
        // a negative one counts from the end of the full shape, as the spec's default -2.
        let ax = if a < 0 { a + rank as i64 } else { a };
        if ax < 0 || ax >= rank as i64 - 1 {
            return Err(Error::invalid(format!(
                "DFT axis {a} is out of range for input shape {shape:?}"
            )));
        }
        let ax = ax as usize;
        let len = shape[ax] as usize;
        let n = match scalar_int(inputs, 1)? {
            Some(n) if n <= 0 => {
                return Err(Error::invalid(format!("dft_length {n} must be positive")))
            }
            Some(n) => n as usize,
            None if self.inverse && self.onesided => 2 * len.saturating_sub(1),
            None => len,
        };
        if n == 0 {
            return Err(Error::invalid("the DFT length is 0"));
        }
        let data = complex_of(x)?;
        let outer: usize = shape[..ax].iter().product::<i64>() as usize;
        let inner: usize = shape[ax + 1..rank - 1].iter().product::<i64>() as usize;
        let (out_len, comps) = match (self.inverse, self.onesided) {
            (false, true) => (n / 2 + 1, 2),
            (true, true) => (n, 1),
            _ => (n, 2),
        };
        let mut planner = FftPlanner::<f64>::new();
        let fft = if self.inverse {
            planner.plan_fft_inverse(n)
        } else {
            planner.plan_fft_forward(n)
        };
        let mut out = vec![0.0f64; outer * out_len * inner * comps];
        let mut line = vec![Complex::new(0.0, 0.0); n];
        for o in 0..outer {
            for i in 0..inner {
                line.iter_mut().for_each(|c| *c = Complex::new(0.0, 0.0));
                let at = |k: usize| data[(o * len + k) * inner + i];
                if self.inverse && self.onesided {
                    // Rebuild the full Hermitian spectrum from its first n/2 + 1 bins.
                    let half = n / 2 + 1;
                    for k in 0..half.min(len) {
                        line[k] = at(k);
                    }
                    line[0].im = 0.0;
                    if n % 2 == 0 {
                        line[n / 2].im = 0.0;
                    }
                    for k in 1..n.div_ceil(2) {
                        line[n - k] = line[k].conj();
                    }
                } else {
                    for k in 0..len.min(n) {
                        line[k] = at(k);
                    }
                }
                fft.process(&mut line);
                let scale = if self.inverse { 1.0 / n as f64 } else { 1.0 };
                for k in 0..out_len {
                    let base = ((o * out_len + k) * inner + i) * comps;
                    out[base] = line[k].re * scale;
                    if comps == 2 {
                        out[base + 1] = line[k].im * scale;
                    }
                }
            }
        }
        let mut oshape = shape.to_vec();
        oshape[ax] = out_len as i64;
        oshape[rank - 1] = comps as i64;
        one(from_f64s(ctx, x.elem(), &oshape, &out)?)
    }
}

fn build(n: &NodeInfo<'_, '_>) -> Result<Box<dyn Kernel>, Error> {
    Ok(Box::new(Dft {
        axis_attr: if n.opset() < 20 {
            Some(n.int("axis", 1)?)
        } else {
            None
        },
        inverse: n.int("inverse", 0)? != 0,
        onesided: n.int("onesided", 0)? != 0,
    }))
}

crate::register!("DFT", [17, LATEST], FLOATS, build);
