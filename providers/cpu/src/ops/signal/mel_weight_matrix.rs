//! MelWeightMatrix: triangular filters between edges spaced evenly on the HTK mel scale
//! and floored to linear-bin indices, rising then falling linearly, computed in f64.

use ort_core::{ElemType, Error, Value};

use super::{from_f64s, scalar_float, scalar_int};
use crate::kernel::{one, Ctx, Kernel, Outputs};
use crate::ops::{ANY, LATEST};

/// MelWeightMatrix: triangular filters mapping `dft_length / 2 + 1` linear frequency
/// bins onto `num_mel_bins` mel-spaced bins.
struct MelWeightMatrix {
    out: ElemType,
}

fn hz_to_mel(hz: f64) -> f64 {
    2595.0 * (hz / 700.0).ln_1p() / std::f64::consts::LN_10
}

fn mel_to_hz(mel: f64) -> f64 {
    700.0 * (mel / 2595.0 * std::f64::consts::LN_10).exp_m1()
}

impl Kernel for MelWeightMatrix {
    fn compute(&self, inputs: &[Option<&Value>], ctx: &Ctx<'_>) -> Outputs {
        let req = |v: Option<i64>, name: &str| {
            v.ok_or_else(|| Error::invalid(format!("{name} is required")))
        };
        let mels = req(scalar_int(inputs, 0)?, "num_mel_bins")?;
        let dft_length = req(scalar_int(inputs, 1)?, "dft_length")?;
        let sample_rate = req(scalar_int(inputs, 2)?, "sample_rate")?;
        let lower = scalar_float(inputs, 3)?
            .ok_or_else(|| Error::invalid("lower_edge_hertz is required"))?;
        let upper = scalar_float(inputs, 4)?
            .ok_or_else(|| Error::invalid("upper_edge_hertz is required"))?;
        if mels <= 0 || dft_length <= 0 || sample_rate <= 0 {
            return Err(Error::invalid(format!(
                "num_mel_bins ({mels}), dft_length ({dft_length}) and sample_rate ({sample_rate}) must be positive"
            )));
        }
        if !(0.0..=upper).contains(&lower) {
            return Err(Error::invalid(format!(
                "edges must satisfy 0 <= lower_edge_hertz ({lower}) <= upper_edge_hertz ({upper})"
            )));
        }
        let (m, bins) = (mels as usize, (dft_length / 2 + 1) as usize);
        let (lo, hi) = (hz_to_mel(lower), hz_to_mel(upper));
        let step = (hi - lo) / (m + 2) as f64;
        // The filter edges, as indices of linear frequency bins.
        let edges: Vec<i64> = (0..m + 2)
            .map(|i| {
                let hz = mel_to_hz(i as f64 * step + lo);
                (((dft_length + 1) as f64 * hz) / sample_rate as f64).floor() as i64
            })
            .collect();
        let mut w = vec![0.0f64; bins * m];
        let mut set = |j: i64, i: usize, v: f64| -> Result<(), Error> {
            if j < 0 || j as usize >= bins {
                return Err(Error::invalid(format!(
                    "mel filter edge {j} falls outside the {bins} frequency bins (upper_edge_hertz above the Nyquist frequency?)"
                )));
            }
            w[j as usize * m + i] = v;
            Ok(())
        };
        for i in 0..m {
            let (l, c, r) = (edges[i], edges[i + 1], edges[i + 2]);
            if c == l {
                set(c, i, 1.0)?;
            } else {
                for j in l..=c {
                    set(j, i, (j - l) as f64 / (c - l) as f64)?;
                }
            }
            for j in c..r {
                set(j, i, (r - j) as f64 / (r - c) as f64)?;
            }
        }
        one(from_f64s(ctx, self.out, &[bins as i64, m as i64], &w)?)
    }
}

crate::register!("MelWeightMatrix", [17, LATEST], ANY, |n| {
    let dt = n.int("output_datatype", 1)?;
    let out = ElemType::from_onnx(dt as i32)
        .filter(|e| crate::ops::NUMERIC.contains(e))
        .ok_or_else(|| Error::invalid(format!("output_datatype {dt} is not a numeric type")))?;
    Ok(Box::new(MelWeightMatrix { out }))
});
