//! Transpose: a strided gather with permuted strides.

use ort_core::kit::Attributes;
use ort_core::{Error, GraphView, NodeView};

use super::{copy, is, strides, Builder, Claim, Ints, Io, Kernel, Lower, Lowered};
use crate::gpu::Gpu;

#[derive(Clone, Debug)]
pub struct Transpose {
    /// None: reverse the axes (the ONNX default).
    pub perm: Option<Vec<i64>>,
}

pub fn claim(node: &NodeView<'_>, _: &GraphView<'_>) -> Result<Option<Claim>, String> {
    if !is(node, "Transpose") {
        return Ok(None);
    }
    let t = Transpose {
        perm: node.attr_ints("perm")?,
    };
    Ok(Some(Claim::one(Lowered::inputs(t, 1))))
}

impl Transpose {
    fn perm(&self, r: usize) -> Result<Vec<usize>, Error> {
        let p: Vec<usize> = match &self.perm {
            Some(p) => p.iter().map(|&k| k as usize).collect(),
            None => (0..r).rev().collect(),
        };
        let mut seen = p.clone();
        seen.sort_unstable();
        if seen != (0..r).collect::<Vec<_>>() {
            return Err(Error::invalid(format!(
                "perm {p:?} is not a permutation of {r} axes"
            )));
        }
        Ok(p)
    }
}

impl Kernel for Transpose {
    fn exact(&self) -> bool {
        true
    }

    fn shape(&self, inputs: &[&[i64]], _: &[Ints]) -> Result<Vec<i64>, Error> {
        let x = inputs[0];
        Ok(self.perm(x.len())?.into_iter().map(|k| x[k]).collect())
    }

    fn record(&self, gpu: &Gpu, b: &mut Builder, io: Io<'_>) -> Result<(), Error> {
        let Io { inputs, out, .. } = io;
        let x = &inputs[0];
        let st = strides(&x.1);
        let permuted: Vec<i64> = self.perm(x.1.len())?.iter().map(|&k| st[k]).collect();
        copy::gather(gpu, b, x, out, 0, &permuted)
    }
}
