//! Helpers shared by the indexing ops (gather/scatter variants, OneHot, ...).

use ort_core::{ElemType, Error, Tensor};

use crate::kernel::Ctx;
use crate::util::{dims, Movable, Num};

/// Resolves a possibly negative index against a dimension of size `d`.
pub(crate) fn norm_index(i: i64, d: i64) -> Result<usize, Error> {
    let v = if i < 0 { i + d } else { i };
    if (0..d).contains(&v) {
        Ok(v as usize)
    } else {
        Err(Error::invalid(format!(
            "index {i} is out of range for a dimension of size {d}"
        )))
    }
}

/// A numeric tensor's elements as f64 (for indices or depths given as floats).
pub(crate) fn to_f64_vec(t: &Tensor) -> Result<Vec<f64>, Error> {
    crate::dispatch_numeric!(t.elem(), T => Ok(t.as_slice::<T>()?.iter().map(|&v| v.to_f64()).collect()))
}

/// A numeric tensor's elements as i64, floats truncated toward zero.
pub(crate) fn to_i64_lossy(t: &Tensor) -> Result<Vec<i64>, Error> {
    match t.elem() {
        e if e.is_float() => Ok(to_f64_vec(t)?.into_iter().map(|v| v as i64).collect()),
        _ => t.to_i64_vec(),
    }
}

/// How scattered updates combine with what is already there.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum Reduction {
    None,
    Add,
    Mul,
    Max,
    Min,
}

impl Reduction {
    pub(crate) fn parse(s: &str) -> Result<Reduction, Error> {
        Ok(match s {
            "none" => Reduction::None,
            "add" => Reduction::Add,
            "mul" => Reduction::Mul,
            "max" => Reduction::Max,
            "min" => Reduction::Min,
            _ => return Err(Error::invalid(format!("unknown reduction '{s}'"))),
        })
    }
}

fn reduce_into<T: Num>(red: Reduction, out: &mut [T], upd: &[T]) {
    for (o, &u) in out.iter_mut().zip(upd) {
        *o = match red {
            Reduction::None => u,
            Reduction::Add => o.wadd(u),
            Reduction::Mul => o.wmul(u),
            Reduction::Max => {
                if u > *o || u.is_nan() {
                    u
                } else {
                    *o
                }
            }
            Reduction::Min => {
                if u < *o || u.is_nan() {
                    u
                } else {
                    *o
                }
            }
        };
    }
}

fn reduce_bool(red: Reduction, out: &mut [bool], upd: &[bool]) {
    for (o, &u) in out.iter_mut().zip(upd) {
        *o = match red {
            Reduction::None => u,
            Reduction::Add | Reduction::Max => *o || u,
            Reduction::Mul | Reduction::Min => *o && u,
        };
    }
}

/// A copy of `data` where block `k` of `updates` (elements `k*inner..(k+1)*inner`) is
/// written, combined by `red`, at element offset `dst[k]`, in order. The caller
/// checked that every block lies inside `data`.
pub(crate) fn scatter_blocks(
    ctx: &Ctx<'_>,
    data: &Tensor,
    updates: &Tensor,
    dst: &[usize],
    inner: usize,
    red: Reduction,
) -> Result<Tensor, Error> {
    if updates.elem() != data.elem() {
        return Err(Error::invalid(format!(
            "updates are {} but data is {}",
            updates.elem(),
            data.elem()
        )));
    }
    if updates.len() != dst.len() * inner {
        return Err(Error::invalid(format!(
            "updates hold {} elements, expected {}",
            updates.len(),
            dst.len() * inner
        )));
    }
    if dst.iter().any(|&d| d + inner > data.len()) {
        return Err(Error::invalid(
            "a scatter destination lies outside the data",
        ));
    }
    if red == Reduction::None {
        return crate::dispatch_move!(data.elem(), T => {
            let (src, upd) = (T::elems_of(data)?, T::elems_of(updates)?);
            T::new_tensor(ctx, data.elem(), data.shape(), |out| {
                out.clone_from_slice(&src);
                for (k, &d) in dst.iter().enumerate() {
                    out[d..d + inner].clone_from_slice(&upd[k * inner..(k + 1) * inner]);
                }
            })
        });
    }
    if data.elem() == ElemType::Bool {
        let (src, upd) = (data.as_slice::<bool>()?, updates.as_slice::<bool>()?);
        return ctx.tensor(data.shape(), |out: &mut [bool]| {
            out.copy_from_slice(src);
            for (k, &d) in dst.iter().enumerate() {
                reduce_bool(
                    red,
                    &mut out[d..d + inner],
                    &upd[k * inner..(k + 1) * inner],
                );
            }
        });
    }
    crate::dispatch_numeric!(data.elem(), T => {
        let (src, upd) = (data.as_slice::<T>()?, updates.as_slice::<T>()?);
        ctx.tensor(data.shape(), |out: &mut [T]| {
            out.copy_from_slice(src);
            for (k, &d) in dst.iter().enumerate() {
                reduce_into(red, &mut out[d..d + inner], &upd[k * inner..(k + 1) * inner]);
            }
        })
    })
}

/// Offsets into `x` for every element of `ind` (same rank), with the coordinate on
/// `axis` replaced by that element's (possibly negative) index: GatherElements'
/// sources and ScatterElements' destinations.
pub(crate) fn element_offsets(
    op: &str,
    x: &Tensor,
    ind: &Tensor,
    axis: i64,
) -> Result<Vec<usize>, Error> {
    let r = ind.rank();
    let a = crate::util::axis(axis, r)?;
    let (xd, id) = (dims(x.shape()), dims(ind.shape()));
    if (0..r).any(|i| i != a && id[i] > xd[i]) {
        return Err(Error::invalid(format!(
            "{op} indices shape {:?} exceeds data shape {:?}",
            ind.shape(),
            x.shape()
        )));
    }
    let d = x.shape()[a];
    let idx = ind
        .to_i64_vec()?
        .into_iter()
        .map(|i| norm_index(i, d))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(odometer_offsets(&xd, &id, a, &idx))
}

/// Offsets into a row-major tensor of shape `data_dims` for every position of an
/// index tensor of shape `idx_dims` (same rank), with coordinate `axis` replaced by
/// the (already normalized) index at that position.
fn odometer_offsets(
    data_dims: &[usize],
    idx_dims: &[usize],
    axis: usize,
    idx: &[usize],
) -> Vec<usize> {
    let strides = crate::util::strides_of(data_dims);
    let r = idx_dims.len();
    let mut coord = vec![0usize; r];
    let mut out = Vec::with_capacity(idx.len());
    for &i in idx {
        let mut off = 0;
        for a in 0..r {
            let c = if a == axis { i } else { coord[a] };
            off += c * strides[a] as usize;
        }
        out.push(off);
        for a in (0..r).rev() {
            coord[a] += 1;
            if coord[a] < idx_dims[a] {
                break;
            }
            coord[a] = 0;
        }
    }
    out
}

/// Gathers `inner`-element blocks of `x` starting at `offs` into a tensor of `shape`.
pub(crate) fn gather_blocks(
    ctx: &Ctx<'_>,
    x: &Tensor,
    shape: &[i64],
    offs: &[usize],
    inner: usize,
) -> Result<Tensor, Error> {
    if offs.iter().any(|&o| o + inner > x.len()) {
        return Err(Error::invalid("a gathered block lies outside the data"));
    }
    crate::dispatch_move!(x.elem(), T => {
        let src = T::elems_of(x)?;
        T::new_tensor(ctx, x.elem(), shape, |out| {
            if inner == 0 {
                return;
            }
            for (o, &s) in out.chunks_mut(inner).zip(offs) {
                o.clone_from_slice(&src[s..s + inner]);
            }
        })
    })
}
