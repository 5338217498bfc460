//! QLinearAveragePool (`com.microsoft`): as onnxruntime computes it, bit for bit: X
//! dequantized to f32, each window summed in f32 in row-major order and divided by
//! its count, and the average quantized by `round_half_even(y / y_scale + y_zp)`
//! (averages often land on exact halves, so the order of the float operations
//! decides the rounding); NCHW, or NHWC with `channels_last`.

use ort_core::ElemType::{I8, U8};
use ort_core::{Error, Value};

use super::{move_axis, param, saturate};
use crate::kernel::{input, one, Ctx, Kernel, NodeInfo, Outputs};
use crate::ops::nn::window::Window;
use crate::ops::quant::{qrange, QInt};
use crate::util::dims;

struct QLinearAveragePool {
    window: Window,
    count_include_pad: bool,
    channels_last: bool,
}

/// Per output position along one axis, the input indices its window reads.
fn taps(n: usize, out: usize, k: usize, stride: usize, dil: usize, pad: usize) -> Vec<Vec<usize>> {
    (0..out)
        .map(|o| {
            let start = (o * stride) as isize - pad as isize;
            (0..k as isize)
                .map(|t| start + t * dil as isize)
                .filter(|&i| i >= 0 && i < n as isize)
                .map(|i| i as usize)
                .collect()
        })
        .collect()
}

impl QLinearAveragePool {
    fn run<T: QInt>(&self, inputs: &[Option<&Value>], ctx: &Ctx<'_>) -> Outputs {
        let x = input(inputs, 0)?;
        let (xs, xz) = param(inputs, 1, 2)?;
        let (ys, yz) = param(inputs, 3, 4)?;
        if x.rank() < 3 {
            return Err(Error::invalid(format!(
                "X must have rank 3 or more, got shape {:?}",
                x.shape()
            )));
        }
        let moved;
        let x = if self.channels_last {
            moved = move_axis(x, x.rank() - 1, 1, ctx)?;
            &moved
        } else {
            x
        };
        let d = dims(x.shape());
        let g = self.window.geom(&d[2..], None)?;
        let axes: Vec<Vec<Vec<usize>>> = (0..g.input.len())
            .map(|a| {
                let (n, o, k) = (g.input[a], g.output[a], g.kernel[a]);
                taps(n, o, k, g.strides[a], g.dilations[a], g.pad_begin[a])
            })
            .collect();
        // Each output's window as offsets into its plane, in row-major order.
        let mut windows: Vec<Vec<usize>> = vec![vec![0]];
        for (a, per) in axes.iter().enumerate() {
            let step: usize = g.input[a + 1..].iter().product();
            windows = windows
                .iter()
                .flat_map(|w| {
                    per.iter().map(move |t| {
                        w.iter()
                            .flat_map(|&base| t.iter().map(move |&i| base + i * step))
                            .collect()
                    })
                })
                .collect();
        }
        let kernel: usize = g.kernel.iter().product();
        let range = qrange(T::TYPE)?;
        let (plane, planes) = (g.input.iter().product::<usize>(), d[0] * d[1]);
        let q = x.as_slice::<T>()?;
        let deq: Vec<f32> = q.iter().map(|&v| xs * (v.to_i32() - xz) as f32).collect();
        let mut shape = x.shape()[..2].to_vec();
        shape.extend(g.output.iter().map(|&o| o as i64));
        let out = ctx.tensor(&shape, |o: &mut [T]| {
            for p in 0..planes {
                let xp = &deq[p * plane..(p + 1) * plane];
                for (o, w) in o[p * windows.len()..].iter_mut().zip(&windows) {
                    let sum = w.iter().fold(0f32, |s, &i| s + xp[i]);
                    let count = if self.count_include_pad {
                        kernel
                    } else {
                        w.len()
                    };
                    let y = if count == 0 { 0.0 } else { sum / count as f32 };
                    *o = T::from_i32(saturate(y / ys + yz as f32, range));
                }
            }
        })?;
        if self.channels_last {
            one(move_axis(&out, 1, out.rank() - 1, ctx)?)
        } else {
            one(out)
        }
    }
}

impl Kernel for QLinearAveragePool {
    fn compute(&self, inputs: &[Option<&Value>], ctx: &Ctx<'_>) -> Outputs {
        match input(inputs, 0)?.elem() {
            U8 => self.run::<u8>(inputs, ctx),
            I8 => self.run::<i8>(inputs, ctx),
            e => Err(Error::invalid(format!("X must be uint8 or int8, got {e}"))),
        }
    }
}

crate::register!(
    "QLinearAveragePool",
    "com.microsoft",
    [1, 1],
    &[U8, I8],
    0,
    |info: &NodeInfo<'_, '_>| Ok(Box::new(QLinearAveragePool {
        window: Window::parse(info)?,
        count_include_pad: info.int("count_include_pad", 0)? != 0,
        channels_last: info.int("channels_last", 0)? != 0,
    }))
);
