//! Conv and the fused-domain FusedConv over one or two spatial axes, as im2col
//! (`im2col_*` in `kernels/conv.cu`) and cuBLAS GEMMs (one batched over the
//! images with one group, else one per image batched over the groups), then one epilogue pass for the bias, the residual and the
//! activation (`channel_*`, also BatchNormalization's kernel).

use cudarc::driver::PushKernelArg;
use ort_core::kit::numel;
use ort_core::kit::Attributes;
use ort_core::{Error, GraphView, NodeView};

use super::matmul::{gemm, Gemm};
use super::pool::{output_shape, Geometry};
use super::unary::{activation, Unary};
use super::{
    elementwise, invalid, is_fused, launch, Claim, Cx, Ints, Io, Kernel, Lower, Lowered, Operand,
};
use crate::dnn::{self, ConvSpec};
use crate::kernels::Window;

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
    fn launch(&self, cx: &Cx<'_>, io: Io<'_>) -> Result<(), Error> {
        let Io { inputs, out, .. } = io;
        self.run(cx, &inputs[0], &inputs[1..], out)
    }
}

/// The most bytes of im2col columns made at once.
const COL_BYTES: u64 = 256 << 20;

#[derive(Clone, Debug)]
pub struct Conv {
    pub geometry: Geometry,
    pub group: i64,
    pub bias: bool,
    pub residual: bool,
    pub act: Option<Unary>,
}

pub fn claim(node: &NodeView<'_>, graph: &GraphView<'_>) -> Result<Option<Claim>, String> {
    let fused = is_fused(node, "FusedConv");
    if !(fused || node.is_onnx("Conv")) {
        return Ok(None);
    }
    Geometry::check_rank(node, graph)?;
    let c = Conv {
        geometry: Geometry::read(node, None)?,
        group: node.attr_int("group", 1)?,
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
    fn window(&self, x: &[i64], w: &[i64]) -> Result<Window, Error> {
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
    fn launch(&self, cx: &Cx<'_>, io: Io<'_>) -> Result<(), Error> {
        let Io { inputs, out, .. } = io;
        let (x, w) = (&inputs[0], &inputs[1]);
        let win = self.window(&x.shape, &w.shape)?;
        let done = match self.dnn_spec(cx, &win, x, w) {
            Some(spec) => dnn::conv_forward(cx, &spec, x.ptr(), w.ptr(), out.ptr())?,
            None => false,
        };
        if !done {
            self.im2col_gemm(cx, x, w, &win, out)?;
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

impl Conv {
    /// The convolution as cuDNN takes it, when cuDNN is on and can: its pads
    /// are symmetric, and every extent fits an int.
    fn dnn_spec(&self, cx: &Cx<'_>, win: &Window, x: &Operand, w: &Operand) -> Option<ConvSpec> {
        cx.gpu.dnn.as_ref()?;
        let (elem, x, w) = (x.elem, &x.shape, &w.shape);
        if win.ph != win.eh || win.pw != win.ew {
            return None;
        }
        let int = |v: i64| i32::try_from(v).ok();
        let four = |v: [i64; 4]| -> Option<[i32; 4]> {
            Some([int(v[0])?, int(v[1])?, int(v[2])?, int(v[3])?])
        };
        Some(ConvSpec {
            x: four([x[0], win.c, win.h, win.w])?,
            w: four([w[0], w[1], win.kh as i64, win.kw as i64])?,
            y: four([x[0], w[0], win.oh, win.ow])?,
            pad: [win.ph, win.pw],
            stride: [win.sh, win.sw],
            dilation: [win.dh, win.dw],
            group: int(self.group)?,
            elem,
            tf32: cx.gpu.tf32,
        })
    }

    /// `out = conv(x, w)` as im2col and cuBLAS GEMMs.
    fn im2col_gemm(
        &self,
        cx: &Cx<'_>,
        x: &Operand,
        w: &Operand,
        win: &Window,
        out: &Operand,
    ) -> Result<(), Error> {
        let win = *win;
        let g = self.group;
        let (m, k, spatial) = (w.shape[0] / g, numel(&w.shape[1..]) as i64, win.oh * win.ow);
        let direct = win.kh * win.kw == 1
            && [win.sh, win.sw, win.ph, win.pw, win.eh, win.ew] == [1, 1, 0, 0, 0, 0];
        let esize = x.elem.size() as u64;
        let images = x.shape[0];
        // Images go through im2col and the GEMM in chunks, so the column
        // buffer stays under COL_BYTES; one chunk when it fits.
        let per_image = (g * k * spatial).max(1);
        let chunk = if direct {
            images
        } else {
            (COL_BYTES / (per_image as u64 * esize)).clamp(1, images.max(1) as u64) as i64
        };
        let col = if direct {
            None
        } else {
            Some(cx.alloc(&[chunk * per_image], x.elem)?)
        };
        let image = (win.c * win.h * win.w) as u64;
        let mut first = 0i64;
        while first < images {
            let count = chunk.min(images - first);
            let src = x.ptr() + first as u64 * image * esize;
            let cols = match &col {
                None => src,
                Some(c) => {
                    // The images of a chunk are one image of count·C channels
                    // to im2col: its rows stack image after image.
                    let mut batch = win;
                    batch.c = win.c * count;
                    let f = cx.float_fn("im2col", x.elem)?;
                    let dst = c.ptr();
                    let mut args = cx.args(f);
                    args.arg(&src).arg(&dst).arg(&batch);
                    launch(args, elementwise((count * per_image) as usize), "im2col")?;
                    dst
                }
            };
            // Y[m, spatial] = W[m, k] · col[k, spatial], per image and group:
            // with one group, one GEMM batched over the images (W's stride 0).
            let y = out.ptr() + (first * g * m * spatial) as u64 * esize;
            let step = |batch: i64| Gemm {
                m,
                n: spatial,
                k,
                trans_a: false,
                trans_b: false,
                batch,
                ld: None,
            };
            if g == 1 {
                let w = (w.ptr(), 0);
                let b = (cols, k * spatial);
                gemm(cx, x.elem, &step(count), 1.0, w, b, 0.0, (y, m * spatial))?;
            } else {
                for i in 0..count as u64 {
                    let b = (cols + i * per_image as u64 * esize, k * spatial);
                    let c = (y + i * (g * m * spatial) as u64 * esize, m * spatial);
                    gemm(cx, x.elem, &step(g), 1.0, (w.ptr(), m * k), b, 0.0, c)?;
                }
            }
            first += count;
        }
        if let Some(c) = col {
            cx.keep(c);
        }
        Ok(())
    }
}
