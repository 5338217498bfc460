//! QLinearGlobalAveragePool (`com.microsoft`): per image and channel the exact
//! integer sum less `x_zp · S`, requantized once by `x_scale / (y_scale · S)`
//! (S the spatial size), as MLAS does; NCHW, or NHWC with `channels_last`.

use ort_core::ElemType::{I8, U8};
use ort_core::{Error, Value};

use super::param;
use crate::kernel::{input, one, Ctx, Kernel, NodeInfo, Outputs};
use crate::ops::quant::{qrange, requant, QInt};
use crate::util::dims;

struct QLinearGlobalAveragePool {
    channels_last: bool,
}

impl QLinearGlobalAveragePool {
    fn pool<T: QInt>(&self, inputs: &[Option<&Value>], ctx: &Ctx<'_>) -> Outputs {
        let x = input(inputs, 0)?;
        let (xs, xz) = param(inputs, 1, 2)?;
        let (ys, yz) = param(inputs, 3, 4)?;
        let d = dims(x.shape());
        if d.len() < 3 {
            return Err(Error::invalid(format!(
                "X must have a batch, a channel and spatial axes, got shape {:?}",
                x.shape()
            )));
        }
        let (n, c, spatial) = if self.channels_last {
            (
                d[0],
                d[d.len() - 1],
                d[1..d.len() - 1].iter().product::<usize>(),
            )
        } else {
            (d[0], d[1], d[2..].iter().product::<usize>())
        };
        let mut out_shape = x.shape().to_vec();
        let sp = if self.channels_last {
            1..d.len() - 1
        } else {
            2..d.len()
        };
        for i in sp {
            out_shape[i] = 1;
        }
        let scale = xs / (ys * spatial as f32);
        let range = qrange(T::TYPE)?;
        let xv = x.as_slice::<T>()?;
        let avg = |sum: i64| {
            let acc = (sum - xz as i64 * spatial as i64) as i32;
            T::from_i32(requant(acc as f32 * scale, yz, range))
        };
        one(ctx.tensor(&out_shape, |o: &mut [T]| {
            for b in 0..n {
                let img = &xv[b * c * spatial..][..c * spatial];
                let o = &mut o[b * c..][..c];
                if self.channels_last {
                    let mut sums = vec![0i64; c];
                    for px in img.chunks_exact(c) {
                        for (s, &v) in sums.iter_mut().zip(px) {
                            *s += v.to_i32() as i64;
                        }
                    }
                    for (o, &s) in o.iter_mut().zip(&sums) {
                        *o = avg(s);
                    }
                } else {
                    for (o, plane) in o.iter_mut().zip(img.chunks_exact(spatial.max(1))) {
                        *o = avg(plane.iter().map(|v| v.to_i32() as i64).sum());
                    }
                }
            }
        })?)
    }
}

impl Kernel for QLinearGlobalAveragePool {
    fn compute(&self, inputs: &[Option<&Value>], ctx: &Ctx<'_>) -> Outputs {
        match input(inputs, 0)?.elem() {
            U8 => self.pool::<u8>(inputs, ctx),
            I8 => self.pool::<i8>(inputs, ctx),
            e => Err(Error::invalid(format!("X must be uint8 or int8, got {e}"))),
        }
    }
}

crate::register!(
    "QLinearGlobalAveragePool",
    "com.microsoft",
    [1, 1],
    &[U8, I8],
    0,
    |info: &NodeInfo<'_, '_>| Ok(Box::new(QLinearGlobalAveragePool {
        channels_last: info.int("channels_last", 0)? != 0,
    }))
);
