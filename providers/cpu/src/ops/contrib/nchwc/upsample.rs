//! Upsample (`com.microsoft.nchwc`): nearest-neighbour upsampling of a
//! blocked tensor by integer `scales` along H and W, the only form
//! onnxruntime's layout pass writes; each output pixel copies its block.

use ort_core::ElemType::F32;
use ort_core::{Error, Value};

use super::{block_size, nchw};
use crate::kernel::{input, one, Ctx, Kernel, NodeInfo, Outputs};

struct Upsample {
    b: usize,
    sh: usize,
    sw: usize,
}

impl Kernel for Upsample {
    fn compute(&self, inputs: &[Option<&Value>], ctx: &Ctx<'_>) -> Outputs {
        let x = input(inputs, 0)?;
        let (n, c, _) = nchw(x, self.b)?;
        let &[_, _, h, w] = x.shape() else {
            return Err(Error::invalid(format!(
                "X must be 4-D, got shape {:?}",
                x.shape()
            )));
        };
        let (h, w, b) = (h as usize, w as usize, self.b);
        let (oh, ow) = (h * self.sh, w * self.sw);
        let xv = x.as_slice::<f32>()?;
        let shape = [n as i64, c as i64, oh as i64, ow as i64];
        one(ctx.tensor(&shape, |o: &mut [f32]| {
            for blk in 0..n * c / b {
                for y in 0..oh {
                    for xo in 0..ow {
                        let src = ((blk * h + y / self.sh) * w + xo / self.sw) * b;
                        let dst = ((blk * oh + y) * ow + xo) * b;
                        o[dst..dst + b].copy_from_slice(&xv[src..src + b]);
                    }
                }
            }
        })?)
    }
}

fn build(info: &NodeInfo<'_, '_>) -> Result<Box<dyn Kernel>, Error> {
    let mode = info.string("mode", "nearest")?;
    if mode != "nearest" {
        return Err(Error::not_implemented(format!(
            "NCHWc Upsample in mode {mode:?} (onnxruntime writes only nearest)"
        )));
    }
    let scales = info.ints("scales")?.unwrap_or_default();
    let [1, 1, sh, sw] = scales[..] else {
        return Err(Error::invalid(format!(
            "scales must be [1, 1, sh, sw], got {scales:?}"
        )));
    };
    if sh < 1 || sw < 1 {
        return Err(Error::invalid(format!(
            "scales must be positive, got {scales:?}"
        )));
    }
    Ok(Box::new(Upsample {
        b: block_size(info.graph)?,
        sh: sh as usize,
        sw: sw as usize,
    }))
}

crate::register!("Upsample", "com.microsoft.nchwc", [1, 1], &[F32], 0, build);
