//! Strided copies: strides, merging contiguous dimensions, gathering a strided
//! (broadcast or reversed) source into a dense output.

use crate::parallel::{for_each_chunk, pool_threads};

use super::{in_pool, PAR_MIN_LEN as PAR_MIN};

/// Row-major strides of `shape`, in elements.
pub fn strides_of(shape: &[usize]) -> Vec<isize> {
    let mut s = vec![1isize; shape.len()];
    for i in (0..shape.len().saturating_sub(1)).rev() {
        s[i] = s[i + 1] * shape[i + 1] as isize;
    }
    s
}

/// Drops unit dimensions and merges neighbours that are contiguous in the source, so
/// strided loops run over as few, as long rows as possible.
pub fn simplify_strided(shape: &[usize], strides: &[isize]) -> (Vec<usize>, Vec<isize>) {
    let (mut sh, mut st): (Vec<usize>, Vec<isize>) = (Vec::new(), Vec::new());
    for (&d, &s) in shape.iter().zip(strides) {
        if d == 1 {
            continue;
        }
        match (sh.last_mut(), st.last_mut()) {
            (Some(pd), Some(ps)) if *ps == s * d as isize => {
                *pd *= d;
                *ps = s;
            }
            _ => {
                sh.push(d);
                st.push(s);
            }
        }
    }
    (sh, st)
}

/// Fills `out` (row-major over `shape`) with `src[base + Σ idx[i] * strides[i]]`.
/// Strides may be 0 (broadcast) or negative (reversed); large outputs are filled in
/// parallel by rows. The caller guarantees every index is in bounds.
pub fn strided_copy<T: Clone + Send + Sync>(
    src: &[T],
    base: isize,
    shape: &[usize],
    strides: &[isize],
    out: &mut [T],
) {
    if out.is_empty() {
        return;
    }
    let (sh, st) = simplify_strided(shape, strides);
    let Some((&n, outer)) = sh.split_last() else {
        out[0] = src[base as usize].clone();
        return;
    };
    let s = *st.last().unwrap();
    let outer_st = &st[..st.len() - 1];
    let rows = |first_row: usize, chunk: &mut [T]| {
        // Odometer over the outer dimensions, starting at `first_row`.
        let mut idx = vec![0usize; outer.len()];
        let mut r = first_row;
        for i in (0..outer.len()).rev() {
            idx[i] = r % outer[i];
            r /= outer[i];
        }
        let mut off = base
            + idx
                .iter()
                .zip(outer_st)
                .map(|(&i, &s)| i as isize * s)
                .sum::<isize>();
        for row in chunk.chunks_mut(n) {
            let o = off as usize;
            match s {
                1 => row.clone_from_slice(&src[o..o + n]),
                0 => row.fill(src[o].clone()),
                _ => row
                    .iter_mut()
                    .enumerate()
                    .for_each(|(j, v)| *v = src[(off + j as isize * s) as usize].clone()),
            }
            for i in (0..outer.len()).rev() {
                idx[i] += 1;
                off += outer_st[i];
                if idx[i] < outer[i] {
                    break;
                }
                off -= outer_st[i] * outer[i] as isize;
                idx[i] = 0;
            }
        }
    };
    let total_rows = out.len() / n;
    if out.len() >= PAR_MIN && total_rows > 1 && in_pool() {
        let per = (PAR_MIN / 4 / n).max(1);
        for_each_chunk(pool_threads(), out, per * n, |c, chunk| {
            rows(c * per, chunk)
        });
    } else {
        rows(0, out);
    }
}
