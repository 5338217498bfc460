//! ReduceSum, ReduceMean, ReduceMax, ReduceMin, ReduceProd, ReduceSumSquare,
//! ReduceL1, ReduceL2, ReduceLogSum, ReduceLogSumExp (`shaders/reduce.wgsl`).
//! Reduced axes that are not the last ones are first moved last by a copy.

use ort_core::kit::Attributes;
use ort_core::{Error, GraphView, NodeView};

use super::{axis, copy, dispatch, is, numel, row_grid, strides, Io};
use super::{Builder, Claim, Ints, Kernel, Lower, Lowered};
use crate::gpu::Gpu;

/// Op codes, as the shader numbers them, and the opset from which axes are an input.
const CODES: &[(&str, u32, i64)] = &[
    ("ReduceSum", 0, 13),
    ("ReduceMean", 1, 18),
    ("ReduceMax", 2, 18),
    ("ReduceMin", 3, 18),
    ("ReduceProd", 4, 18),
    ("ReduceSumSquare", 5, 18),
    ("ReduceL1", 6, 18),
    ("ReduceL2", 7, 18),
    ("ReduceLogSum", 8, 18),
    ("ReduceLogSumExp", 9, 18),
];

#[derive(Clone, Debug)]
pub struct Reduce {
    code: u32,
    keepdims: bool,
    /// From the attribute; None with `from_input` false: every axis.
    axes: Option<Vec<i64>>,
    from_input: bool,
    noop_empty: bool,
}

pub fn claim(node: &NodeView<'_>, _: &GraphView<'_>) -> Result<Option<Claim>, String> {
    let Some(&(_, code, since)) = CODES.iter().find(|(n, _, _)| is(node, n)) else {
        return Ok(None);
    };
    let from_input = node.opset >= since && node.has_input(1);
    let r = Reduce {
        code,
        keepdims: node.attr_int("keepdims", 1)? != 0,
        axes: if node.opset >= since {
            None
        } else {
            node.attr_ints("axes")?
        },
        from_input,
        noop_empty: node.attr_int("noop_with_empty_axes", 0)? != 0,
    };
    let low = Lowered::inputs(r, 1);
    Ok(Some(Claim::one(if from_input {
        low.with_ints(vec![1])
    } else {
        low
    })))
}

impl Reduce {
    /// Per axis of x, whether it is reduced.
    fn reduced(&self, x: &[i64], ints: &[Ints]) -> Result<Vec<bool>, Error> {
        let axes = if self.from_input {
            Some(ints[0].data.clone())
        } else {
            self.axes.clone()
        };
        let mut out = vec![false; x.len()];
        match axes {
            Some(a) if !a.is_empty() => {
                for k in a {
                    out[axis(k, x.len())?] = true;
                }
            }
            Some(_) if self.noop_empty => {}
            _ => out.iter_mut().for_each(|v| *v = true),
        }
        Ok(out)
    }
}

impl Kernel for Reduce {
    fn shape(&self, inputs: &[&[i64]], ints: &[Ints]) -> Result<Vec<i64>, Error> {
        let x = inputs[0];
        let red = self.reduced(x, ints)?;
        Ok(x.iter()
            .zip(&red)
            .filter_map(|(&d, &r)| match (r, self.keepdims) {
                (false, _) => Some(d),
                (true, true) => Some(1),
                (true, false) => None,
            })
            .collect())
    }

    fn record(&self, gpu: &Gpu, b: &mut Builder, io: Io<'_>) -> Result<(), Error> {
        let Io {
            inputs,
            ints,
            out: y,
        } = io;
        let x = &inputs[0];
        let red = self.reduced(&x.1, ints)?;
        let rows = numel(&y.1);
        if rows == 0 {
            return Ok(());
        }
        if !red.iter().any(|&r| r) {
            return copy::contiguous(gpu, b, x, y);
        }
        let len = numel(&x.1) / rows;
        // Kept axes first, reduced axes last, each in order.
        let order: Vec<usize> = (0..red.len())
            .filter(|&k| !red[k])
            .chain((0..red.len()).filter(|&k| red[k]))
            .collect();
        let moved;
        let src = if order.iter().enumerate().all(|(i, &k)| i == k) {
            x
        } else {
            let st = strides(&x.1);
            let dims: Vec<i64> = order.iter().map(|&k| x.1[k]).collect();
            let src_st: Vec<i64> = order.iter().map(|&k| st[k]).collect();
            let buf = gpu.buffer(numel(&x.1), false).map_err(Error::fail)?;
            moved = (buf, dims);
            copy::gather(gpu, b, x, &moved, 0, &src_st)?;
            &moved
        };
        let (groups, gx) = row_grid(rows)?;
        let pc: [u32; 4] = [rows as u32, len as u32, self.code, gx];
        dispatch(gpu, b, &gpu.pipelines.reduce, &[&src.0, &y.0], pc, groups)
    }
}
