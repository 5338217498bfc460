//! QuantizedWeightGemm (fused domain): FusedGemm whose B is int8 or uint8,
//! dequantized as DequantizeLinear does (`docs/fused-ops.md`). With one or two
//! rows of A (a classifier at batch 1, a decoder step) the product is
//! bandwidth-bound, so it reads the integer weights as they are, a quarter of
//! the float bytes, in dot products over K; with more rows it dequantizes B and
//! runs the float Gemm.

use ort_core::ElemType::{F32, I8, U8};
use ort_core::{Error, Tensor, Value};

use crate::kernel::{input, one, opt_input, ConstId, Ctx, Kernel, NodeInfo, Outputs};
use crate::ops::fused::activation::finish;
use crate::ops::nn::gemm::{c_strides, Gemm};
use crate::ops::nn::PAR_WORK;
use crate::ops::quant::QInt;
use crate::ops::LATEST;
use crate::parallel::for_each_chunk;

/// Up to this many rows of A, the dot products over the integer weights.
const SMALL_M: usize = 2;

struct QuantizedWeightGemm {
    gemm: Gemm,
    /// B transposed to [N, K] at session creation, when it is a constant [K, N].
    rows: Option<(Tensor, ConstId)>,
}

fn build(info: &NodeInfo<'_, '_>) -> Result<Box<dyn Kernel>, Error> {
    let gemm = Gemm::parse(info, true)?;
    let rows = match info.constant_with_id(1) {
        Some((b, id)) if !gemm.trans_b && b.shape().len() == 2 => {
            let (k, n) = (b.shape()[0] as usize, b.shape()[1] as usize);
            let t = match b.elem() {
                I8 => Tensor::from_vec(&[n as i64, k as i64], transpose(b.as_slice::<i8>()?, k, n)),
                U8 => Tensor::from_vec(&[n as i64, k as i64], transpose(b.as_slice::<u8>()?, k, n)),
                _ => return Ok(Box::new(QuantizedWeightGemm { gemm, rows: None })),
            }?;
            Some((t, id))
        }
        _ => None,
    };
    Ok(Box::new(QuantizedWeightGemm { gemm, rows }))
}

/// `src` (rows × cols) transposed.
fn transpose<T: Copy>(src: &[T], rows: usize, cols: usize) -> Vec<T> {
    (0..cols)
        .flat_map(|c| (0..rows).map(move |r| src[r * cols + c]))
        .collect()
}

/// B's scale and zero point as one (scale, zero point) per column of the
/// product: both of length 1 (per tensor) or N.
fn params<T: QInt>(s: &Tensor, z: Option<&Tensor>, n: usize) -> Result<Vec<(f32, f32)>, Error> {
    let scales = s.as_slice::<f32>()?;
    let zps: Vec<f32> = match z {
        Some(z) => z
            .as_slice::<T>()?
            .iter()
            .map(|v| v.to_i32() as f32)
            .collect(),
        None => vec![0.0; scales.len()],
    };
    if !(scales.len() == 1 || scales.len() == n) || zps.len() != scales.len() {
        return Err(Error::invalid(format!(
            "B_scale {:?} and B_zero_point {:?} must both have 1 or N = {n} values",
            s.shape(),
            z.map(|z| z.shape().to_vec())
        )));
    }
    let per = |j: usize| (scales[j], zps[j]);
    Ok((0..n)
        .map(|j| per(if scales.len() == 1 { 0 } else { j }))
        .collect())
}

impl Kernel for QuantizedWeightGemm {
    fn compute(&self, inputs: &[Option<&Value>], ctx: &Ctx<'_>) -> Outputs {
        let (a, b, c) = (input(inputs, 0)?, input(inputs, 1)?, opt_input(inputs, 2)?);
        let (s, z) = (input(inputs, 3)?, opt_input(inputs, 4)?);
        if a.elem() != F32 || s.elem() != F32 || c.is_some_and(|c| c.elem() != F32) {
            return Err(Error::invalid("A, C and B_scale must be float32"));
        }
        if z.is_some_and(|z| z.elem() != b.elem()) {
            return Err(Error::invalid("B_zero_point must have B's type"));
        }
        let (m, n, k) = self.gemm.dims(a.shape(), b.shape())?;
        match b.elem() {
            I8 => self.run::<i8>(inputs, (m, n, k), params::<i8>(s, z, n)?, ctx),
            U8 => self.run::<u8>(inputs, (m, n, k), params::<u8>(s, z, n)?, ctx),
            e => Err(Error::invalid(format!("B must be int8 or uint8, got {e}"))),
        }
    }
}

impl QuantizedWeightGemm {
    fn run<T: QInt + Sync>(
        &self,
        inputs: &[Option<&Value>],
        (m, n, k): (usize, usize, usize),
        per: Vec<(f32, f32)>,
        ctx: &Ctx<'_>,
    ) -> Outputs {
        let (a, b) = (input(inputs, 0)?, input(inputs, 1)?);
        let bq = b.as_slice::<T>()?;
        if m > SMALL_M {
            // B dequantized in its own layout, then the float Gemm.
            let cols = b.shape()[1] as usize;
            let bf: Vec<f32> = bq
                .iter()
                .enumerate()
                .map(|(i, &q)| {
                    let j = if self.gemm.trans_b {
                        i / cols
                    } else {
                        i % cols
                    };
                    let (s, z) = per[j];
                    (q.to_i32() as f32 - z) * s
                })
                .collect();
            let bf = Value::Tensor(Tensor::from_vec(b.shape(), bf)?);
            return self.gemm.compute(&[inputs[0], Some(&bf), inputs[2]], ctx);
        }
        let transposed;
        let w: &[T] = match &self.rows {
            _ if self.gemm.trans_b => bq,
            Some((t, id)) if id.matches(b) => t.as_slice::<T>()?,
            _ => {
                transposed = transpose(bq, k, n);
                &transposed
            }
        };
        let ad = a.as_slice::<f32>()?;
        let a_rows: Vec<f32> = if self.gemm.trans_a {
            (0..m)
                .flat_map(|i| (0..k).map(move |kk| ad[kk * m + i]))
                .collect()
        } else {
            ad.to_vec()
        };
        let c = opt_input(inputs, 2)?.filter(|_| self.gemm.beta != 0.0);
        let cs = c.map(|c| c_strides(c, m, n)).transpose()?;
        let cd = c.map(|c| c.as_slice::<f32>()).transpose()?;
        let (alpha, beta) = (self.gemm.alpha, self.gemm.beta);
        let threads = if n * k >= PAR_WORK * 8 {
            ctx.threads
        } else {
            1
        };
        let chunk = n.div_ceil(4 * threads).next_multiple_of(4).max(16);
        one(ctx.tensor::<f32>(&[m as i64, n as i64], |y| {
            for (i, yi) in y.chunks_mut(n.max(1)).enumerate() {
                let ai = &a_rows[i * k..(i + 1) * k];
                for_each_chunk(threads, yi, chunk, |ci, yc| {
                    let j0 = ci * chunk;
                    let row = |j: usize| &w[j * k..(j + 1) * k];
                    let mut j = 0;
                    while j < yc.len() {
                        let r = (yc.len() - j).min(4);
                        let js: [usize; 4] = std::array::from_fn(|q| j0 + j + q.min(r - 1));
                        let zs = js.map(|jj| per[jj].1);
                        let d = dots(ai, js.map(row), zs);
                        for q in 0..r {
                            let jj = j0 + j + q;
                            let bias = match (cd, cs) {
                                (Some(cd), Some((rs, cs))) => beta * cd[i * rs + jj * cs],
                                _ => 0.0,
                            };
                            yc[j + q] = alpha * per[jj].0 * d[q] + bias;
                        }
                        j += r;
                    }
                });
            }
            finish(y, None, self.gemm.act, ctx.threads);
        })?)
    }
}

/// `Σ_k a[k]·(w_r[k] − z_r)` for four rows of 8-bit weights.
fn dots<T: QInt>(a: &[f32], w: [&[T]; 4], z: [f32; 4]) -> [f32; 4] {
    assert!(std::mem::size_of::<T>() == 1 && w.iter().all(|w| w.len() == a.len()));
    #[cfg(target_arch = "x86_64")]
    if std::arch::is_x86_feature_detected!("avx512f") {
        // SAFETY: the CPU has AVX-512F (checked just above); the rows are as
        // long as `a` (asserted above).
        return unsafe { dots_avx512(a, w, z) };
    }
    #[cfg(target_arch = "x86_64")]
    if std::arch::is_x86_feature_detected!("avx2") && std::arch::is_x86_feature_detected!("fma") {
        // SAFETY: the CPU has AVX2 and FMA (checked just above); the rows are
        // as long as `a` (asserted above).
        return unsafe { dots_avx2(a, w, z) };
    }
    std::array::from_fn(|r| tail(a, w[r], z[r], 0, 0.0))
}

/// The dot product's terms from `from` on, added to `sum`.
fn tail<T: QInt>(a: &[f32], w: &[T], z: f32, from: usize, sum: f32) -> f32 {
    a[from..]
        .iter()
        .zip(&w[from..])
        .fold(sum, |s, (&x, &q)| x.mul_add(q.to_i32() as f32 - z, s))
}

/// `dots` on 16 lanes: four accumulators, widened weights, one FMA each.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f")]
unsafe fn dots_avx512<T: QInt>(a: &[f32], w: [&[T]; 4], z: [f32; 4]) -> [f32; 4] {
    use std::arch::x86_64::*;
    let whole = a.len() / 16 * 16;
    let zv = z.map(|v| _mm512_set1_ps(v));
    let mut acc = [_mm512_setzero_ps(); 4];
    for k0 in (0..whole).step_by(16) {
        if k0 % 64 == 0 {
            // The weights stream from memory once per run, and four rows at
            // a time are too few streams to hide its latency: fetch the same
            // line of the next four rows (the callers' rows lie `a.len()`
            // apart), a whole pass over these rows ahead. A prefetch never
            // faults, so the addresses may lie past the weights.
            for row in &w {
                let next = row.as_ptr().wrapping_add(4 * a.len() + k0);
                _mm_prefetch::<_MM_HINT_T0>(next as *const i8);
            }
        }
        // SAFETY: k0 + 16 <= whole <= a.len(), and every row is as long as `a`.
        unsafe {
            let av = _mm512_loadu_ps(a.as_ptr().add(k0));
            for r in 0..4 {
                let q = _mm_loadu_si128(w[r].as_ptr().add(k0) as *const __m128i);
                let wi = if T::SIGNED {
                    _mm512_cvtepi8_epi32(q)
                } else {
                    _mm512_cvtepu8_epi32(q)
                };
                let wf = _mm512_sub_ps(_mm512_cvtepi32_ps(wi), zv[r]);
                acc[r] = _mm512_fmadd_ps(av, wf, acc[r]);
            }
        }
    }
    std::array::from_fn(|r| tail(a, w[r], z[r], whole, _mm512_reduce_add_ps(acc[r])))
}

/// `dots` on 8 lanes, as [`dots_avx512`] does it on 16.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
unsafe fn dots_avx2<T: QInt>(a: &[f32], w: [&[T]; 4], z: [f32; 4]) -> [f32; 4] {
    use std::arch::x86_64::*;
    let whole = a.len() / 8 * 8;
    let zv = z.map(|v| _mm256_set1_ps(v));
    let mut acc = [_mm256_setzero_ps(); 4];
    for k0 in (0..whole).step_by(8) {
        if k0 % 64 == 0 {
            // As in dots_avx512: the next four rows' line, a pass ahead.
            for row in &w {
                let next = row.as_ptr().wrapping_add(4 * a.len() + k0);
                _mm_prefetch::<_MM_HINT_T0>(next as *const i8);
            }
        }
        // SAFETY: k0 + 8 <= whole <= a.len(), and every row is as long as `a`.
        unsafe {
            let av = _mm256_loadu_ps(a.as_ptr().add(k0));
            for r in 0..4 {
                let q = _mm_loadl_epi64(w[r].as_ptr().add(k0) as *const __m128i);
                let wi = if T::SIGNED {
                    _mm256_cvtepi8_epi32(q)
                } else {
                    _mm256_cvtepu8_epi32(q)
                };
                let wf = _mm256_sub_ps(_mm256_cvtepi32_ps(wi), zv[r]);
                acc[r] = _mm256_fmadd_ps(av, wf, acc[r]);
            }
        }
    }
    std::array::from_fn(|r| {
        let v = acc[r];
        let h = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps::<1>(v));
        let h = _mm_add_ps(h, _mm_movehl_ps(h, h));
        let h = _mm_add_ss(h, _mm_shuffle_ps::<1>(h, h));
        tail(a, w[r], z[r], whole, _mm_cvtss_f32(h))
    })
}

crate::register!(
    "QuantizedWeightGemm",
    "ai.ort_rs.fused",
    [1, LATEST],
    &[F32],
    0,
    build
);
