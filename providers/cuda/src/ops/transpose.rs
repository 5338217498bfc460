//! Transpose, and the strided copy (`strided_b*` in `kernels/copy.cu`) that
//! Slice, Expand, Concat and Split are also made of.

use cudarc::driver::PushKernelArg;
use ort_core::kit::Attributes;
use ort_core::kit::{numel, strides};
use ort_core::{Error, GraphView, NodeView};

use super::{elementwise, invalid, launch, Claim, Cx, Ints, Io, Kernel, Lower, Lowered, Operand};
use crate::kernels::Dims;

/// Copies `shape` elements: `dst[dst_base + Σ i·dst_st] = src[src_base + Σ i·src_st]`
/// (bases and strides in elements).
#[allow(clippy::too_many_arguments)]
pub fn strided(
    cx: &Cx<'_>,
    src: &Operand,
    src_base: i64,
    src_st: &[i64],
    dst: &Operand,
    dst_base: i64,
    dst_st: &[i64],
    shape: &[i64],
) -> Result<(), Error> {
    let n = numel(shape);
    if n == 0 {
        return Ok(());
    }
    let d = Dims::new(shape, &[src_st, dst_st]).map_err(Error::invalid)?;
    let f = cx.move_fn("strided", dst.elem)?;
    let (x, y, count) = (src.ptr(), dst.ptr(), n as i64);
    let mut args = cx.args(f);
    args.arg(&x)
        .arg(&y)
        .arg(&d)
        .arg(&count)
        .arg(&src_base)
        .arg(&dst_base);
    launch(args, elementwise(n), "strided copy")
}

#[derive(Clone, Debug)]
pub struct Transpose {
    /// None: reverse the axes.
    pub perm: Option<Vec<i64>>,
}

impl Transpose {
    fn perm(&self, rank: usize) -> Result<Vec<usize>, Error> {
        let p: Vec<usize> = match &self.perm {
            None => (0..rank).rev().collect(),
            Some(p) => p.iter().map(|&a| a as usize).collect(),
        };
        let mut seen = vec![false; rank];
        if p.len() != rank
            || p.iter()
                .any(|&a| a >= rank || std::mem::replace(&mut seen[a], true))
        {
            return Err(invalid(format!(
                "Transpose perm {:?} for rank {rank}",
                self.perm
            )));
        }
        Ok(p)
    }
}

pub fn claim(node: &NodeView<'_>, _: &GraphView<'_>) -> Result<Option<Claim>, String> {
    if !node.is_onnx("Transpose") {
        return Ok(None);
    }
    let perm = node.attr_ints("perm")?;
    Ok(Some(Claim::one(Lowered::inputs(Transpose { perm }, 1))))
}

impl Kernel for Transpose {
    fn shape(&self, inputs: &[&[i64]], _: &[Ints]) -> Result<Vec<i64>, Error> {
        let x = inputs[0];
        Ok(self.perm(x.len())?.iter().map(|&a| x[a]).collect())
    }
    fn launch(&self, cx: &Cx<'_>, io: Io<'_>) -> Result<(), Error> {
        let Io { inputs, out, .. } = io;
        let x = &inputs[0];
        let st = strides(&x.shape);
        let src: Vec<i64> = self.perm(x.shape.len())?.iter().map(|&a| st[a]).collect();
        strided(cx, x, 0, &src, out, 0, &strides(&out.shape), &out.shape)
    }
}
