//! Conv and the fused-domain FusedConv over one or two spatial axes, as im2col
//! (`im2col_*` in `kernels/conv.cu`) and one cuBLAS GEMM per image batched over
//! the groups, then one epilogue pass for the bias, the residual and the
//! activation (`channel_*`, also BatchNormalization's kernel).

use cudarc::driver::PushKernelArg;
use ort_core::kit::numel;
use ort_core::{Error, GraphView, NodeView};

use super::matmul::{gemm, Gemm};
use super::pool::{output_shape, Geometry};
use super::unary::{activation, Unary};
use super::{elementwise, invalid, is_fused, launch, Claim, Cx, Ints, Kernel, Lowered, Operand};

/// `y = act(x·scale[c] + shift[c] + residual)` over NC…: operands x, then
/// scale, shift and residual where present.
#[derive(Clone, Debug)]
pub struct Channel {
    pub scale: bool,
    pub shift: bool,
    pub residual: bool,
    pub act: Option<Unary>,
}

impl Channel {
    /// Runs the epilogue from `x` into `out` (they may be the same memory).
    pub fn run(
        &self,
        cx: &Cx<'_>,
        x: &Operand,
        params: &[Operand],
        out: &Operand,
    ) -> Result<(), Error> {
        let mut p = params.iter();
        let mut next = |on: bool| {
            if on {
                p.next().map_or(0, |o| o.ptr())
            } else {
                0
            }
        };
        let (scale, shift, residual) = (next(self.scale), next(self.shift), next(self.residual));
        let s = &out.shape;
        let channels = s.get(1).copied().unwrap_or(1);
        let inner: i64 = s.iter().skip(2).product();
        let act = self.act.unwrap_or(Unary {
            code: 0,
            a: 0.0,
            b: 0.0,
        });
        let f = cx.float_fn("channel", out.elem)?;
        let (xp, yp, n) = (x.ptr(), out.ptr(), out.len() as i64);
        let mut args = cx.args(f);
        args.arg(&xp)
            .arg(&scale)
            .arg(&shift)
            .arg(&residual)
            .arg(&yp)
            .arg(&n);
        args.arg(&channels)
            .arg(&inner)
            .arg(&act.code)
            .arg(&act.a)
            .arg(&act.b);
        launch(args, elementwise(out.len()), "channel epilogue")
    }
}

impl Kernel for Channel {
    fn shape(&self, inputs: &[&[i64]], _: &[Ints]) -> Result<Vec<i64>, Error> {
        let x = inputs[0];
        if x.len() < 2 {
            return Err(invalid(format!("per-channel op on {x:?}: no channel axis")));
        }
        for p in &inputs[1..inputs.len() - self.residual as usize] {
            if numel(p) as i64 != x[1] {
                return Err(invalid(format!(
                    "a per-channel parameter of {p:?} for {} channels",
                    x[1]
                )));
            }
        }
        Ok(x.to_vec())
    }
    fn launch(
        &self,
        cx: &Cx<'_>,
        inputs: &[Operand],
        _: &[Ints],
        out: &Operand,
    ) -> Result<(), Error> {
        self.run(cx, &inputs[0], &inputs[1..], out)
    }
}

#[derive(Clone, Debug)]
pub struct Conv {
    pub geometry: Geometry,
    pub group: i64,
    pub bias: bool,
    pub residual: bool,
    pub act: Option<Unary>,
}

pub fn claim(node: &NodeView<'_>, _: &GraphView<'_>) -> Result<Option<Claim>, String> {
    let fused = is_fused(node, "FusedConv");
    if !(fused || node.is_onnx("Conv")) {
        return Ok(None);
    }
    let c = Conv {
        geometry: Geometry::read(node, None)?,
        group: node.attr_int("group", 1),
        bias: node.has_input(2),
        residual: fused && node.has_input(3),
        act: if fused { activation(node)? } else { None },
    };
    if c.group < 1 {
        return Err("Conv group must be positive".into());
    }
    let mut args: Vec<usize> = vec![0, 1];
    if c.bias {
        args.push(2);
    }
    if c.residual {
        args.push(3);
    }
    let l = Lowered::new(c, args.into_iter().map(super::Arg::Input).collect());
    Ok(Some(Claim::one(l)))
}

impl Conv {
    fn window(&self, x: &[i64], w: &[i64]) -> Result<crate::kernels::Window, Error> {
        if w.len() != x.len() || x.len() < 3 || x[1] != w[1] * self.group || w[0] % self.group != 0
        {
            return Err(invalid(format!(
                "Conv of {x:?} with weights {w:?} in {} groups",
                self.group
            )));
        }
        self.geometry.window(x, &w[2..])
    }
}

impl Kernel for Conv {
    fn shape(&self, inputs: &[&[i64]], _: &[Ints]) -> Result<Vec<i64>, Error> {
        let (x, w) = (inputs[0], inputs[1]);
        Ok(output_shape(x, &self.window(x, w)?, w[0]))
    }
    fn launch(
        &self,
        cx: &Cx<'_>,
        inputs: &[Operand],
        _: &[Ints],
        out: &Operand,
    ) -> Result<(), Error> {
        let (x, w) = (&inputs[0], &inputs[1]);
        let win = self.window(&x.shape, &w.shape)?;
        let g = self.group;
        let (m, k, spatial) = (w.shape[0] / g, numel(&w.shape[1..]) as i64, win.oh * win.ow);
        let direct = win.kh * win.kw == 1
            && [win.sh, win.sw, win.ph, win.pw, win.eh, win.ew] == [1, 1, 0, 0, 0, 0];
        let col = if direct {
            None
        } else {
            Some(cx.alloc(&[g * k, spatial], x.elem)?)
        };
        let esize = x.elem.size() as u64;
        let image = (win.c * win.h * win.w) as u64;
        for n in 0..x.shape[0] as u64 {
            let src = x.ptr() + n * image * esize;
            let cols = match &col {
                None => src,
                Some(c) => {
                    let f = cx.float_fn("im2col", x.elem)?;
                    let dst = c.ptr();
                    let mut args = cx.args(f);
                    args.arg(&src).arg(&dst).arg(&win);
                    launch(args, elementwise(c.len()), "im2col")?;
                    dst
                }
            };
            // Per group: Y[m, spatial] = W[m, k] · col[k, spatial].
            let y = out.ptr() + n * (g * m * spatial) as u64 * esize;
            let product = Gemm {
                m,
                n: spatial,
                k,
                trans_a: false,
                trans_b: false,
                batch: g,
                ld: None,
            };
            gemm(
                cx,
                x.elem,
                &product,
                1.0,
                (w.ptr(), m * k),
                (cols, k * spatial),
                0.0,
                (y, m * spatial),
            )?;
        }
        if let Some(c) = col {
            cx.keep(c);
        }
        if self.bias || self.residual || self.act.is_some() {
            let ch = Channel {
                scale: false,
                shift: self.bias,
                residual: self.residual,
                act: self.act,
            };
            ch.run(cx, out, &inputs[2..], out)?;
        }
        Ok(())
    }
}
