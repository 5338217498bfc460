//! The time-step driver: X·Wᵀ for all steps at once, then per step the op's cell
//! over each direction; and the outputs in the requested layout and element type.

use ort_core::{ElemType, Error, Value};

use super::{swap01, Common, Real, Seq};
use crate::kernel::{Ctx, Outputs};
use crate::ops::nn::narrow;
use crate::util::{gemm_strided, MatRef};

impl Common {
    /// Runs every direction over the sequence. Per step, `cell(d, gates, h, c, active)`
    /// gets `gates` (batch × gates·hidden) holding X·Wᵀ for each row's time step and must
    /// update `h` (and `c`) for the active rows only: rows past their sequence length
    /// keep their state and their Y stays zero.
    pub fn drive<F: Real>(
        &self,
        s: &Seq<F>,
        gates: usize,
        threads: usize,
        mut cell: impl FnMut(usize, &mut [F], &mut [F], &mut [F], &[bool]) -> Result<(), Error>,
    ) -> Result<States<F>, Error> {
        let (seq, batch, hs, dirs) = (s.seq, s.batch, s.hidden, self.dirs);
        let gh = gates * hs;
        let mut y = vec![
            F::zero();
            if self.wanted[0] {
                seq * dirs * batch * hs
            } else {
                0
            }
        ];
        let (mut yh, mut yc) = (
            vec![F::zero(); dirs * batch * hs],
            vec![F::zero(); dirs * batch * hs],
        );
        let mut xw = vec![F::zero(); seq * batch * gh];
        let mut g = vec![F::zero(); batch * gh];
        let (mut active, mut t) = (vec![false; batch], vec![0usize; batch]);
        for d in 0..dirs {
            let w = &s.w[d * gh * s.input..(d + 1) * gh * s.input];
            let x = MatRef::rows(&s.x, seq * batch, s.input);
            gemm_strided(
                x,
                MatRef::transposed(w, s.input, gh),
                &mut xw,
                gh,
                false,
                threads,
            )?;
            let state = |v: &Option<Vec<F>>| match v {
                Some(v) => v[d * batch * hs..(d + 1) * batch * hs].to_vec(),
                None => vec![F::zero(); batch * hs],
            };
            let (mut h, mut c) = (state(&s.h0), state(&s.c0));
            let reverse = self.reverse || d == 1;
            for step in 0..seq {
                for b in 0..batch {
                    active[b] = step < s.lens[b];
                    if active[b] {
                        t[b] = if reverse { s.lens[b] - 1 - step } else { step };
                        g[b * gh..(b + 1) * gh]
                            .copy_from_slice(&xw[(t[b] * batch + b) * gh..][..gh]);
                    }
                }
                if !active.contains(&true) {
                    break;
                }
                cell(d, &mut g, &mut h, &mut c, &active)?;
                if self.wanted[0] {
                    for b in (0..batch).filter(|&b| active[b]) {
                        y[((t[b] * dirs + d) * batch + b) * hs..][..hs]
                            .copy_from_slice(&h[b * hs..][..hs]);
                    }
                }
            }
            // Rows with no steps report zeros rather than their initial state (as ONNX
            // Runtime does).
            for b in (0..batch).filter(|&b| s.lens[b] == 0) {
                h[b * hs..(b + 1) * hs].fill(F::zero());
                c[b * hs..(b + 1) * hs].fill(F::zero());
            }
            yh[d * batch * hs..(d + 1) * batch * hs].copy_from_slice(&h);
            yc[d * batch * hs..(d + 1) * batch * hs].copy_from_slice(&c);
        }
        Ok(States { y, yh, yc })
    }

    /// The node's outputs (Y, Y_h and, for LSTM, Y_c) in the requested layout and type.
    pub fn outputs<F: Real>(
        &self,
        ctx: &Ctx<'_>,
        elem: ElemType,
        s: &Seq<F>,
        st: States<F>,
        n: usize,
    ) -> Outputs {
        let (seq, batch, hs, dirs) = (
            s.seq as i64,
            s.batch as i64,
            s.hidden as i64,
            self.dirs as i64,
        );
        let mut outs = Vec::with_capacity(n);
        for (i, data) in [st.y, st.yh, st.yc].into_iter().take(n).enumerate() {
            if !self.wanted[i] {
                outs.push(None);
                continue;
            }
            let (shape, data) = match (i, self.layout) {
                (0, false) => (vec![seq, dirs, batch, hs], data),
                (0, true) => (
                    vec![batch, seq, dirs, hs],
                    swap01(&data, (seq * dirs) as usize, batch as usize),
                ),
                (_, false) => (vec![dirs, batch, hs], data),
                (_, true) => (
                    vec![batch, dirs, hs],
                    swap01(&data, dirs as usize, batch as usize),
                ),
            };
            outs.push(Some(Value::Tensor(narrow(ctx, elem, &shape, &data)?)));
        }
        Ok(outs)
    }
}

/// Final results of [`Common::drive`], time-major.
pub(crate) struct States<F> {
    pub y: Vec<F>,
    pub yh: Vec<F>,
    pub yc: Vec<F>,
}
