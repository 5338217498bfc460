//! ReduceSum, ReduceMean, ReduceMax, ReduceMin, ReduceProd, ReduceSumSquare,
//! ReduceL1, ReduceL2, ReduceLogSum, ReduceLogSumExp, and the global pools, over
//! any set of axes (`reduce_*` in `kernels/reduce.cu`).

use cudarc::driver::PushKernelArg;
use ort_core::kit::Attributes;
use ort_core::kit::{axis, numel, strides};
use ort_core::{Error, GraphView, NodeView};

use super::{elementwise, launch, Claim, Cx, Ints, Io, Kernel, Lower, Lowered};
use crate::kernels::Dims;

#[derive(Clone, Debug)]
pub struct Reduce {
    /// An op code of `reduce` in the kernel.
    pub code: i32,
    /// From the attribute; None with `from_input`, or for every axis.
    pub axes: Option<Vec<i64>>,
    pub from_input: bool,
    pub keepdims: bool,
    /// With no axes: reduce nothing (noop_with_empty_axes) instead of all.
    pub noop: bool,
    /// GlobalAveragePool and GlobalMaxPool: every axis after the channel.
    pub spatial: bool,
}

pub fn claim(node: &NodeView<'_>, _: &GraphView<'_>) -> Result<Option<Claim>, String> {
    let global = |code| Reduce {
        code,
        axes: None,
        from_input: false,
        keepdims: true,
        noop: false,
        spatial: true,
    };
    let op = match node.op_type.as_str() {
        _ if !matches!(node.domain.as_str(), "" | "ai.onnx") => return Ok(None),
        "GlobalAveragePool" => return Ok(Some(Claim::one(Lowered::inputs(global(1), 1)))),
        "GlobalMaxPool" => return Ok(Some(Claim::one(Lowered::inputs(global(2), 1)))),
        "ReduceSum" => (0, 13),
        "ReduceMean" => (1, 18),
        "ReduceMax" => (2, 18),
        "ReduceMin" => (3, 18),
        "ReduceProd" => (4, 18),
        "ReduceSumSquare" => (5, 18),
        "ReduceL1" => (6, 18),
        "ReduceL2" => (7, 18),
        "ReduceLogSum" => (8, 18),
        "ReduceLogSumExp" => (9, 18),
        _ => return Ok(None),
    };
    let (code, input_since) = op;
    let from_input = node.opset >= input_since;
    let r = Reduce {
        code,
        axes: if from_input {
            None
        } else {
            node.attr_ints("axes")?
        },
        from_input: from_input && node.has_input(1),
        keepdims: node.attr_int("keepdims", 1)? != 0,
        noop: node.attr_int("noop_with_empty_axes", 0)? != 0,
        spatial: false,
    };
    let l = Lowered::inputs(r.clone(), 1);
    Ok(Some(Claim::one(if r.from_input {
        l.with_ints(vec![1])
    } else {
        l
    })))
}

impl Reduce {
    /// Per input axis: whether it is reduced.
    fn reduced(&self, x: &[i64], ints: &[Ints]) -> Result<Vec<bool>, Error> {
        let r = x.len();
        if self.spatial {
            return Ok((0..r).map(|k| k >= 2).collect());
        }
        let axes = match (&self.axes, ints.first()) {
            (Some(a), _) => a.clone(),
            (None, Some(i)) => i.data.clone(),
            (None, None) => vec![],
        };
        if axes.is_empty() {
            return Ok(vec![!self.noop; r]);
        }
        let mut red = vec![false; r];
        for a in axes {
            red[axis(a, r)?] = true;
        }
        Ok(red)
    }
}

impl Kernel for Reduce {
    fn shape(&self, inputs: &[&[i64]], ints: &[Ints]) -> Result<Vec<i64>, Error> {
        let x = inputs[0];
        let red = self.reduced(x, ints)?;
        Ok((0..x.len())
            .filter(|&k| self.keepdims || !red[k])
            .map(|k| if red[k] { 1 } else { x[k] })
            .collect())
    }
    fn launch(&self, cx: &Cx<'_>, io: Io<'_>) -> Result<(), Error> {
        let Io { inputs, ints, out } = io;
        let x = &inputs[0];
        let red = self.reduced(&x.shape, ints)?;
        let st = strides(&x.shape);
        let kept: Vec<i64> = (0..red.len())
            .map(|k| if red[k] { 1 } else { x.shape[k] })
            .collect();
        let rdims: Vec<i64> = (0..red.len())
            .map(|k| if red[k] { x.shape[k] } else { 1 })
            .collect();
        let outd = Dims::new(&kept, &[&st]).map_err(Error::invalid)?;
        let redd = Dims::new(&rdims, &[&st]).map_err(Error::invalid)?;
        let (n, count) = (out.len() as i64, numel(&rdims) as i64);
        let f = cx.float_fn("reduce", out.elem)?;
        let (xp, yp) = (x.ptr(), out.ptr());
        let mut args = cx.args(f);
        args.arg(&xp)
            .arg(&yp)
            .arg(&outd)
            .arg(&redd)
            .arg(&n)
            .arg(&count)
            .arg(&self.code);
        launch(args, elementwise(n as usize), "reduce")
    }
}
