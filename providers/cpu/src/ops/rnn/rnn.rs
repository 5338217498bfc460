//! RNN: per step H = f(clip(X·Wᵀ + H·Rᵀ + Wb + Rb)), tanh by default, with X·Wᵀ for all
//! steps in one GEMM and H·Rᵀ accumulated by a GEMM per step, per direction.

use ort_core::{ElemType, Error, Value};

use super::{Common, Real, RNN_TYPES};
use crate::kernel::{input, Ctx, Kernel, NodeInfo, Outputs};
use crate::ops::LATEST;
use crate::util::{gemm_strided, MatRef};

struct Rnn {
    c: Common,
}

impl Kernel for Rnn {
    fn compute(&self, inputs: &[Option<&Value>], ctx: &Ctx<'_>) -> Outputs {
        match input(inputs, 0)?.elem() {
            ElemType::F64 => self.run::<f64>(inputs, ctx),
            _ => self.run::<f32>(inputs, ctx),
        }
    }
}

impl Rnn {
    fn run<F: Real>(&self, inputs: &[Option<&Value>], ctx: &Ctx<'_>) -> Outputs {
        let s = self.c.read::<F>(inputs, 1)?;
        let hs = s.hidden;
        let bias: Vec<Vec<F>> = (0..self.c.dirs)
            .map(|d| {
                let (wb, rb) = s.biases(d, 1);
                wb.iter().zip(&rb).map(|(&a, &b)| a + b).collect()
            })
            .collect();
        let st = self.c.drive(&s, 1, ctx.threads, |d, g, h, _, active| {
            let f = self.c.acts(d)[0];
            let r = MatRef::transposed(s.r(d, 1), hs, hs);
            gemm_strided(MatRef::rows(h, s.batch, hs), r, g, hs, true, ctx.threads)?;
            for b in (0..s.batch).filter(|&b| active[b]) {
                for j in 0..hs {
                    h[b * hs + j] = f.apply(self.c.clip(g[b * hs + j] + bias[d][j]));
                }
            }
            Ok(())
        })?;
        self.c.outputs(ctx, input(inputs, 0)?.elem(), &s, st, 2)
    }
}

fn build(info: &NodeInfo<'_, '_>) -> Result<Box<dyn Kernel>, Error> {
    Ok(Box::new(Rnn {
        c: Common::new(info, &["Tanh"])?,
    }))
}

crate::register!("RNN", [7, LATEST], RNN_TYPES, build);
