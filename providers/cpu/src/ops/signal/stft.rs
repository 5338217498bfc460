//! STFT: each frame at frame_step times the window (ones by default) goes through one
//! planned rustfft forward FFT in f64, keeping frame_length / 2 + 1 bins when onesided.

use ort_core::{Error, Value};
use rustfft::num_complex::Complex;
use rustfft::FftPlanner;

use super::{complex_of, from_f64s, scalar_int};
use crate::kernel::{input, one, opt_input, Ctx, Kernel, Outputs};
use crate::ops::{FLOATS, LATEST};

/// STFT: windowed DFTs of frames of a `[batch, length, 1 or 2]` signal, giving
/// `[batch, frames, bins, 2]`.
struct Stft {
    onesided: bool,
}

impl Kernel for Stft {
    fn compute(&self, inputs: &[Option<&Value>], ctx: &Ctx<'_>) -> Outputs {
        let x = input(inputs, 0)?;
        let shape = x.shape();
        if shape.len() != 3 {
            return Err(Error::invalid(format!(
                "STFT signal must have shape [batch, length, 1 or 2], got {shape:?}"
            )));
        }
        let (batch, len) = (shape[0] as usize, shape[1] as usize);
        let step =
            scalar_int(inputs, 1)?.ok_or_else(|| Error::invalid("frame_step is required"))?;
        let window = opt_input(inputs, 2)?.map(|w| w.to_f64_vec()).transpose()?;
        let flen = match (scalar_int(inputs, 3)?, &window) {
            (Some(l), _) => l,
            (None, Some(w)) => w.len() as i64,
            (None, None) => len as i64,
        };
        if step <= 0 || flen <= 0 || flen as usize > len {
            return Err(Error::invalid(format!(
                "frame_step {step} and frame_length {flen} must be positive, the frame no longer than the signal ({len})"
            )));
        }
        let (step, flen) = (step as usize, flen as usize);
        let window = window.unwrap_or_else(|| vec![1.0; flen]);
        if window.len() != flen {
            return Err(Error::invalid(format!(
                "window length {} differs from frame_length {flen}",
                window.len()
            )));
        }
        let data = complex_of(x)?;
        if self.onesided && shape[2] == 2 {
            return Err(Error::invalid("onesided STFT needs a real signal"));
        }
        let frames = 1 + (len - flen) / step;
        let bins = if self.onesided { flen / 2 + 1 } else { flen };
        let fft = FftPlanner::<f64>::new().plan_fft_forward(flen);
        let mut out = vec![0.0f64; batch * frames * bins * 2];
        let mut line = vec![Complex::new(0.0, 0.0); flen];
        for b in 0..batch {
            for f in 0..frames {
                let start = b * len + f * step;
                for (k, c) in line.iter_mut().enumerate() {
                    *c = data[start + k] * window[k];
                }
                fft.process(&mut line);
                for (k, c) in line[..bins].iter().enumerate() {
                    let base = ((b * frames + f) * bins + k) * 2;
                    out[base] = c.re;
                    out[base + 1] = c.im;
                }
            }
        }
        let oshape = [batch as i64, frames as i64, bins as i64, 2];
        one(from_f64s(ctx, x.elem(), &oshape, &out)?)
    }
}

crate::register!("STFT", [17, LATEST], FLOATS, |n| Ok(Box::new(Stft {
    onesided: n.int("onesided", 1)? != 0
})));
