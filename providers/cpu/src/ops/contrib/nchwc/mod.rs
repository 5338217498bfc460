//! onnxruntime's `com.microsoft.nchwc` ops, which its NCHWc layout pass writes
//! into models saved at `ORT_ENABLE_ALL`. Their tensors keep the shape
//! `[N, Cpad, H, W]` but hold their elements as `[N][Cpad/B][H][W][B]`, B the
//! block size of the machine that saved the model (16 with AVX-512, else 8),
//! channels padded up to a multiple of B. Plain ops between them read that
//! memory as it is. The kernels here move to plain NCHW, run this provider's
//! kernels, and move back.

mod conv;
mod pool;
mod reorder_input;
mod reorder_output;
mod upsample;

use ort_core::{Error, GraphView, Tensor};

use crate::kernel::Ctx;

pub(crate) const DOMAIN: &str = "com.microsoft.nchwc";

/// The block size the model was saved with. The weights of its convolutions
/// (output channels padded to a multiple of B) and its ReorderOutput nodes
/// (`channels` against the padded count that reaches them) rule sizes out;
/// when both fit, the file was saved by onnxruntime on a machine like this
/// one, which picks 16 where AVX-512 is present.
pub(super) fn block_size(graph: &GraphView<'_>) -> Result<usize, Error> {
    let padded_out = |name: &str| -> Option<i64> {
        let p = graph
            .nodes
            .iter()
            .find(|n| n.outputs.iter().any(|o| o.as_str() == name))?;
        if p.domain.as_str() != DOMAIN || p.op_type.as_str() != "Conv" {
            return None;
        }
        Some(
            *graph
                .initializer(p.inputs.get(1)?.as_str())?
                .shape()
                .first()?,
        )
    };
    let fits = |b: i64| {
        graph
            .nodes
            .iter()
            .filter(|n| n.domain.as_str() == DOMAIN)
            .all(|n| match n.op_type.as_str() {
                "Conv" => n
                    .inputs
                    .get(1)
                    .and_then(|w| graph.initializer(w.as_str()))
                    .and_then(|w| w.shape().first().copied())
                    .is_none_or(|o| o % b == 0),
                "ReorderOutput" => {
                    let c = match n.attr("channels") {
                        Some(ort_core::AttrValue::Int(c)) => *c,
                        _ => return true,
                    };
                    padded_out(n.inputs[0].as_str()).is_none_or(|p| p == (c + b - 1) / b * b)
                }
                _ => true,
            })
    };
    match (fits(16), fits(8)) {
        (true, false) => Ok(16),
        (false, true) => Ok(8),
        (true, true) => Ok(host_block()),
        (false, false) => Err(Error::invalid(
            "the com.microsoft.nchwc nodes fit neither block size 8 nor 16",
        )),
    }
}

/// What onnxruntime picks on this machine.
fn host_block() -> usize {
    #[cfg(target_arch = "x86_64")]
    if std::arch::is_x86_feature_detected!("avx512f") {
        return 16;
    }
    8
}

/// `[N][C][S]` (`c` channels of `s` elements) as `[N][Cpad/B][S][B]`, zero
/// in the padding channels; `channels_last` reads the input as `[N][S][C]`.
fn block(
    x: &[f32],
    (n, c, s): (usize, usize, usize),
    b: usize,
    channels_last: bool,
    o: &mut [f32],
) {
    let cpad = c.div_ceil(b) * b;
    o.fill(0.0);
    for i in 0..n {
        for ch in 0..c {
            let base = (i * cpad + ch / b * b) * s + ch % b;
            for p in 0..s {
                let src = if channels_last {
                    (i * s + p) * c + ch
                } else {
                    (i * c + ch) * s + p
                };
                o[base + p * b] = x[src];
            }
        }
    }
}

/// The first `c` channels of `[N][Cpad/B][S][B]` as `[N][C][S]` (or
/// `[N][S][C]` with `channels_last`).
fn unblock(
    x: &[f32],
    (n, cpad, s): (usize, usize, usize),
    c: usize,
    b: usize,
    channels_last: bool,
    o: &mut [f32],
) {
    for i in 0..n {
        for ch in 0..c {
            let base = (i * cpad + ch / b * b) * s + ch % b;
            for p in 0..s {
                let dst = if channels_last {
                    (i * s + p) * c + ch
                } else {
                    (i * c + ch) * s + p
                };
                o[dst] = x[base + p * b];
            }
        }
    }
}

/// `[N, Cpad, spatial...]` as numbers: (N, Cpad, spatial size).
fn nchw(t: &Tensor, b: usize) -> Result<(usize, usize, usize), Error> {
    let d = t.shape();
    if d.len() < 3 || !(d[1] as usize).is_multiple_of(b) {
        return Err(Error::invalid(format!(
            "expected an NCHWc tensor [N, C, spatial...] with C a multiple of {b}, got shape {:?}",
            d
        )));
    }
    Ok((
        d[0] as usize,
        d[1] as usize,
        d[2..].iter().product::<i64>() as usize,
    ))
}

/// A blocked tensor as a plain NCHW one of the same (padded) shape.
fn to_plain(t: &Tensor, b: usize, ctx: &Ctx<'_>) -> Result<Tensor, Error> {
    let dims = nchw(t, b)?;
    let x = t.as_slice::<f32>()?;
    ctx.tensor(t.shape(), |o: &mut [f32]| {
        unblock(x, dims, dims.1, b, false, o)
    })
}

/// A plain NCHW tensor with a multiple of B channels as a blocked one.
fn to_blocked(t: &Tensor, b: usize, ctx: &Ctx<'_>) -> Result<Tensor, Error> {
    let dims = nchw(t, b)?;
    let x = t.as_slice::<f32>()?;
    ctx.tensor(t.shape(), |o: &mut [f32]| block(x, dims, b, false, o))
}
