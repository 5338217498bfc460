//! QLinearConv: exact integer convolution of zero-point-centered operands (`conv_geom`),
//! int32 bias added, requantized by one f32 multiplier per channel (round half even).

use ort_core::ElemType::{I8, U8};
use ort_core::{Error, Value};

use super::{centered, floats, ints, qrange, requant, scalar, wrap_i32, ConvAttrs, QInt};
use crate::kernel::{input, one, opt_input, Ctx, Kernel, NodeInfo, Outputs};
use crate::ops::LATEST;

struct QLinearConv {
    attrs: ConvAttrs,
}

impl Kernel for QLinearConv {
    fn compute(&self, inputs: &[Option<&Value>], ctx: &Ctx<'_>) -> Outputs {
        let t = |i| input(inputs, i);
        let (x, x_scale, x_zp, w) = (t(0)?, t(1)?, t(2)?, t(3)?);
        let (w_scale, w_zp, y_scale, y_zp) = (t(4)?, t(5)?, t(6)?, t(7)?);
        let g = self.attrs.geom(x.shape(), w.shape())?;
        let xs = scalar(&floats(x_scale)?, "x_scale")?;
        let xz = scalar(&ints(x_zp)?, "x_zero_point")?;
        let ys = scalar(&floats(y_scale)?, "y_scale")?;
        let yz = scalar(&ints(y_zp)?, "y_zero_point")?;
        let (ws, wz) = (floats(w_scale)?, ints(w_zp)?);
        // Per output channel or per tensor; `pick(v, m)` reads either.
        let pick = |len: usize, m: usize| if len == 1 { 0 } else { m };
        for (name, len) in [("w_scale", ws.len()), ("w_zero_point", wz.len())] {
            if len != 1 && len != g.m {
                return Err(Error::invalid(format!(
                    "{name} needs 1 or {} values, got {len}",
                    g.m
                )));
            }
        }
        let bias = match opt_input(inputs, 8)? {
            Some(b) if b.len() != g.m => {
                return Err(Error::invalid(format!(
                    "B needs {} values, got {}",
                    g.m,
                    b.len()
                )))
            }
            Some(b) => b.as_slice::<i32>()?.to_vec(),
            None => vec![0; g.m],
        };
        let per_m = w.len() / g.m.max(1);
        let xv = centered(x, |_| xz)?;
        let wv = centered(w, |i| wz[pick(wz.len(), i / per_m)])?;
        let acc = g.run(&xv, &wv, ctx.threads)?;
        let osz = acc.len() / (g.n * g.m).max(1);
        let range = qrange(y_zp.elem())?;
        one(
            dispatch_q!(y_zp.elem(), T => ctx.tensor(&g.out_shape(), |o: &mut [T]| {
                for (i, (o, &v)) in o.iter_mut().zip(&acc).enumerate() {
                    let m = i / osz % g.m;
                    // As ONNX Runtime: bias joins the int32 accumulator, then one f32
                    // multiplier per channel rescales it.
                    let mult = xs * ws[pick(ws.len(), m)] / ys;
                    *o = T::from_i32(requant(wrap_i32(v).wrapping_add(bias[m]) as f32 * mult, yz, range));
                }
            }))?,
        )
    }
}

pub(crate) fn build(info: &NodeInfo<'_, '_>) -> Result<Box<dyn Kernel>, Error> {
    Ok(Box::new(QLinearConv {
        attrs: ConvAttrs::new(info)?,
    }))
}

crate::register!("QLinearConv", [10, LATEST], &[U8, I8], build);
