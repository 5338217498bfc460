//! Integer matrix products (MatMulInteger, QLinearMatMul, QGemm) with numpy
//! batch broadcasting, computed exactly in f64.

use ort_core::Error;

use crate::util::{broadcast_all, gemm_strided, MatRef};

/// For each flat index of `dst`, the flat index of `src` that numpy broadcasting reads.
pub(crate) fn broadcast_map(src: &[i64], dst: &[i64]) -> Result<Vec<usize>, Error> {
    if src.len() > dst.len() || ort_core::kit::broadcast(src, dst)? != dst {
        return Err(Error::invalid(format!(
            "shape {src:?} cannot be broadcast to {dst:?}"
        )));
    }
    let strides = ort_core::kit::broadcast_strides(src, dst);
    let mut map = vec![0usize];
    for (&d, &st) in dst.iter().zip(&strides) {
        let (d, st) = (d as usize, st as usize);
        map = map
            .iter()
            .flat_map(|&base| (0..d).map(move |j| base + j * st))
            .collect();
    }
    Ok(map)
}

/// How a batched (numpy `matmul`) product lines up its operands.
pub(crate) struct MatmulPlan {
    pub m: usize,
    pub k: usize,
    pub n: usize,
    /// A and B with 1-D operands promoted to matrices.
    pub a_shape: Vec<i64>,
    pub b_shape: Vec<i64>,
    /// For each output matrix: the A and B matrices it multiplies.
    pub pairs: Vec<(usize, usize)>,
    pub out_shape: Vec<i64>,
}

impl MatmulPlan {
    pub fn new(a: &[i64], b: &[i64]) -> Result<MatmulPlan, Error> {
        if a.is_empty() || b.is_empty() {
            return Err(Error::invalid("matmul operands must have rank 1 or more"));
        }
        let a_shape = if a.len() == 1 {
            vec![1, a[0]]
        } else {
            a.to_vec()
        };
        let b_shape = if b.len() == 1 {
            vec![b[0], 1]
        } else {
            b.to_vec()
        };
        let (ra, rb) = (a_shape.len(), b_shape.len());
        let (m, k, k2, n) = (
            a_shape[ra - 2],
            a_shape[ra - 1],
            b_shape[rb - 2],
            b_shape[rb - 1],
        );
        if k != k2 {
            return Err(Error::invalid(format!(
                "matmul shapes {a:?} and {b:?} do not agree"
            )));
        }
        let batch = broadcast_all(&[&a_shape[..ra - 2], &b_shape[..rb - 2]])?;
        let am = broadcast_map(&a_shape[..ra - 2], &batch)?;
        let bm = broadcast_map(&b_shape[..rb - 2], &batch)?;
        let mut out_shape = batch;
        if a.len() > 1 {
            out_shape.push(m);
        }
        if b.len() > 1 {
            out_shape.push(n);
        }
        let (m, k, n) = (m as usize, k as usize, n as usize);
        Ok(MatmulPlan {
            m,
            k,
            n,
            a_shape,
            b_shape,
            pairs: am.into_iter().zip(bm).collect(),
            out_shape,
        })
    }

    /// A per-row parameter of A (zero point or scale: one value, `[M]`, or broadcastable
    /// to A's shape with K as 1), one value per row of every A matrix.
    pub fn rows<T: Copy>(&self, v: &[T], shape: &[i64]) -> Result<Vec<T>, Error> {
        let mut target = self.a_shape.clone();
        let r = target.len();
        target[r - 1] = 1;
        let shape = if shape.len() == 1 && v.len() > 1 {
            vec![shape[0], 1]
        } else {
            shape.to_vec()
        };
        expand(v, &shape, &target)
    }

    /// A per-column parameter of B (one value, `[N]`, or broadcastable to B's shape
    /// with K as 1), one value per column of every B matrix.
    pub fn cols<T: Copy>(&self, v: &[T], shape: &[i64]) -> Result<Vec<T>, Error> {
        let mut target = self.b_shape.clone();
        let r = target.len();
        target[r - 2] = 1;
        expand(v, shape, &target)
    }

    /// All products, as exact f64 sums; `a` and `b` have their zero points removed.
    pub fn run(&self, a: &[f64], b: &[f64], threads: usize) -> Result<Vec<f64>, Error> {
        let (m, k, n) = (self.m, self.k, self.n);
        let mut out = vec![0.0; self.pairs.len() * m * n];
        for (o, &(ia, ib)) in self.pairs.iter().enumerate() {
            let (a, b) = (
                &a[ia * m * k..(ia + 1) * m * k],
                &b[ib * k * n..(ib + 1) * k * n],
            );
            gemm_strided(
                MatRef::rows(a, m, k),
                MatRef::rows(b, k, n),
                &mut out[o * m * n..],
                n,
                false,
                threads,
            )?;
        }
        Ok(out)
    }
}

fn expand<T: Copy>(v: &[T], shape: &[i64], target: &[i64]) -> Result<Vec<T>, Error> {
    let n = target.iter().product::<i64>() as usize;
    if let [x] = v {
        return Ok(vec![*x; n]);
    }
    Ok(broadcast_map(shape, target)?
        .into_iter()
        .map(|i| v[i])
        .collect())
}
