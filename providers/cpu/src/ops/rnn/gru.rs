//! GRU: X·Wᵀ for all steps up front, then per step a GEMM of h by Rᵀ and the z, r, h gate
//! update, the reset applied before or after the hidden projection (linear_before_reset).

use ort_core::{ElemType, Error, Value};

use super::{Common, Real, RNN_TYPES};
use crate::kernel::{input, Ctx, Kernel, NodeInfo, Outputs};
use crate::ops::LATEST;
use crate::util::{gemm_strided, MatRef};

/// Gate blocks in W, R and B, in ONNX order: update (z), reset (r), hidden (h).
const GATES: usize = 3;

struct Gru {
    c: Common,
    /// Apply the reset gate after the hidden projection (cuDNN style) instead of before.
    linear_before_reset: bool,
}

impl Kernel for Gru {
    fn compute(&self, inputs: &[Option<&Value>], ctx: &Ctx<'_>) -> Outputs {
        match input(inputs, 0)?.elem() {
            ElemType::F64 => self.run::<f64>(inputs, ctx),
            _ => self.run::<f32>(inputs, ctx),
        }
    }
}

impl Gru {
    fn run<F: Real>(&self, inputs: &[Option<&Value>], ctx: &Ctx<'_>) -> Outputs {
        let s = self.c.read::<F>(inputs, GATES)?;
        let (hs, batch) = (s.hidden, s.batch);
        let biases: Vec<_> = (0..self.c.dirs).map(|d| s.biases(d, GATES)).collect();
        // Scratch: h·Rᵀ per row (the h block only when it precedes the reset), the
        // update gate, and the reset-gated recurrent term of the h block.
        let mut hr = vec![F::zero(); batch * GATES * hs];
        let (mut z, mut rh, mut tmp) = (
            vec![F::zero(); batch * hs],
            vec![F::zero(); batch * hs],
            vec![F::zero(); batch * hs],
        );
        let pre = |row: &[F], bias: &[F], k: usize, j: usize| row[k * hs + j] + bias[k * hs + j];
        let st = self.c.drive(&s, GATES, ctx.threads, |d, g, h, _, active| {
            let [f, gf] = [0, 1].map(|i| self.c.acts(d)[i]);
            let (wb, rb) = &biases[d];
            let r = s.r(d, GATES);
            let blocks = if self.linear_before_reset { GATES } else { 2 };
            let rt = MatRef::transposed(&r[..blocks * hs * hs], hs, blocks * hs);
            gemm_strided(
                MatRef::rows(h, batch, hs),
                rt,
                &mut hr,
                GATES * hs,
                false,
                ctx.threads,
            )?;
            for b in (0..batch).filter(|&b| active[b]) {
                let (gx, gh) = (
                    &g[b * GATES * hs..][..GATES * hs],
                    &hr[b * GATES * hs..][..GATES * hs],
                );
                for j in 0..hs {
                    z[b * hs + j] = f.apply(self.c.clip(pre(gx, wb, 0, j) + pre(gh, rb, 0, j)));
                    let reset = f.apply(self.c.clip(pre(gx, wb, 1, j) + pre(gh, rb, 1, j)));
                    rh[b * hs + j] = if self.linear_before_reset {
                        reset * pre(gh, rb, 2, j)
                    } else {
                        reset * h[b * hs + j]
                    };
                }
            }
            if !self.linear_before_reset {
                tmp.copy_from_slice(&rh);
                let rt = MatRef::transposed(&r[2 * hs * hs..], hs, hs);
                gemm_strided(
                    MatRef::rows(&tmp, batch, hs),
                    rt,
                    &mut rh,
                    hs,
                    false,
                    ctx.threads,
                )?;
                for v in rh.chunks_mut(hs) {
                    v.iter_mut().zip(&rb[2 * hs..]).for_each(|(v, &b)| *v += b);
                }
            }
            for b in (0..batch).filter(|&b| active[b]) {
                let gx = &g[b * GATES * hs..][..GATES * hs];
                for j in 0..hs {
                    let cand = gf.apply(self.c.clip(pre(gx, wb, 2, j) + rh[b * hs + j]));
                    let zj = z[b * hs + j];
                    h[b * hs + j] = (F::one() - zj) * cand + zj * h[b * hs + j];
                }
            }
            Ok(())
        })?;
        self.c.outputs(ctx, input(inputs, 0)?.elem(), &s, st, 2)
    }
}

fn build(info: &NodeInfo<'_, '_>) -> Result<Box<dyn Kernel>, Error> {
    Ok(Box::new(Gru {
        c: Common::new(info, &["Sigmoid", "Tanh"])?,
        linear_before_reset: info.int("linear_before_reset", 0)? != 0,
    }))
}

crate::register!("GRU", [7, LATEST], RNN_TYPES, build);
