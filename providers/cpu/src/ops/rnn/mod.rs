//! Recurrent layers (RNN, GRU, LSTM): the activation table, the attributes they share,
//! and one time-step driver, so each op file only holds its cell's equations.

mod gru;
mod lstm;
// The file is named after its op, like every other op file.
#[allow(clippy::module_inception)]
mod rnn;

use ort_core::{ElemType, Error, Tensor, Value};

use crate::kernel::{input, opt_input, Ctx, NodeInfo, Outputs};
use crate::ops::FLOATS;
use crate::util::{gemm_strided, GemmScalar, MatRef};

/// The element types the recurrent ops accept (bfloat16 from opset 22).
pub(crate) const RNN_TYPES: &[ElemType] = FLOATS;

/// The working precision: f64 for double tensors, f32 for the rest.
pub(crate) trait Real: num_traits::Float + GemmScalar {
    fn of(v: f64) -> Self;
    fn f64(self) -> f64;
}
impl Real for f32 {
    fn of(v: f64) -> f32 {
        v as f32
    }
    fn f64(self) -> f64 {
        self as f64
    }
}
impl Real for f64 {
    fn of(v: f64) -> f64 {
        v
    }
    fn f64(self) -> f64 {
        self
    }
}

/// An activation function of the ONNX recurrent-op table, alpha/beta bound.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) enum Act {
    Sigmoid,
    Tanh,
    Relu,
    Affine(f32, f32),
    LeakyRelu(f32),
    ThresholdedRelu(f32),
    ScaledTanh(f32, f32),
    HardSigmoid(f32, f32),
    Elu(f32),
    Softsign,
    Softplus,
}

impl Act {
    /// Parses a (case-insensitive) name. Like ONNX Runtime, only functions that take
    /// alpha (beta) consume the next value of `activation_alpha` (`_beta`); when the
    /// list runs out the function's ONNX default applies.
    fn parse(
        name: &str,
        alphas: &mut impl Iterator<Item = f32>,
        betas: &mut impl Iterator<Item = f32>,
    ) -> Result<Act, Error> {
        let mut a = |d: f32| alphas.next().unwrap_or(d);
        Ok(match name.to_ascii_lowercase().as_str() {
            "sigmoid" => Act::Sigmoid,
            "tanh" => Act::Tanh,
            "relu" => Act::Relu,
            "softsign" => Act::Softsign,
            "softplus" => Act::Softplus,
            "leakyrelu" => Act::LeakyRelu(a(0.01)),
            "thresholdedrelu" => Act::ThresholdedRelu(a(1.0)),
            "elu" => Act::Elu(a(1.0)),
            "affine" => Act::Affine(a(1.0), betas.next().unwrap_or(0.0)),
            "scaledtanh" => Act::ScaledTanh(a(1.0), betas.next().unwrap_or(1.0)),
            "hardsigmoid" => Act::HardSigmoid(a(0.2), betas.next().unwrap_or(0.5)),
            _ => {
                return Err(Error::invalid(format!(
                    "unknown activation function {name:?}"
                )))
            }
        })
    }

    #[inline]
    pub fn apply<F: Real>(self, x: F) -> F {
        let one = F::one();
        let c = |v: f32| F::of(v as f64);
        match self {
            Act::Sigmoid => one / (one + (-x).exp()),
            Act::Tanh => x.tanh(),
            Act::Relu => x.max(F::zero()),
            Act::Affine(a, b) => c(a) * x + c(b),
            Act::LeakyRelu(a) => {
                if x >= F::zero() {
                    x
                } else {
                    c(a) * x
                }
            }
            Act::ThresholdedRelu(a) => {
                if x >= c(a) {
                    x
                } else {
                    F::zero()
                }
            }
            Act::ScaledTanh(a, b) => c(a) * (c(b) * x).tanh(),
            Act::HardSigmoid(a, b) => (c(a) * x + c(b)).max(F::zero()).min(one),
            Act::Elu(a) => {
                if x >= F::zero() {
                    x
                } else {
                    c(a) * (x.exp() - one)
                }
            }
            Act::Softsign => x / (one + x.abs()),
            // Written so large |x| neither overflows nor loses the linear part.
            Act::Softplus => x.max(F::zero()) + (-x.abs()).exp().ln_1p(),
        }
    }
}

/// Attributes every recurrent op has, resolved at build time.
pub(crate) struct Common {
    pub dirs: usize,
    /// Direction 0 runs backwards (direction = "reverse").
    reverse: bool,
    pub hidden: Option<usize>,
    /// `per` functions for each direction, direction-major.
    pub acts: Vec<Act>,
    pub per: usize,
    pub clip: Option<f32>,
    layout: bool,
    /// Which outputs the node names (Y, Y_h, Y_c).
    pub wanted: [bool; 3],
}

impl Common {
    pub fn new(info: &NodeInfo<'_, '_>, defaults: &[&str]) -> Result<Common, Error> {
        let (dirs, reverse) = match info.string("direction", "forward")?.as_str() {
            "forward" => (1, false),
            "reverse" => (1, true),
            "bidirectional" => (2, false),
            d => return Err(Error::invalid(format!("unknown direction {d:?}"))),
        };
        let per = defaults.len();
        let names = match info.strings("activations")? {
            None => (0..dirs)
                .flat_map(|_| defaults.iter().map(|s| s.to_string()))
                .collect(),
            // A single direction's list for a bidirectional node applies to both.
            Some(v) if v.len() == per && dirs == 2 => [v.clone(), v].concat(),
            Some(v) if v.len() == per * dirs => v,
            Some(v) => {
                return Err(Error::invalid(format!(
                    "activations has {} entries, expected {}",
                    v.len(),
                    per * dirs
                )))
            }
        };
        let alphas = info.floats("activation_alpha")?.unwrap_or_default();
        let betas = info.floats("activation_beta")?.unwrap_or_default();
        let (mut ai, mut bi) = (alphas.into_iter(), betas.into_iter());
        let acts = names
            .iter()
            .map(|n| Act::parse(n, &mut ai, &mut bi))
            .collect::<Result<_, _>>()?;
        let hidden = match info.int("hidden_size", -1)? {
            -1 => None,
            h if h > 0 => Some(h as usize),
            h => {
                return Err(Error::invalid(format!(
                    "hidden_size must be positive, got {h}"
                )))
            }
        };
        let clip = if info.has("clip") {
            Some(info.float("clip", 0.0)?)
        } else {
            None
        };
        let wanted =
            std::array::from_fn(|i| info.node.outputs.get(i).is_some_and(|n| !n.is_empty()));
        Ok(Common {
            dirs,
            reverse,
            hidden,
            acts,
            per,
            clip,
            layout: info.int("layout", 0)? != 0,
            wanted,
        })
    }

    /// The activation functions of direction `d`.
    pub fn acts(&self, d: usize) -> &[Act] {
        &self.acts[d * self.per..(d + 1) * self.per]
    }

    /// Bounds a pre-activation when `clip` is set.
    #[inline]
    pub fn clip<F: Real>(&self, x: F) -> F {
        match self.clip {
            Some(c) => {
                let c = F::of(c as f64);
                x.max(-c).min(c)
            }
            None => x,
        }
    }

    /// Reads and checks the inputs shared by all three ops, in the time-major layout.
    /// `gates` is the number of gate blocks stacked in W and R.
    pub fn read<F: Real>(&self, inputs: &[Option<&Value>], gates: usize) -> Result<Seq<F>, Error> {
        let x = input(inputs, 0)?;
        let (w, r) = (input(inputs, 1)?, input(inputs, 2)?);
        if x.rank() != 3 || w.rank() != 3 || r.rank() != 3 {
            return Err(Error::invalid(format!(
                "X, W and R must have rank 3, got {:?}, {:?} and {:?}",
                x.shape(),
                w.shape(),
                r.shape()
            )));
        }
        let xs = x.shape();
        let (seq, batch) = if self.layout {
            (xs[1], xs[0])
        } else {
            (xs[0], xs[1])
        };
        let (seq, batch, inp) = (seq as usize, batch as usize, xs[2] as usize);
        let hidden = self.hidden.unwrap_or(r.shape()[2] as usize);
        if hidden == 0 {
            return Err(Error::invalid("hidden size must be positive"));
        }
        let dirs = self.dirs;
        let want = |t: &Tensor, name: &str, shape: &[usize]| -> Result<(), Error> {
            if t.shape()
                .iter()
                .map(|&d| d as usize)
                .eq(shape.iter().copied())
            {
                Ok(())
            } else {
                Err(Error::invalid(format!(
                    "{name} has shape {:?}, expected {shape:?}",
                    t.shape()
                )))
            }
        };
        want(w, "W", &[dirs, gates * hidden, inp])?;
        want(r, "R", &[dirs, gates * hidden, hidden])?;
        let bias = match opt_input(inputs, 3)? {
            Some(b) => {
                want(b, "B", &[dirs, 2 * gates * hidden])?;
                Some(read(b)?)
            }
            None => None,
        };
        let lens = match opt_input(inputs, 4)? {
            Some(l) => {
                want(l, "sequence_lens", &[batch])?;
                let v = l.to_i64_vec()?;
                if let Some(bad) = v.iter().find(|&&n| n < 0 || n as usize > seq) {
                    return Err(Error::invalid(format!(
                        "sequence_lens value {bad} is outside [0, {seq}]"
                    )));
                }
                v.into_iter().map(|n| n as usize).collect()
            }
            None => vec![seq; batch],
        };
        let state = |i: usize, name: &str| -> Result<Option<Vec<F>>, Error> {
            let Some(t) = opt_input(inputs, i)? else {
                return Ok(None);
            };
            let shape = if self.layout {
                [batch, dirs, hidden]
            } else {
                [dirs, batch, hidden]
            };
            want(t, name, &shape)?;
            let v = read(t)?;
            Ok(Some(if self.layout {
                swap01(&v, batch, dirs)
            } else {
                v
            }))
        };
        let x = if self.layout {
            swap01(&read(x)?, batch, seq)
        } else {
            read(x)?
        };
        Ok(Seq {
            seq,
            batch,
            input: inp,
            hidden,
            x,
            w: read(w)?,
            r: read(r)?,
            bias,
            lens,
            h0: state(5, "initial_h")?,
            c0: state(6, "initial_c")?,
        })
    }

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
            outs.push(Some(Value::Tensor(emit(ctx, elem, &shape, &data)?)));
        }
        Ok(outs)
    }
}

/// The inputs of a recurrent op, time-major (`[seq, batch, ...]`), in working precision.
pub(crate) struct Seq<F> {
    pub seq: usize,
    pub batch: usize,
    pub input: usize,
    pub hidden: usize,
    pub x: Vec<F>,
    pub w: Vec<F>,
    pub r: Vec<F>,
    /// `[dirs, 2·gates·hidden]`: Wb then Rb.
    pub bias: Option<Vec<F>>,
    pub lens: Vec<usize>,
    pub h0: Option<Vec<F>>,
    pub c0: Option<Vec<F>>,
}

impl<F: Real> Seq<F> {
    /// Wb and Rb of direction `d`, or zeros.
    pub fn biases(&self, d: usize, gates: usize) -> (Vec<F>, Vec<F>) {
        let gh = gates * self.hidden;
        match &self.bias {
            Some(b) => (
                b[2 * d * gh..(2 * d + 1) * gh].to_vec(),
                b[(2 * d + 1) * gh..(2 * d + 2) * gh].to_vec(),
            ),
            None => (vec![F::zero(); gh], vec![F::zero(); gh]),
        }
    }
    /// R of direction `d`, `gates·hidden × hidden`, row-major.
    pub fn r(&self, d: usize, gates: usize) -> &[F] {
        let n = gates * self.hidden * self.hidden;
        &self.r[d * n..(d + 1) * n]
    }
}

/// Final results of [`Common::drive`], time-major.
pub(crate) struct States<F> {
    pub y: Vec<F>,
    pub yh: Vec<F>,
    pub yc: Vec<F>,
}

/// A float tensor's elements in working precision.
pub(crate) fn read<F: Real>(t: &Tensor) -> Result<Vec<F>, Error> {
    use half::{bf16, f16};
    Ok(match t.elem() {
        ElemType::F32 => t
            .as_slice::<f32>()?
            .iter()
            .map(|&v| F::of(v as f64))
            .collect(),
        ElemType::F64 => t.as_slice::<f64>()?.iter().map(|&v| F::of(v)).collect(),
        ElemType::F16 => t
            .as_slice::<f16>()?
            .iter()
            .map(|&v| F::of(v.to_f64()))
            .collect(),
        ElemType::BF16 => t
            .as_slice::<bf16>()?
            .iter()
            .map(|&v| F::of(v.to_f64()))
            .collect(),
        e => {
            return Err(Error::not_implemented(format!(
                "element type {e} is not supported here"
            )))
        }
    })
}

/// A tensor of element type `elem` holding `data`.
fn emit<F: Real>(
    ctx: &Ctx<'_>,
    elem: ElemType,
    shape: &[i64],
    data: &[F],
) -> Result<Tensor, Error> {
    use half::{bf16, f16};
    fn fill<T, F: Copy>(o: &mut [T], d: &[F], f: impl Fn(F) -> T) {
        o.iter_mut().zip(d).for_each(|(o, &v)| *o = f(v));
    }
    match elem {
        ElemType::F32 => ctx.tensor(shape, |o: &mut [f32]| fill(o, data, |v| v.f64() as f32)),
        ElemType::F64 => ctx.tensor(shape, |o: &mut [f64]| fill(o, data, |v| v.f64())),
        ElemType::F16 => ctx.tensor(shape, |o: &mut [f16]| {
            fill(o, data, |v| f16::from_f64(v.f64()))
        }),
        ElemType::BF16 => ctx.tensor(shape, |o: &mut [bf16]| {
            fill(o, data, |v| bf16::from_f64(v.f64()))
        }),
        e => Err(Error::not_implemented(format!(
            "element type {e} is not supported here"
        ))),
    }
}

/// Swaps the two leading axes of an `[a, b, rest...]` array.
fn swap01<F: Copy>(v: &[F], a: usize, b: usize) -> Vec<F> {
    let rest = v.len().checked_div(a * b).unwrap_or(0);
    let mut out = Vec::with_capacity(v.len());
    for j in 0..b {
        for i in 0..a {
            out.extend_from_slice(&v[(i * b + j) * rest..][..rest]);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use ort_core::abi::AttrValue::{self, *};
    use ort_core::{Tensor, Value};

    use crate::testing::{assert_close, attr, run_node};

    // Expected values come from onnxruntime 1.31 on the same inputs (built by `gen`).
    fn gen(shape: &[i64], k: usize) -> Option<Value> {
        let n = shape.iter().product::<i64>() as usize;
        let v = (0..n)
            .map(|i| (((i * k + 3) % 23) as f64 / 23.0 - 0.5) as f32)
            .collect();
        Some(Value::Tensor(Tensor::from_vec(shape, v).unwrap()))
    }

    fn lens(v: &[i32]) -> Option<Value> {
        Some(Value::Tensor(
            Tensor::from_vec(&[v.len() as i64], v.to_vec()).unwrap(),
        ))
    }

    fn s(v: &str) -> AttrValue<'static> {
        String(v.as_bytes().to_vec().into())
    }

    fn check(outs: &[Option<Value>], shapes: &[&[i64]], want: &[&[f32]]) {
        for (i, (shape, want)) in shapes.iter().zip(want).enumerate() {
            let t = outs[i].as_ref().unwrap().as_tensor().unwrap();
            assert_eq!(t.shape(), *shape, "output {i}");
            assert_close(t.as_slice::<f32>().unwrap(), want, 2e-5);
        }
    }

    #[test]
    fn lstm_bidirectional_sequence_lens() {
        let ins = [
            gen(&[3, 2, 2], 5),
            gen(&[2, 12, 2], 7),
            gen(&[2, 12, 3], 11),
            gen(&[2, 24], 13),
            lens(&[3, 1]),
            gen(&[2, 2, 3], 17),
            gen(&[2, 2, 3], 19),
            gen(&[2, 9], 3),
        ];
        let outs = run_node(
            "LSTM",
            14,
            &ins,
            vec![
                attr("hidden_size", Int(3)),
                attr("direction", s("bidirectional")),
            ],
            3,
        )
        .unwrap();
        check(
            &outs,
            &[&[3, 2, 2, 3], &[2, 2, 3], &[2, 2, 3]],
            &[
                &[
                    -0.297073, 0.155635, -0.0711114, -0.130683, 0.0186063, -0.186503, 0.066996,
                    -0.16273, 0.224441, 0.0774867, -0.114243, 0.113923, -0.321641, 0.151244,
                    -0.201134, 0.0, 0.0, 0.0, 0.0663957, -0.111172, 0.213229, 0.0, 0.0, 0.0,
                    -0.372048, 0.122811, -0.184126, 0.0, 0.0, 0.0, 0.0473039, 0.0488687, 0.191454,
                    0.0, 0.0, 0.0,
                ],
                &[
                    -0.372048, 0.122811, -0.184126, -0.130683, 0.0186063, -0.186503, 0.066996,
                    -0.16273, 0.224441, 0.0774867, -0.114243, 0.113923,
                ],
                &[
                    -0.604371, 0.391788, -0.287253, -0.242815, 0.0415115, -0.320476, 0.154387,
                    -0.280578, 0.467813, 0.193758, -0.181309, 0.230683,
                ],
            ],
        );
    }

    #[test]
    fn lstm_empty_sequence_reports_zero_state() {
        let ins = [
            gen(&[3, 2, 2], 5),
            gen(&[2, 12, 2], 7),
            gen(&[2, 12, 3], 11),
            gen(&[2, 24], 13),
            lens(&[2, 0]),
            gen(&[2, 2, 3], 17),
            gen(&[2, 2, 3], 19),
            gen(&[2, 9], 3),
        ];
        let outs = run_node(
            "LSTM",
            14,
            &ins,
            vec![
                attr("hidden_size", Int(3)),
                attr("direction", s("bidirectional")),
            ],
            3,
        )
        .unwrap();
        check(
            &outs,
            &[&[3, 2, 2, 3], &[2, 2, 3], &[2, 2, 3]],
            &[
                &[
                    -0.297073,
                    0.155635,
                    -0.0711114,
                    0.0,
                    0.0,
                    0.0,
                    0.0219224,
                    -0.117072,
                    0.229531,
                    0.0,
                    0.0,
                    0.0,
                    -0.321641,
                    0.151244,
                    -0.201134,
                    0.0,
                    0.0,
                    0.0,
                    -0.0305362,
                    -0.000793059,
                    0.244801,
                    0.0,
                    0.0,
                    0.0,
                    0.0,
                    0.0,
                    0.0,
                    0.0,
                    0.0,
                    0.0,
                    0.0,
                    0.0,
                    0.0,
                    0.0,
                    0.0,
                    0.0,
                ],
                &[
                    -0.321641, 0.151244, -0.201134, 0.0, 0.0, 0.0, 0.0219224, -0.117072, 0.229531,
                    0.0, 0.0, 0.0,
                ],
                &[
                    -0.615259, 0.475629, -0.290681, 0.0, 0.0, 0.0, 0.0522763, -0.194426, 0.493056,
                    0.0, 0.0, 0.0,
                ],
            ],
        );
    }

    #[test]
    fn lstm_layout1_clip_input_forget() {
        // ONNX Runtime has no layout=1; the reference is its layout-0 result transposed.
        let x = gen(&[3, 2, 2], 5)
            .unwrap()
            .into_tensor()
            .unwrap()
            .to_vec::<f32>()
            .unwrap();
        let xl: Vec<f32> = (0..12)
            .map(|i| x[((i / 2) % 3 * 2 + i / 6) * 2 + i % 2])
            .collect();
        let xl = Some(Value::Tensor(Tensor::from_vec(&[2, 3, 2], xl).unwrap()));
        let ins = [xl, gen(&[1, 12, 2], 7), gen(&[1, 12, 3], 11)];
        let attrs = vec![
            attr("hidden_size", Int(3)),
            attr("layout", Int(1)),
            attr("clip", Float(0.3)),
            attr("input_forget", Int(1)),
        ];
        let outs = run_node("LSTM", 14, &ins, attrs, 3).unwrap();
        check(
            &outs,
            &[&[2, 3, 1, 3], &[2, 1, 3], &[2, 1, 3]],
            &[
                &[
                    -0.0256965,
                    0.0239376,
                    -0.0173137,
                    -0.0495048,
                    0.0451503,
                    -0.0304247,
                    -0.0568604,
                    -0.00340948,
                    0.0384654,
                    0.029537,
                    -0.00305496,
                    -0.0207879,
                    0.0272257,
                    0.00363924,
                    -0.0289122,
                    0.0104433,
                    0.0160213,
                    -0.0332695,
                ],
                &[
                    -0.0568604,
                    -0.00340948,
                    0.0384654,
                    0.0104433,
                    0.0160213,
                    -0.0332695,
                ],
                &[
                    -0.0996218,
                    -0.00742524,
                    0.0803826,
                    0.0218925,
                    0.0321282,
                    -0.0645052,
                ],
            ],
        );
    }

    #[test]
    fn lstm_reverse_custom_activations() {
        let ins = [
            gen(&[3, 2, 2], 5),
            gen(&[1, 12, 2], 7),
            gen(&[1, 12, 3], 11),
            gen(&[1, 24], 13),
        ];
        let attrs = vec![
            attr("hidden_size", Int(3)),
            attr("direction", s("reverse")),
            attr(
                "activations",
                Strings(
                    ["HardSigmoid", "LeakyRelu", "Softsign"]
                        .map(|a| a.as_bytes().to_vec().into())
                        .to_vec()
                        .into(),
                ),
            ),
            attr("activation_alpha", Floats(vec![0.3, 0.2].into())),
            attr("activation_beta", Floats(vec![0.4].into())),
        ];
        let outs = run_node("LSTM", 7, &ins, attrs, 2).unwrap();
        check(
            &outs,
            &[&[3, 1, 2, 3], &[1, 2, 3]],
            &[
                &[
                    -0.0519368,
                    0.0567295,
                    -0.024759,
                    -0.0375655,
                    0.0576677,
                    -0.0232653,
                    -0.04929,
                    0.0476633,
                    -0.0185858,
                    -0.0389638,
                    0.0529259,
                    -0.0212244,
                    -0.039641,
                    0.0257519,
                    -0.00441514,
                    -0.0324277,
                    0.0400586,
                    -0.014645,
                ],
                &[
                    -0.0519368, 0.0567295, -0.024759, -0.0375655, 0.0576677, -0.0232653,
                ],
            ],
        );
    }

    #[test]
    fn gru_bidirectional_linear_before_reset_0() {
        let ins = [
            gen(&[3, 2, 2], 5),
            gen(&[2, 9, 2], 7),
            gen(&[2, 9, 3], 11),
            gen(&[2, 18], 13),
            lens(&[3, 1]),
            gen(&[2, 2, 3], 17),
        ];
        let attrs = vec![
            attr("hidden_size", Int(3)),
            attr("direction", s("bidirectional")),
            attr("linear_before_reset", Int(0)),
        ];
        let outs = run_node("GRU", 14, &ins, attrs, 2).unwrap();
        check(
            &outs,
            &[&[3, 2, 2, 3], &[2, 2, 3]],
            &[
                &[
                    -0.151959, -0.0370278, 0.305338, 0.0220836, -0.493688, 0.350993, 0.527189,
                    -0.330829, 0.471048, 0.372149, -0.113388, 0.239669, 0.0179056, -0.267307,
                    0.466644, 0.0, 0.0, 0.0, 0.441895, -0.246176, 0.322569, 0.0, 0.0, 0.0,
                    0.332512, -0.40594, 0.394437, 0.0, 0.0, 0.0, 0.234873, -0.150607, 0.0354023,
                    0.0, 0.0, 0.0,
                ],
                &[
                    0.332512, -0.40594, 0.394437, 0.0220836, -0.493688, 0.350993, 0.527189,
                    -0.330829, 0.471048, 0.372149, -0.113388, 0.239669,
                ],
            ],
        );
    }

    #[test]
    fn gru_bidirectional_linear_before_reset_1() {
        let ins = [
            gen(&[3, 2, 2], 5),
            gen(&[2, 9, 2], 7),
            gen(&[2, 9, 3], 11),
            gen(&[2, 18], 13),
            lens(&[3, 1]),
            gen(&[2, 2, 3], 17),
        ];
        let attrs = vec![
            attr("hidden_size", Int(3)),
            attr("direction", s("bidirectional")),
            attr("linear_before_reset", Int(1)),
        ];
        let outs = run_node("GRU", 14, &ins, attrs, 2).unwrap();
        check(
            &outs,
            &[&[3, 2, 2, 3], &[2, 2, 3]],
            &[
                &[
                    -0.187815, 0.016123, 0.251915, 0.0095738, -0.459754, 0.283799, 0.332424,
                    -0.292998, 0.279376, 0.280576, -0.0980757, 0.153053, -0.0306748, -0.187562,
                    0.397509, 0.0, 0.0, 0.0, 0.274904, -0.201156, 0.159791, 0.0, 0.0, 0.0,
                    0.300927, -0.324661, 0.280088, 0.0, 0.0, 0.0, 0.119631, -0.114689, -0.0710992,
                    0.0, 0.0, 0.0,
                ],
                &[
                    0.300927, -0.324661, 0.280088, 0.0095738, -0.459754, 0.283799, 0.332424,
                    -0.292998, 0.279376, 0.280576, -0.0980757, 0.153053,
                ],
            ],
        );
    }

    #[test]
    fn rnn_bidirectional() {
        let ins = [
            gen(&[3, 2, 2], 5),
            gen(&[2, 3, 2], 7),
            gen(&[2, 3, 3], 11),
            gen(&[2, 6], 13),
            None,
            gen(&[2, 2, 3], 17),
        ];
        let outs = run_node(
            "RNN",
            14,
            &ins,
            vec![
                attr("hidden_size", Int(3)),
                attr("direction", s("bidirectional")),
            ],
            2,
        )
        .unwrap();
        check(
            &outs,
            &[&[3, 2, 2, 3], &[2, 2, 3]],
            &[
                &[
                    0.230651, -0.121793, 0.443712, -0.206351, 0.15793, 0.449764, -0.439569,
                    -0.316876, 0.129542, -0.331832, -0.113855, -0.0124271, -0.121414, 0.174882,
                    0.327798, -0.12105, -0.0737541, 0.504662, -0.502331, -0.244296, 0.0952904,
                    -0.344822, -0.157566, 0.0332592, -0.220931, 0.275924, 0.295745, -0.143325,
                    0.0668924, 0.495248, -0.02882, -0.339891, -0.0702997, -0.326448, -0.111538,
                    0.0712402,
                ],
                &[
                    -0.220931, 0.275924, 0.295745, -0.143325, 0.0668924, 0.495248, -0.439569,
                    -0.316876, 0.129542, -0.331832, -0.113855, -0.0124271,
                ],
            ],
        );
    }

    #[test]
    fn rnn_relu_clip_infers_hidden_size() {
        let ins = [gen(&[3, 2, 2], 5), gen(&[1, 3, 2], 7), gen(&[1, 3, 3], 11)];
        let attrs = vec![
            attr("activations", Strings(vec![b"Relu".to_vec().into()].into())),
            attr("clip", Float(0.2)),
        ];
        let outs = run_node("RNN", 14, &ins, attrs, 2).unwrap();
        check(
            &outs,
            &[&[3, 1, 2, 3], &[1, 2, 3]],
            &[
                &[
                    0.146503,
                    0.0,
                    0.0330813,
                    0.0,
                    0.0,
                    0.0330813,
                    0.135407,
                    0.0197255,
                    0.0,
                    0.000513687,
                    0.0,
                    0.0481836,
                    0.0,
                    0.2,
                    0.0,
                    0.0507967,
                    0.0,
                    0.0548213,
                ],
                &[0.0, 0.2, 0.0, 0.0507967, 0.0, 0.0548213],
            ],
        );
    }

    #[test]
    fn bad_shapes_are_errors() {
        let ins = [
            gen(&[3, 2, 2], 5),
            gen(&[1, 12, 2], 7),
            gen(&[1, 12, 4], 11),
        ];
        assert!(run_node("LSTM", 14, &ins, vec![attr("hidden_size", Int(3))], 3).is_err());
        let ins = [
            gen(&[3, 2, 2], 5),
            gen(&[1, 9, 2], 7),
            gen(&[1, 9, 3], 11),
            None,
            lens(&[4, 1]),
        ];
        assert!(run_node("GRU", 14, &ins, vec![], 2).is_err());
        let ins = [gen(&[3, 2, 2], 5), gen(&[1, 3, 2], 7), gen(&[1, 3, 3], 11)];
        let bad = vec![attr(
            "activations",
            Strings(vec![b"Gelu".to_vec().into()].into()),
        )];
        assert!(run_node("RNN", 14, &ins, bad, 2).is_err());
    }
}
