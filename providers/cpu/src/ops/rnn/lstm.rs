//! LSTM: X·Wᵀ for all steps up front, then per step a GEMM accumulating h·Rᵀ and the
//! peephole gate update of c and h (with optional coupled input and forget gates).

use ort_core::{ElemType, Error, Value};

use super::{read, Common, Real, RNN_TYPES};
use crate::kernel::{input, opt_input, Ctx, Kernel, NodeInfo, Outputs};
use crate::ops::LATEST;
use crate::util::{gemm_strided, MatRef};

/// Gate blocks in W, R and B, in ONNX order: input, output, forget, cell.
const GATES: usize = 4;

struct Lstm {
    c: Common,
    /// Couples the gates: f = 1 - i.
    input_forget: bool,
}

impl Kernel for Lstm {
    fn compute(&self, inputs: &[Option<&Value>], ctx: &Ctx<'_>) -> Outputs {
        match input(inputs, 0)?.elem() {
            ElemType::F64 => self.run::<f64>(inputs, ctx),
            _ => self.run::<f32>(inputs, ctx),
        }
    }
}

impl Lstm {
    fn run<F: Real>(&self, inputs: &[Option<&Value>], ctx: &Ctx<'_>) -> Outputs {
        let s = self.c.read::<F>(inputs, GATES)?;
        let hs = s.hidden;
        let p = match opt_input(inputs, 7)? {
            Some(t) if t.shape() != [self.c.dirs as i64, 3 * hs as i64] => {
                return Err(Error::invalid(format!(
                    "P has shape {:?}, expected [{}, {}]",
                    t.shape(),
                    self.c.dirs,
                    3 * hs
                )))
            }
            Some(t) => read::<F>(t)?,
            None => vec![F::zero(); self.c.dirs * 3 * hs],
        };
        let bias: Vec<Vec<F>> = (0..self.c.dirs)
            .map(|d| {
                let (wb, rb) = s.biases(d, GATES);
                wb.iter().zip(&rb).map(|(&a, &b)| a + b).collect()
            })
            .collect();
        let st = self.c.drive(&s, GATES, ctx.threads, |d, g, h, c, active| {
            let [f, gf, hf] = [0, 1, 2].map(|i| self.c.acts(d)[i]);
            let (bias, p) = (&bias[d], &p[d * 3 * hs..(d + 1) * 3 * hs]);
            let r = MatRef::transposed(s.r(d, GATES), hs, GATES * hs);
            gemm_strided(
                MatRef::rows(h, s.batch, hs),
                r,
                g,
                GATES * hs,
                true,
                ctx.threads,
            )?;
            for b in (0..s.batch).filter(|&b| active[b]) {
                let row = &g[b * GATES * hs..(b + 1) * GATES * hs];
                for j in 0..hs {
                    let pre = |k: usize| row[k * hs + j] + bias[k * hs + j];
                    let cp = c[b * hs + j];
                    let i = f.apply(self.c.clip(pre(0) + p[j] * cp));
                    let fg = if self.input_forget {
                        F::one() - i
                    } else {
                        f.apply(self.c.clip(pre(2) + p[2 * hs + j] * cp))
                    };
                    let cell = gf.apply(self.c.clip(pre(3)));
                    let cn = fg * cp + i * cell;
                    let o = f.apply(self.c.clip(pre(1) + p[hs + j] * cn));
                    c[b * hs + j] = cn;
                    h[b * hs + j] = o * hf.apply(cn);
                }
            }
            Ok(())
        })?;
        self.c.outputs(ctx, input(inputs, 0)?.elem(), &s, st, 3)
    }
}

fn build(info: &NodeInfo<'_, '_>) -> Result<Box<dyn Kernel>, Error> {
    Ok(Box::new(Lstm {
        c: Common::new(info, &["Sigmoid", "Tanh", "Tanh"])?,
        input_forget: info.int("input_forget", 0)? != 0,
    }))
}

crate::register!("LSTM", [7, LATEST], RNN_TYPES, build);
