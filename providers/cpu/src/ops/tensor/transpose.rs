//! Transpose: a strided copy of the permuted view, or, when the input's unit-stride axis
//! is not last in the output, a copy in 32×32 tiles run in parallel over slabs.

use ort_core::{Error, Value};

use super::strided;
use crate::kernel::{input, one, Ctx, Kernel, Outputs};
use crate::ops::{ANY, LATEST};
use crate::util::{dims, simplify_strided, strides_of, Movable, PAR_MIN_LEN};

struct Transpose {
    perm: Option<Vec<i64>>,
}

/// Tile edge for the blocked path: a tile of each side stays in L1.
const TILE: usize = 32;

impl Kernel for Transpose {
    fn compute(&self, inputs: &[Option<&Value>], ctx: &Ctx<'_>) -> Outputs {
        let x = input(inputs, 0)?;
        let r = x.rank();
        let perm: Vec<usize> = match &self.perm {
            None => (0..r).rev().collect(),
            Some(p) => {
                let p = super::norm_axes(p, r)?;
                if p.len() != r {
                    return Err(Error::invalid(format!(
                        "perm {p:?} does not match rank {r}"
                    )));
                }
                p
            }
        };
        let in_dims = dims(x.shape());
        let in_strides = strides_of(&in_dims);
        let shape: Vec<usize> = perm.iter().map(|&p| in_dims[p]).collect();
        let strides: Vec<isize> = perm.iter().map(|&p| in_strides[p]).collect();
        let out_shape: Vec<i64> = perm.iter().map(|&p| x.shape()[p]).collect();
        let (sh, st) = simplify_strided(&shape, &strides);
        // When the output's last dimension strides through the input, copying row by
        // row reads one element per cache line; swap tiles instead.
        match st.iter().position(|&s| s == 1) {
            Some(p) if st.len() >= 2 && p != st.len() - 1 => {
                one(crate::dispatch_move!(x.elem(), T => {
                    let src = T::elems_of(x)?;
                    T::new_tensor(ctx, x.elem(), &out_shape, |out| tiled(&src, &sh, &st, p, out))
                })?)
            }
            _ => one(strided(ctx, x, &out_shape, 0, &shape, &strides)?),
        }
    }
}

/// Fills `out` (row-major over `sh`) from `src` at strides `st`, where dimension `p`
/// has source stride 1 and the last one a larger stride, in TILE×TILE blocks of
/// (p, last). Runs in parallel over slabs of the first dimension.
fn tiled<T: Movable>(src: &[T], sh: &[usize], st: &[isize], p: usize, out: &mut [T]) {
    let m = sh.len();
    let ost = strides_of(sh);
    // A slab is TILE rows of dimension 0 when that is p (so tiles stay whole), else one.
    let rows = if p == 0 { TILE } else { 1 };
    let slab = rows * ost[0] as usize;
    let run = |k: usize, chunk: &mut [T]| {
        let mut sub = sh.to_vec();
        sub[0] = rows.min(sh[0] - k * rows);
        let base = (k * rows) as isize * st[0];
        // Odometer over every dimension but p and the last.
        let others: Vec<usize> = (0..m - 1).filter(|&d| d != p).collect();
        let mut idx = vec![0usize; m];
        let (np, nl, sl, op) = (sub[p], sub[m - 1], st[m - 1], ost[p] as usize);
        loop {
            let s0 = base
                + others
                    .iter()
                    .map(|&d| idx[d] as isize * st[d])
                    .sum::<isize>();
            let o0: usize = others.iter().map(|&d| idx[d] * ost[d] as usize).sum();
            for pb in (0..np).step_by(TILE) {
                for lb in (0..nl).step_by(TILE) {
                    for i in pb..(pb + TILE).min(np) {
                        let row = &mut chunk[o0 + i * op..];
                        for j in lb..(lb + TILE).min(nl) {
                            row[j] = src[(s0 + i as isize + j as isize * sl) as usize].clone();
                        }
                    }
                }
            }
            let mut carry = true;
            for &d in others.iter().rev() {
                idx[d] += 1;
                if idx[d] < sub[d] {
                    carry = false;
                    break;
                }
                idx[d] = 0;
            }
            if carry {
                break;
            }
        }
    };
    if out.len() >= PAR_MIN_LEN && sh[0] > rows && crate::util::in_pool() {
        crate::parallel::for_each_chunk(crate::parallel::pool_threads(), out, slab, run);
    } else {
        out.chunks_mut(slab)
            .enumerate()
            .for_each(|(k, c)| run(k, c));
    }
}

crate::register!("Transpose", [1, LATEST], ANY, |n| Ok(Box::new(Transpose {
    perm: n.ints("perm")?
})));
