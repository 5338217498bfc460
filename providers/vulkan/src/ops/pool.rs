//! MaxPool, AveragePool, GlobalAveragePool and GlobalMaxPool over 1-D and 2-D
//! windows (`shaders/pool.wgsl`).

use ort_core::kit::Attributes;
use ort_core::{Error, GraphView, NodeView};

use super::conv::{spatial, Window};
use super::{dispatch, grid, is, numel, Builder, Claim, Ints, Io, Kernel, Lower, Lowered};
use crate::gpu::Gpu;

#[derive(Clone, Debug)]
pub struct Pool {
    /// None: a global pool (one window over the plane).
    window: Option<Window>,
    average: bool,
    include_pad: bool,
}

pub fn claim(node: &NodeView<'_>, graph: &GraphView<'_>) -> Result<Option<Claim>, String> {
    let (global, average) = if is(node, "MaxPool") {
        (false, false)
    } else if is(node, "AveragePool") {
        (false, true)
    } else if is(node, "GlobalAveragePool") {
        (true, true)
    } else if is(node, "GlobalMaxPool") {
        (true, false)
    } else {
        return Ok(None);
    };
    let dims = spatial(node, graph)?;
    let window = if global {
        None
    } else {
        let w = Window::parse(node, dims)?;
        if w.kernel.is_none() {
            return Err("a pool without kernel_shape".into());
        }
        if node.attr_int("storage_order", 0)? != 0 {
            return Err(
                "MaxPool storage_order 1 only changes Indices, which are not computed".into(),
            );
        }
        Some(w)
    };
    let pool = Pool {
        window,
        average,
        include_pad: node.attr_int("count_include_pad", 0)? != 0,
    };
    Ok(Some(Claim::one(Lowered::inputs(pool, 1))))
}

impl Pool {
    /// Kernel, strides, dilations and per axis (output, begin pad, end pad), 2-D.
    #[allow(clippy::type_complexity)]
    fn geometry(
        &self,
        x: &[i64],
    ) -> Result<([i64; 2], [i64; 2], [i64; 2], Vec<(i64, i64, i64)>), Error> {
        let sp = &x[2..];
        let lift = |v: &[i64]| {
            if v.len() == 1 {
                [1, v[0]]
            } else {
                [v[0], v[1]]
            }
        };
        match &self.window {
            None => Ok((lift(sp), [1, 1], [1, 1], vec![(1, 0, 0); 2])),
            Some(w) => {
                let k = w.kernel.as_deref().expect("checked in claim");
                let mut plan = w.plan(sp, k)?;
                if plan.len() == 1 {
                    plan.insert(0, (1, 0, 0));
                }
                Ok((lift(k), lift(&w.strides), lift(&w.dilations), plan))
            }
        }
    }
}

impl Kernel for Pool {
    fn shape(&self, inputs: &[&[i64]], _: &[Ints]) -> Result<Vec<i64>, Error> {
        let x = inputs[0];
        if !(3..=4).contains(&x.len()) {
            return Err(Error::invalid(format!("a pool of {x:?}")));
        }
        let (_, _, _, plan) = self.geometry(x)?;
        let mut out = x[..2].to_vec();
        out.extend(plan[4 - x.len()..].iter().map(|p| p.0));
        Ok(out)
    }

    fn record(&self, gpu: &Gpu, b: &mut Builder, io: Io<'_>) -> Result<(), Error> {
        let Io { inputs, out: y, .. } = io;
        let x = &inputs[0];
        let n = numel(&y.1);
        if n == 0 {
            return Ok(());
        }
        let (k, s, d, plan) = self.geometry(&x.1)?;
        let (h, w) = if x.1.len() == 3 {
            (1, x.1[2])
        } else {
            (x.1[2], x.1[3])
        };
        let (groups, row) = grid(n)?;
        let u = |v: i64| v as u32;
        let pc: [u32; 20] = [
            n as u32,
            row,
            self.average as u32,
            self.include_pad as u32,
            u(h),
            u(w),
            u(plan[0].0),
            u(plan[1].0),
            u(k[0]),
            u(k[1]),
            u(s[0]),
            u(s[1]),
            u(plan[0].1),
            u(plan[1].1),
            u(plan[0].2),
            u(plan[1].2),
            u(d[0]),
            u(d[1]),
            0,
            0,
        ];
        dispatch(gpu, b, &gpu.pipelines.pool, &[&x.0, &y.0], pc, groups)
    }
}
