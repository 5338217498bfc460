//! MatMulNBits (`com.microsoft`): `Y = A ⋅ Wᵀ + bias` with W `[N, K]` stored
//! as 2-, 4- or 8-bit integers in blocks of `block_size` along K, packed low
//! bits first, each block with a float scale and a zero point (packed like
//! the weights, float, or 2^(bits−1) when absent); `g_idx` maps rows of K to
//! blocks. Constant weights are dequantized once at session creation. With
//! `accuracy_level = 4` onnxruntime quantizes A to int8 per row and block
//! (symmetric, round half to even) before the product; so does this kernel,
//! where onnxruntime does (constant 4- or 8-bit weights, no g_idx, no float
//! zero points), then multiplies the rounded A in float.

use std::sync::Arc;

use ort_core::ElemType::F32;
use ort_core::{Error, Tensor, Value};

use super::unpack;
use crate::kernel::{input, one, opt_input, ConstId, Ctx, Kernel, NodeInfo, Outputs};
use crate::ops::nn::blas::{gemm, Mat};

struct MatMulNBits {
    k: usize,
    n: usize,
    bits: usize,
    block: usize,
    /// A is quantized to int8 blocks (accuracy level 4), with constant weights.
    int8_a: bool,
    /// W `[N, K]` dequantized at session creation, and the weights it came from.
    weights: Option<(Arc<Vec<f32>>, ConstId)>,
}

impl MatMulNBits {
    /// W `[N, K]` in float from inputs 1.. (B, scales, zero points, g_idx).
    fn dequantize(&self, inputs: &[Option<&Value>]) -> Result<Vec<f32>, Error> {
        let (k, n, bits, bs) = (self.k, self.n, self.bits, self.block);
        let kb = k.div_ceil(bs);
        let b = input(inputs, 1)?.as_slice::<u8>()?;
        let row = kb * bs * bits / 8;
        if b.len() != n * row {
            return Err(Error::invalid(format!(
                "B needs N · blocks · block bytes = {n} · {kb} · {} bytes, got {}",
                bs * bits / 8,
                b.len()
            )));
        }
        let scales = input(inputs, 2)?.as_slice::<f32>()?;
        if scales.len() != n * kb {
            return Err(Error::invalid(format!(
                "scales need N · blocks = {} values, got {}",
                n * kb,
                scales.len()
            )));
        }
        let g_idx = opt_input(inputs, 4)?
            .map(|t| t.as_slice::<i32>())
            .transpose()?;
        if let Some(g) = g_idx {
            if g.len() < k || g[..k].iter().any(|&x| x < 0 || x as usize >= kb) {
                return Err(Error::invalid(format!(
                    "g_idx needs K = {k} block numbers below {kb}"
                )));
            }
        }
        let blk = |kk: usize| g_idx.map_or(kk / bs, |g| g[kk] as usize);
        let default_zp = (1u32 << (bits - 1)) as f32;
        // The zero point of (row, block).
        let zp: Box<dyn Fn(usize, usize) -> f32> = match opt_input(inputs, 3)? {
            None => Box::new(|_, _| default_zp),
            Some(z) if z.elem() == F32 => {
                let zv = z.as_slice::<f32>()?;
                if zv.len() != n * kb {
                    return Err(Error::invalid(format!(
                        "float zero_points need {} values, got {}",
                        n * kb,
                        zv.len()
                    )));
                }
                Box::new(move |r, c| zv[r * kb + c])
            }
            Some(z) => {
                let zv = z.as_slice::<u8>()?;
                let per_row = (kb * bits).div_ceil(8);
                if zv.len() != n * per_row {
                    return Err(Error::invalid(format!(
                        "packed zero_points need N · {per_row} bytes, got {}",
                        zv.len()
                    )));
                }
                Box::new(move |r, c| unpack(&zv[r * per_row..], c, bits) as f32)
            }
        };
        let mut w = vec![0.0f32; n * k];
        for (r, wr) in w.chunks_mut(k.max(1)).enumerate() {
            let packed = &b[r * row..][..row];
            for (kk, o) in wr.iter_mut().enumerate() {
                let c = blk(kk);
                *o = (unpack(packed, kk, bits) as f32 - zp(r, c)) * scales[r * kb + c];
            }
        }
        Ok(w)
    }
}

/// A's rows quantized to int8 per block of `bs`: the values (times
/// 127/max|a|, rounded half to even, as MLAS does) and each block's scale
/// max|a|/127.
fn int8_blocks(a: &[f32], k: usize, bs: usize) -> (Vec<i8>, Vec<f32>) {
    let mut q = vec![0i8; a.len()];
    let mut scales = Vec::with_capacity(a.len().div_ceil(bs));
    for (row, qrow) in a.chunks(k.max(1)).zip(q.chunks_mut(k.max(1))) {
        for (blk, qb) in row.chunks(bs).zip(qrow.chunks_mut(bs)) {
            let amax = blk.iter().fold(0.0f32, |m, &v| m.max(v.abs()));
            scales.push(amax / 127.0);
            let inv = if amax == 0.0 { 0.0 } else { 127.0 / amax };
            for (q, &v) in qb.iter_mut().zip(blk) {
                *q = (v * inv).round_ties_even() as i8;
            }
        }
    }
    (q, scales)
}

/// A with each row's blocks of `bs` quantized to int8 and back, as
/// onnxruntime's int8 kernel sees it.
fn int8_rounded(a: &[f32], k: usize, bs: usize) -> Vec<f32> {
    let (q, scales) = int8_blocks(a, k, bs);
    let kb = k.div_ceil(bs);
    q.iter()
        .enumerate()
        .map(|(i, &v)| v as f32 * scales[i / k * kb + i % k / bs])
        .collect()
}

impl Kernel for MatMulNBits {
    fn compute(&self, inputs: &[Option<&Value>], ctx: &Ctx<'_>) -> Outputs {
        let a = input(inputs, 0)?;
        let (k, n) = (self.k, self.n);
        if a.shape().last().copied() != Some(k as i64) {
            return Err(Error::invalid(format!(
                "A's last dimension must be K = {k}, got shape {:?}",
                a.shape()
            )));
        }
        let owned;
        let (w, int8_a): (&[f32], bool) = match &self.weights {
            Some((w, id)) if id.matches(input(inputs, 1)?) => (w, self.int8_a),
            _ => {
                owned = self.dequantize(inputs)?;
                (&owned, false)
            }
        };
        let av = a.as_slice::<f32>()?;
        let rounded;
        let av = if int8_a {
            rounded = int8_rounded(av, k, self.block);
            &rounded[..]
        } else {
            av
        };
        let m = av.len() / k.max(1);
        let bias = opt_input(inputs, 5)?
            .map(|t| t.as_slice::<f32>())
            .transpose()?;
        if bias.is_some_and(|b| b.len() != n) {
            return Err(Error::invalid(format!("bias needs N = {n} values")));
        }
        let mut shape = a.shape().to_vec();
        *shape.last_mut().expect("A has K") = n as i64;
        let y = ctx.tensor(&shape, |o: &mut [f32]| {
            // Wᵀ read in place: element (kk, j) of the K×N operand is w[j·K + kk].
            let wt = Mat {
                data: w,
                rs: 1,
                cs: k,
            };
            gemm(
                (m, n, k),
                Mat::rows(av, k),
                wt,
                o,
                n,
                1.0,
                false,
                ctx.threads,
            );
            if let Some(b) = bias {
                for r in o.chunks_mut(n.max(1)) {
                    r.iter_mut().zip(b).for_each(|(o, &b)| *o += b);
                }
            }
        })?;
        one(y)
    }
}

fn build(info: &NodeInfo<'_, '_>) -> Result<Box<dyn Kernel>, Error> {
    let (k, n) = (info.int("K", 0)?, info.int("N", 0)?);
    let bits = info.int("bits", 4)?;
    let block = info.int("block_size", 0)?;
    if k <= 0 || n <= 0 {
        return Err(Error::invalid(format!(
            "K and N must be positive, got {k} and {n}"
        )));
    }
    if ![2, 4, 8].contains(&bits) {
        return Err(Error::invalid(format!(
            "bits must be 2, 4 or 8, got {bits}"
        )));
    }
    if block < 16 || (block & (block - 1)) != 0 {
        return Err(Error::invalid(format!(
            "block_size must be a power of 2 of at least 16, got {block}"
        )));
    }
    if info.input_type(4).is_some() && bits != 4 {
        return Err(Error::not_implemented(
            "g_idx with other than 4 bits (onnxruntime refuses it too)",
        ));
    }
    let mut kernel = MatMulNBits {
        k: k as usize,
        n: n as usize,
        bits: bits as usize,
        block: block as usize,
        int8_a: false,
        weights: None,
    };
    let constant = |i: usize| info.input_name(i).is_none() || info.constant_input(i).is_some();
    if (1..5).all(constant) {
        let vals: Vec<Option<Value>> = (0..5)
            .map(|i| {
                info.constant_input(i)
                    .map(|t: &Tensor| Value::Tensor(t.clone()))
            })
            .collect();
        let refs: Vec<Option<&Value>> = vals.iter().map(|v| v.as_ref()).collect();
        let w = kernel.dequantize(&refs)?;
        let id = info
            .constant_with_id(1)
            .map(|(_, id)| id)
            .ok_or_else(|| Error::invalid("B is not a tensor"))?;
        kernel.weights = Some((Arc::new(w), id));
        let float_zp = info.input_type(3) == Some(F32);
        kernel.int8_a = info.int("accuracy_level", 0)? == 4
            && matches!(bits, 4 | 8)
            && info.input_type(4).is_none()
            && !float_zp;
    }
    Ok(Box::new(kernel))
}

crate::register!("MatMulNBits", "com.microsoft", [1, 1], &[F32], 0, build);
