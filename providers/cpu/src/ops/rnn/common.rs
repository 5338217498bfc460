//! The attributes the recurrent ops share, and their shared inputs (X, W, R, B,
//! sequence_lens, initial_h, initial_c) read into the time-major layout.

use ort_core::{Error, Tensor, Value};

use super::{read, swap01, Act, Real};
use crate::kernel::{input, opt_input, NodeInfo};

/// Attributes every recurrent op has, resolved at build time.
pub(crate) struct Common {
    pub dirs: usize,
    /// Direction 0 runs backwards (direction = "reverse").
    pub(super) reverse: bool,
    pub hidden: Option<usize>,
    /// `per` functions for each direction, direction-major.
    pub acts: Vec<Act>,
    pub per: usize,
    pub clip: Option<f32>,
    pub(super) layout: bool,
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
