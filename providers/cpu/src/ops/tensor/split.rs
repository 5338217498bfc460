//! Split: works out the piece sizes, then takes each piece as a strided [outer, piece]
//! copy of the input (a zero-copy view when the piece is contiguous).

use ort_core::{Error, Value};

use super::{strided, IntsArg};
use crate::kernel::{input, Ctx, Kernel, Outputs};
use crate::ops::{ANY, LATEST};
use crate::util::axis;

/// Sizes come from `split` (an attribute before opset 13, an input after), else from
/// `num_outputs` (opset 18: ceil-sized pieces, the last smaller), else equal pieces.
struct Split {
    axis: i64,
    split: IntsArg,
    num_outputs: Option<usize>,
    outputs: usize,
}

impl Split {
    fn sizes(&self, inputs: &[Option<&Value>], dim: i64) -> Result<Vec<i64>, Error> {
        if let Some(s) = self.split.get(inputs)? {
            if s.len() != self.outputs || s.iter().any(|&v| v < 0) || s.iter().sum::<i64>() != dim {
                return Err(Error::invalid(format!(
                    "split {s:?} does not divide dimension {dim} into {} outputs",
                    self.outputs
                )));
            }
            return Ok(s);
        }
        let n = self.outputs as i64;
        if let Some(k) = self.num_outputs {
            let chunk = (dim + k as i64 - 1) / k as i64;
            return Ok((0..n).map(|i| (dim - i * chunk).clamp(0, chunk)).collect());
        }
        if dim % n != 0 {
            return Err(Error::invalid(format!(
                "dimension {dim} does not split evenly into {n} outputs"
            )));
        }
        Ok(vec![dim / n; self.outputs])
    }
}

impl Kernel for Split {
    fn compute(&self, inputs: &[Option<&Value>], ctx: &Ctx<'_>) -> Outputs {
        let x = input(inputs, 0)?;
        let a = axis(self.axis, x.rank())?;
        let sizes = self.sizes(inputs, x.shape()[a])?;
        let outer: usize = x.shape()[..a].iter().product::<i64>() as usize;
        let inner: usize = x.shape()[a + 1..].iter().product::<i64>() as usize;
        let row = x.shape()[a] as usize * inner;
        let mut start = 0;
        let mut outs = Vec::with_capacity(sizes.len());
        for &s in &sizes {
            let mut shape = x.shape().to_vec();
            shape[a] = s;
            let n = s as usize * inner;
            let t = strided(
                ctx,
                x,
                &shape,
                (start * inner) as isize,
                &[outer, n],
                &[row as isize, 1],
            )?;
            outs.push(Some(Value::Tensor(t)));
            start += s as usize;
        }
        Ok(outs)
    }
}

crate::register!("Split", [2, LATEST], ANY, |n| {
    let num_outputs = if n.opset() >= 18 && n.has("num_outputs") {
        let k = n.int("num_outputs", 0)?;
        if k < 1 || k as usize != n.num_outputs() {
            return Err(Error::invalid(format!(
                "num_outputs {k} does not match the node's {} outputs",
                n.num_outputs()
            )));
        }
        Some(k as usize)
    } else {
        None
    };
    Ok(Box::new(Split {
        axis: n.int("axis", 0)?,
        split: IntsArg::new(n, "split", 13, 1)?,
        num_outputs,
        outputs: n.num_outputs(),
    }))
});
