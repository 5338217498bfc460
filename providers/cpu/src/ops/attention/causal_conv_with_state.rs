//! CausalConvWithState (opset 27): a depthwise causal 1-D convolution that carries
//! its last `k - 1` input frames between calls, with optional SiLU.

use ort_core::{Error, Value};
use rayon::prelude::*;

use super::wants;
use crate::kernel::{input, opt_input, Ctx, Kernel, NodeInfo, Outputs};
use crate::ops::nn::{data, narrow, Flt, PAR_WORK};
use crate::ops::{FLOATS, LATEST};

struct CausalConvWithState {
    silu: bool,
    want_state: bool,
}

fn build(info: &NodeInfo<'_, '_>) -> Result<Box<dyn Kernel>, Error> {
    let silu = match info.string("activation", "none")?.as_str() {
        "none" => false,
        "silu" | "swish" => true,
        a => return Err(Error::invalid(format!("unknown activation '{a}'"))),
    };
    Ok(Box::new(CausalConvWithState {
        silu,
        want_state: wants(info, 1),
    }))
}

impl Kernel for CausalConvWithState {
    fn compute(&self, inputs: &[Option<&Value>], ctx: &Ctx<'_>) -> Outputs {
        let x = input(inputs, 0)?;
        crate::with_float!(x.elem(), F => self.run::<F>(inputs, ctx))
    }
}

impl CausalConvWithState {
    fn run<F: Flt>(&self, inputs: &[Option<&Value>], ctx: &Ctx<'_>) -> Outputs {
        let (x, w) = (input(inputs, 0)?, input(inputs, 1)?);
        let (bias, past) = (opt_input(inputs, 2)?, opt_input(inputs, 3)?);
        let (xs, ws) = (x.shape(), w.shape());
        if xs.len() != 3 || ws.len() != 3 || ws[0] != xs[1] || ws[1] != 1 || ws[2] < 1 {
            return Err(Error::invalid(format!(
                "input {xs:?} must be [B, C, L] and weight {ws:?} [C, 1, k] with k >= 1"
            )));
        }
        let (b, c, l, k) = (
            xs[0] as usize,
            xs[1] as usize,
            xs[2] as usize,
            ws[2] as usize,
        );
        let state_shape = [b as i64, c as i64, (k - 1) as i64];
        if let Some(p) = past {
            if p.shape() != state_shape {
                return Err(Error::invalid(format!(
                    "past_state {:?} must be {state_shape:?}",
                    p.shape()
                )));
            }
        }
        if let Some(bt) = bias {
            if bt.len() != c {
                return Err(Error::invalid(format!("bias must have {c} elements")));
            }
        }
        let (xd, wd) = (data::<F>(x)?, data::<F>(w)?);
        let bd = bias.map(data::<F>).transpose()?;
        let pd = past.map(data::<F>).transpose()?;
        let p = l + k - 1;
        // The padded signal, one row of l + k - 1 frames per (batch, channel).
        let mut padded = vec![F::zero(); b * c * p];
        let mut y = vec![F::zero(); b * c * l];
        let silu = self.silu;
        let job = |(bc, (row, out)): (usize, (&mut [F], &mut [F]))| {
            let ch = bc % c;
            if let Some(pd) = &pd {
                row[..k - 1].copy_from_slice(&pd[bc * (k - 1)..(bc + 1) * (k - 1)]);
            }
            row[k - 1..].copy_from_slice(&xd[bc * l..(bc + 1) * l]);
            let wk = &wd[ch * k..(ch + 1) * k];
            let b0 = bd.as_ref().map_or(F::zero(), |b| b[ch]);
            for (t, o) in out.iter_mut().enumerate() {
                let mut s = b0;
                for (j, &wv) in wk.iter().enumerate() {
                    s += wv * row[t + j];
                }
                *o = if silu { s / (F::one() + (-s).exp()) } else { s };
            }
        };
        if b * c > 0 && l > 0 {
            let it = padded.chunks_mut(p).zip(y.chunks_mut(l)).enumerate();
            if ctx.threads > 1 && b * c * l * k >= PAR_WORK {
                it.collect::<Vec<_>>().into_par_iter().for_each(job);
            } else {
                it.for_each(job);
            }
        } else if let Some(pd) = &pd {
            for (bc, row) in padded.chunks_mut(p.max(1)).enumerate().take(b * c) {
                row[..k - 1].copy_from_slice(&pd[bc * (k - 1)..(bc + 1) * (k - 1)]);
            }
        }
        let mut outs = vec![Some(Value::from(narrow(ctx, x.elem(), xs, &y)?))];
        if self.want_state {
            let mut st = Vec::with_capacity(b * c * (k - 1));
            if p > 0 {
                for row in padded.chunks(p) {
                    st.extend_from_slice(&row[l..]);
                }
            }
            outs.push(Some(Value::from(narrow(ctx, x.elem(), &state_shape, &st)?)));
        }
        Ok(outs)
    }
}

crate::register!("CausalConvWithState", [27, LATEST], FLOATS, build);
