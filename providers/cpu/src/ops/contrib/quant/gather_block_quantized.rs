//! GatherBlockQuantized (`com.microsoft`): Gather along `gather_axis` of a
//! block-quantized tensor, dequantizing only the gathered values:
//! `(q − zero_point) · scale`, one scale per block of `block_size` along
//! `quantize_axis`. Data is uint8 packing 2, 4 or 8 bits along the last axis
//! (low bits first; gather axis 0; default zero point 2^(bits−1)), or int4 /
//! uint4 (any axes, default zero point 0). Indices out of range give zeros,
//! as in onnxruntime.

use ort_core::ElemType::{I4, U4, U8};
use ort_core::{Error, Value};

use super::unpack;
use crate::kernel::{input, one, opt_input, Ctx, Kernel, NodeInfo, Outputs};
use crate::ops::quant::ints;
use crate::util::axis;

struct GatherBlockQuantized {
    gather_axis: i64,
    quantize_axis: i64,
    block: usize,
    bits: usize,
}

impl Kernel for GatherBlockQuantized {
    fn compute(&self, inputs: &[Option<&Value>], ctx: &Ctx<'_>) -> Outputs {
        let (data, idx, scales) = (input(inputs, 0)?, input(inputs, 1)?, input(inputs, 2)?);
        let packed = data.elem() == U8;
        let bits = if packed { self.bits } else { 4 };
        // The logical shape: a packed last axis holds 8/bits values per byte.
        let mut shape: Vec<usize> = data.shape().iter().map(|&d| d as usize).collect();
        let rank = shape.len();
        if rank == 0 {
            return Err(Error::invalid("data must have rank 1 or more"));
        }
        let (ga, qa) = (
            axis(self.gather_axis, rank)?,
            axis(self.quantize_axis, rank)?,
        );
        if packed {
            if ga != 0 || qa != rank - 1 {
                return Err(Error::invalid(
                    "packed uint8 data needs gather_axis 0 and quantize_axis last",
                ));
            }
            shape[rank - 1] *= 8 / bits;
        }
        let sv = scales.as_slice::<f32>()?;
        let nb = shape[qa].div_ceil(self.block);
        let mut want: Vec<usize> = shape.clone();
        want[qa] = nb;
        if scales
            .shape()
            .iter()
            .map(|&d| d as usize)
            .ne(want.iter().copied())
        {
            return Err(Error::invalid(format!(
                "scales must have shape {want:?} (data {:?}, block_size {}), got {:?}",
                data.shape(),
                self.block,
                scales.shape()
            )));
        }
        let raw: Vec<i32> = if packed { Vec::new() } else { ints(data)? };
        let bytes = if packed {
            data.as_slice::<u8>()?
        } else {
            &[][..]
        };
        let zps = opt_input(inputs, 3)?;
        let zp_packed = zps
            .filter(|_| packed)
            .map(|z| z.as_slice::<u8>())
            .transpose()?;
        let zp_ints = match zps {
            Some(z) if !packed => Some(ints(z)?),
            _ => None,
        };
        let default_zp = if packed { 1 << (bits - 1) } else { 0 };
        let zp_row = (nb * bits).div_ceil(8);
        let stride_q: usize = shape[qa + 1..].iter().product();
        let dim_q = shape[qa];
        // Dequantized element at flat (logical) index e.
        let value = |e: usize| -> f32 {
            let (outer, c, inner) = (e / (dim_q * stride_q), e / stride_q % dim_q, e % stride_q);
            let s = (outer * nb + c / self.block) * stride_q + inner;
            let q = if packed {
                unpack(bytes, e, bits) as i32
            } else {
                raw[e]
            };
            let z = match (&zp_packed, &zp_ints) {
                (Some(zp), _) => unpack(&zp[s / nb * zp_row..], s % nb, bits) as i32,
                (_, Some(zp)) => zp[s],
                _ => default_zp,
            };
            (q - z) as f32 * sv[s]
        };
        let ind = ints_of(idx)?;
        let (outer, dim, inner): (usize, usize, usize) = (
            shape[..ga].iter().product(),
            shape[ga],
            shape[ga + 1..].iter().product(),
        );
        let mut out_shape: Vec<i64> = shape[..ga].iter().map(|&d| d as i64).collect();
        out_shape.extend_from_slice(idx.shape());
        out_shape.extend(shape[ga + 1..].iter().map(|&d| d as i64));
        one(ctx.tensor(&out_shape, |o: &mut [f32]| {
            for ob in 0..outer {
                for (ii, &i) in ind.iter().enumerate() {
                    let at = (ob * ind.len() + ii) * inner;
                    let dst = &mut o[at..at + inner];
                    let i = if i < 0 { i + dim as i64 } else { i };
                    if i < 0 || i as usize >= dim {
                        dst.fill(0.0);
                        continue;
                    }
                    let base = (ob * dim + i as usize) * inner;
                    for (r, d) in dst.iter_mut().enumerate() {
                        *d = value(base + r);
                    }
                }
            }
        })?)
    }
}

/// Indices (int32 or int64) as i64.
fn ints_of(t: &ort_core::Tensor) -> Result<Vec<i64>, Error> {
    Ok(match t.elem() {
        ort_core::ElemType::I64 => t.as_slice::<i64>()?.to_vec(),
        _ => t.as_slice::<i32>()?.iter().map(|&v| v as i64).collect(),
    })
}

fn build(info: &NodeInfo<'_, '_>) -> Result<Box<dyn Kernel>, Error> {
    let block = info.int("block_size", 128)?;
    let bits = info.int("bits", 4)?;
    if block < 16 || (block & (block - 1)) != 0 {
        return Err(Error::invalid(format!(
            "block_size must be a power of 2 of at least 16, got {block}"
        )));
    }
    if ![2, 4, 8].contains(&bits) {
        return Err(Error::invalid(format!(
            "bits must be 2, 4 or 8, got {bits}"
        )));
    }
    Ok(Box::new(GatherBlockQuantized {
        gather_axis: info.int("gather_axis", 0)?,
        quantize_axis: info.int("quantize_axis", 1)?,
        block: block as usize,
        bits: bits as usize,
    }))
}

crate::register!(
    "GatherBlockQuantized",
    "com.microsoft",
    [1, 1],
    &[U8, I4, U4],
    0,
    build
);
