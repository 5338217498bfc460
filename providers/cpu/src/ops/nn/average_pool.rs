//! AveragePool: window sums by the shared `pool::stencil` (rows folded first), divided by
//! the tap count with or without padding; planes in parallel.

use ort_core::{Error, Value};

use super::pool::{stencil, Pool, Span};
use super::window::Window;
use super::{data, output, Flt};
use crate::kernel::{input, one, Ctx, Kernel, NodeInfo, Outputs};
use crate::ops::{FLOATS, LATEST};

struct AveragePool {
    window: Window,
    count_include_pad: bool,
}

pub(crate) fn build(info: &NodeInfo<'_, '_>) -> Result<Box<dyn Kernel>, Error> {
    Ok(Box::new(AveragePool {
        window: Window::parse(info)?,
        count_include_pad: info.int("count_include_pad", 0)? != 0,
    }))
}

impl Kernel for AveragePool {
    fn compute(&self, inputs: &[Option<&Value>], ctx: &Ctx<'_>) -> Outputs {
        let x = input(inputs, 0)?;
        let p = Pool::new(&self.window, x)?;
        one(with_float!(x.elem(), F => {
            let xd = data::<F>(x)?;
            output::<F>(ctx, x.elem(), &p.out_shape, |o| self.run(&p, &xd, o, ctx.threads))
        })?)
    }
}

impl AveragePool {
    fn run<F: Flt>(&self, p: &Pool, x: &[F], out: &mut [F], threads: usize) {
        let in_sz = p.in_size();
        // count_include_pad counts the padding but not the part of a ceil-mode
        // window that hangs past it.
        let count = |s: &Span| {
            if self.count_include_pad {
                s.padded
            } else {
                s.taps.len()
            }
        };
        let spans = p.spans();
        let [cd, ch, cw] = [0, 1, 2].map(|i| spans[i].iter().map(count).collect::<Vec<_>>());
        p.each(out, None, threads, |pi, o, _| {
            stencil(
                p,
                &x[pi * in_sz..(pi + 1) * in_sz],
                o,
                F::zero(),
                &spans,
                |s, v| s + v,
            );
            let mut rows = o.chunks_mut(cw.len().max(1));
            for &a in &cd {
                for &b in &ch {
                    let Some(row) = rows.next() else { return };
                    for (v, &c) in row.iter_mut().zip(&cw) {
                        let n = a * b * c;
                        *v = if n == 0 {
                            F::zero()
                        } else {
                            *v / F::of(n as f64)
                        };
                    }
                }
            }
        });
    }
}

crate::register!("AveragePool", [1, LATEST], FLOATS, build);
