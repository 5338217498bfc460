//! QGemm (`com.microsoft`): `acc = C + Σ (A − a_zp)(B − b_zp)` exact in int32
//! on the u8/i8 GEMM (`qgemm`), then `acc · (alpha · a_scale · b_scale[j])` as
//! float32, or, when `y_zero_point` is given, requantized by that over
//! `y_scale` (round half to even, saturated), as onnxruntime's kernel does.

use ort_core::ElemType::{I8, U8};
use ort_core::{Error, Tensor, Value};

use super::saturate;
use crate::kernel::{input, one, opt_input, ConstId, Ctx, Kernel, NodeInfo, Outputs};
use crate::ops::nn::expand;
use crate::ops::quant::qgemm::{qgemm, PackedB};
use crate::ops::quant::{floats, ints, qrange, scalar, QInt};

struct QGemm {
    alpha: f32,
    trans_a: bool,
    trans_b: bool,
    /// B packed at session creation when it is a constant.
    packed: Option<(PackedB, ConstId)>,
}

/// B (K×N, or N×K when transposed) packed for `qgemm`.
fn pack(b: &Tensor, trans_b: bool) -> Result<PackedB, Error> {
    let &[r, c] = b.shape() else {
        return Err(Error::invalid(format!(
            "B must be a matrix, got shape {:?}",
            b.shape()
        )));
    };
    let (r, c) = (r as usize, c as usize);
    let (kn, rs, cs) = if trans_b {
        ((c, r), 1, c)
    } else {
        ((r, c), c, 1)
    };
    Ok(match b.elem() {
        U8 => PackedB::new(b.as_slice::<u8>()?, kn, rs, cs),
        I8 => PackedB::new(b.as_slice::<i8>()?, kn, rs, cs),
        e => return Err(Error::invalid(format!("B must be uint8 or int8, got {e}"))),
    })
}

impl QGemm {
    fn run<T: QInt + Sync>(&self, inputs: &[Option<&Value>], ctx: &Ctx<'_>) -> Outputs {
        let (a, b) = (input(inputs, 0)?, input(inputs, 3)?);
        let &[ar, ac] = a.shape() else {
            return Err(Error::invalid(format!(
                "A must be a matrix, got shape {:?}",
                a.shape()
            )));
        };
        let (m, k) = if self.trans_a {
            (ac as usize, ar as usize)
        } else {
            (ar as usize, ac as usize)
        };
        let owned;
        let pb = match &self.packed {
            Some((p, id)) if id.matches(b) => p,
            _ => {
                owned = pack(b, self.trans_b)?;
                &owned
            }
        };
        if pb.k() != k {
            return Err(Error::invalid(format!(
                "A has K = {k} but B has {} (shapes {:?}, {:?})",
                pb.k(),
                a.shape(),
                b.shape()
            )));
        }
        let n = pb.n();
        let a_scale = scalar(&floats(input(inputs, 1)?)?, "a_scale")?;
        let za = scalar(&ints(input(inputs, 2)?)?, "a_zero_point")?;
        let b_scale = floats(input(inputs, 4)?)?;
        let zb = ints(input(inputs, 5)?)?;
        for (what, len) in [("b_scale", b_scale.len()), ("b_zero_point", zb.len())] {
            if len != 1 && len != n {
                return Err(Error::invalid(format!(
                    "{what} needs 1 or N = {n} values, got {len}"
                )));
            }
        }
        let c = match opt_input(inputs, 6)? {
            Some(c) => Some(expand(
                c.as_slice::<i32>()?,
                c.shape(),
                &[m as i64, n as i64],
            )?),
            None => None,
        };
        let y_scale = opt_input(inputs, 7)?
            .map(|s| floats(s).and_then(|v| scalar(&v, "y_scale")))
            .transpose()?;
        let scales: Vec<f32> = (0..n)
            .map(|j| {
                let s = self.alpha * a_scale * b_scale[if b_scale.len() == 1 { 0 } else { j }];
                y_scale.map_or(s, |y| s / y)
            })
            .collect();
        let av = a.as_slice::<T>()?;
        let at: Vec<T>;
        let a_rows: &[T] = if self.trans_a {
            at = (0..m * k).map(|i| av[(i % k) * m + i / k]).collect();
            &at
        } else {
            av
        };
        let shape = [m as i64, n as i64];
        let acc = |i: usize, j: usize, v: i32| match &c {
            Some(c) => v.wrapping_add(c[i * n + j]),
            None => v,
        };
        let t = match opt_input(inputs, 8)? {
            Some(yz) => {
                let (z, range) = (scalar(&ints(yz)?, "y_zero_point")?, qrange(yz.elem())?);
                let store = |i: usize, j0: usize, v: &[i32], o: &mut [i32]| {
                    for (jj, (o, &v)) in o.iter_mut().zip(v).enumerate() {
                        let j = j0 + jj;
                        *o = saturate(acc(i, j, v) as f32 * scales[j], (range.0 - z, range.1 - z))
                            + z;
                    }
                };
                let mut q = vec![0i32; m * n];
                qgemm(a_rows, m, k, &[za], pb, &zb, &mut q, ctx.threads, store);
                match yz.elem() {
                    U8 => ctx.tensor(&shape, |o: &mut [u8]| narrow(&q, o))?,
                    I8 => ctx.tensor(&shape, |o: &mut [i8]| narrow(&q, o))?,
                    e => {
                        return Err(Error::invalid(format!(
                            "y_zero_point must be uint8 or int8, got {e}"
                        )))
                    }
                }
            }
            None => ctx.tensor(&shape, |o: &mut [f32]| {
                qgemm(
                    a_rows,
                    m,
                    k,
                    &[za],
                    pb,
                    &zb,
                    o,
                    ctx.threads,
                    |i, j0, v, o| {
                        for (jj, (o, &v)) in o.iter_mut().zip(v).enumerate() {
                            *o = acc(i, j0 + jj, v) as f32 * scales[j0 + jj];
                        }
                    },
                )
            })?,
        };
        one(t)
    }
}

/// Values already in the output type's range, stored as it.
fn narrow<O: QInt>(q: &[i32], o: &mut [O]) {
    for (o, &v) in o.iter_mut().zip(q) {
        *o = O::from_i32(v);
    }
}

impl Kernel for QGemm {
    fn compute(&self, inputs: &[Option<&Value>], ctx: &Ctx<'_>) -> Outputs {
        match input(inputs, 0)?.elem() {
            U8 => self.run::<u8>(inputs, ctx),
            I8 => self.run::<i8>(inputs, ctx),
            e => Err(Error::invalid(format!("A must be uint8 or int8, got {e}"))),
        }
    }
}

crate::register!(
    "QGemm",
    "com.microsoft",
    [1, 1],
    &[U8, I8],
    0,
    |info: &NodeInfo<'_, '_>| {
        let trans_b = info.int("transB", 0)? != 0;
        Ok(Box::new(QGemm {
            alpha: info.float("alpha", 1.0)?,
            trans_a: info.int("transA", 0)? != 0,
            trans_b,
            packed: info
                .constant_with_id(3)
                .and_then(|(b, id)| Some((pack(b, trans_b).ok()?, id))),
        }))
    }
);
