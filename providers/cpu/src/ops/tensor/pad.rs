//! Pad: per axis, precomputes the source offset of each output position (constant, edge,
//! reflect or wrap), then fills the output row by row along the last axis.

use ort_core::{Error, Tensor, Value};

use super::{ints_input, norm_axes};
use crate::kernel::{input, one, opt_input, Ctx, Kernel, Outputs};
use crate::ops::{ANY, LATEST};
use crate::util::{dims, strides_of, Movable, Num};

#[derive(Clone, Copy, PartialEq, Eq)]
enum Mode {
    Constant,
    Reflect,
    Edge,
    Wrap,
}

/// Pads (or, with negative pads, crops) every axis. Before opset 11 pads and the
/// fill value are attributes; from 11 they are inputs, and from 18 `axes` too.
struct Pad {
    mode: Mode,
    attr_pads: Option<Vec<i64>>,
    attr_value: f32,
}

/// Where output position `o` of an axis of size `d` padded by `begin` reads from,
/// or None for the fill value.
fn source(mode: Mode, o: i64, begin: i64, d: i64) -> Option<usize> {
    let s = o - begin;
    if (0..d).contains(&s) {
        return Some(s as usize);
    }
    Some(match mode {
        Mode::Constant => return None,
        Mode::Edge => s.clamp(0, d - 1),
        Mode::Wrap => s.rem_euclid(d),
        Mode::Reflect if d == 1 => 0,
        Mode::Reflect => {
            let m = s.rem_euclid(2 * (d - 1));
            if m >= d {
                2 * (d - 1) - m
            } else {
                m
            }
        }
    } as usize)
}

/// The fill value as `x`'s element type, from an attribute (float types only).
fn fill_from_f32(x: &Tensor, v: f32) -> Result<Tensor, Error> {
    crate::dispatch_numeric!(x.elem(), T => Ok(Tensor::scalar(T::from_f64(v as f64))))
}

impl Kernel for Pad {
    // The bodies are generic over movable words and strings; words are Copy.
    #[allow(clippy::clone_on_copy)]
    fn compute(&self, inputs: &[Option<&Value>], ctx: &Ctx<'_>) -> Outputs {
        let x = input(inputs, 0)?;
        let r = x.rank();
        let (raw, fill, axes) = match &self.attr_pads {
            Some(p) => {
                let fill = if self.attr_value != 0.0 {
                    Some(fill_from_f32(x, self.attr_value)?)
                } else {
                    None
                };
                (p.clone(), fill, None)
            }
            None => (
                ints_input(inputs, 1)?.ok_or_else(|| Error::invalid("Pad pads are missing"))?,
                opt_input(inputs, 2)?.cloned(),
                ints_input(inputs, 3)?,
            ),
        };
        let axes = norm_axes(&axes.unwrap_or_else(|| (0..r as i64).collect()), r)?;
        if raw.len() != 2 * axes.len() {
            return Err(Error::invalid(format!(
                "Pad has {} pads for {} axes",
                raw.len(),
                axes.len()
            )));
        }
        let xd = dims(x.shape());
        let (mut begin, mut end) = (vec![0i64; r], vec![0i64; r]);
        for (i, &a) in axes.iter().enumerate() {
            begin[a] = raw[i];
            end[a] = raw[axes.len() + i];
        }
        let mut od = Vec::with_capacity(r);
        for a in 0..r {
            let d = xd[a] as i64;
            let o = d + begin[a] + end[a];
            if o < 0 {
                return Err(Error::invalid(format!(
                    "Pad pads {raw:?} crop axis {a} of size {d} below zero"
                )));
            }
            if d == 0 && o > 0 && self.mode != Mode::Constant {
                return Err(Error::invalid(format!(
                    "Pad cannot pad the empty axis {a} in this mode"
                )));
            }
            od.push(o as usize);
        }
        let xs = strides_of(&xd);
        // Per axis: output position -> source element offset along that axis.
        let maps: Vec<Vec<Option<usize>>> = (0..r)
            .map(|a| {
                (0..od[a] as i64)
                    .map(|o| {
                        source(self.mode, o, begin[a], xd[a] as i64).map(|s| s * xs[a] as usize)
                    })
                    .collect()
            })
            .collect();
        let out_shape: Vec<i64> = od.iter().map(|&v| v as i64).collect();
        one(crate::dispatch_move!(x.elem(), T => {
            let src = T::elems_of(x)?;
            let value: T = match &fill {
                Some(t) => {
                    if t.elem() != x.elem() {
                        return Err(Error::invalid("Pad constant_value type differs from the data's"));
                    }
                    T::elems_of(t)?.first().cloned().unwrap_or_default()
                }
                None => T::default(),
            };
            T::new_tensor(ctx, x.elem(), &out_shape, |out| {
                if out.is_empty() {
                    return;
                }
                if r == 0 {
                    out[0] = src[0].clone();
                    return;
                }
                let n = od[r - 1];
                let last = &maps[r - 1];
                let mut coord = vec![0usize; r - 1];
                for row in out.chunks_mut(n) {
                    let mut base = Some(0usize);
                    for (a, &c) in coord.iter().enumerate() {
                        base = match (base, maps[a][c]) {
                            (Some(b), Some(s)) => Some(b + s),
                            _ => None,
                        };
                    }
                    match base {
                        None => row.fill(value.clone()),
                        Some(b) => {
                            for (o, m) in row.iter_mut().zip(last) {
                                *o = match m {
                                    Some(s) => src[b + s].clone(),
                                    None => value.clone(),
                                };
                            }
                        }
                    }
                    for a in (0..r - 1).rev() {
                        coord[a] += 1;
                        if coord[a] < od[a] {
                            break;
                        }
                        coord[a] = 0;
                    }
                }
            })
        })?)
    }
}

crate::register!("Pad", [1, LATEST], ANY, |n| {
    let mode = match n.string("mode", "constant")?.as_str() {
        "constant" => Mode::Constant,
        "reflect" => Mode::Reflect,
        "edge" => Mode::Edge,
        "wrap" if n.opset() >= 19 => Mode::Wrap,
        m => return Err(Error::invalid(format!("unknown Pad mode '{m}'"))),
    };
    let attr_pads = match n.opset() {
        1 => Some(n.ints("paddings")?.unwrap_or_default()),
        2..=10 => Some(n.ints("pads")?.unwrap_or_default()),
        _ => None,
    };
    Ok(Box::new(Pad {
        mode,
        attr_pads,
        attr_value: n.float("value", 0.0)?,
    }))
});
