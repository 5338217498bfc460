//! ConvInteger: zero points subtracted, then im2col and an exact f64 product per group
//! (`conv_geom`), wrapped to int32 as a 32-bit accumulator would be.

use ort_core::ElemType::{I8, U8};
use ort_core::{Error, Value};

use super::{centered, ints, scalar, wrap_i32, ConvAttrs};
use crate::kernel::{input, one, opt_input, Ctx, Kernel, NodeInfo, Outputs};
use crate::ops::LATEST;

struct ConvInteger {
    attrs: ConvAttrs,
}

impl Kernel for ConvInteger {
    fn compute(&self, inputs: &[Option<&Value>], ctx: &Ctx<'_>) -> Outputs {
        let (x, w) = (input(inputs, 0)?, input(inputs, 1)?);
        let g = self.attrs.geom(x.shape(), w.shape())?;
        let x_zp = match opt_input(inputs, 2)? {
            Some(z) => scalar(&ints(z)?, "x_zero_point")?,
            None => 0,
        };
        let w_zp = match opt_input(inputs, 3)? {
            Some(z) => ints(z)?,
            None => vec![0],
        };
        if w_zp.len() != 1 && w_zp.len() != g.m {
            return Err(Error::invalid(format!(
                "w_zero_point needs 1 or {} values, got {}",
                g.m,
                w_zp.len()
            )));
        }
        let per_m = w.len() / g.m.max(1);
        let xv = centered(x, |_| x_zp)?;
        let wv = centered(w, |i| w_zp[if w_zp.len() == 1 { 0 } else { i / per_m }])?;
        let acc = g.run(&xv, &wv, ctx.threads)?;
        one(ctx.tensor(&g.out_shape(), |o: &mut [i32]| {
            o.iter_mut().zip(&acc).for_each(|(o, &v)| *o = wrap_i32(v))
        })?)
    }
}

fn build(info: &NodeInfo<'_, '_>) -> Result<Box<dyn Kernel>, Error> {
    Ok(Box::new(ConvInteger {
        attrs: ConvAttrs::new(info)?,
    }))
}

crate::register!("ConvInteger", [10, LATEST], &[U8, I8], build);
