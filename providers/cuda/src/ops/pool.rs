//! MaxPool and AveragePool over one or two spatial axes (`pool_*` in
//! `kernels/conv.cu`). The output size follows ONNX: explicit pads or
//! auto_pad, floor or ceil_mode.

use cudarc::driver::PushKernelArg;
use ort_core::kit::Attributes;
use ort_core::{Error, GraphView, NodeView};

use super::{elementwise, invalid, launch, Claim, Cx, Ints, Io, Kernel, Lower, Lowered};
use crate::kernels::Window;

/// A window over the spatial axes of an NCHW (or NCW) tensor, as Conv and the
/// pools share it.
#[derive(Clone, Debug)]
pub struct Geometry {
    pub kernel: Vec<i64>,
    pub strides: Vec<i64>,
    pub dilations: Vec<i64>,
    /// Begin pads then end pads, as ONNX writes them.
    pub pads: Vec<i64>,
    pub auto_pad: String,
    pub ceil: bool,
}

impl Geometry {
    /// Reads the window attributes; `kernel` from `kernel_shape` (pools) or
    /// the weight's shape (Conv, at run time: pass None).
    pub fn read(node: &NodeView<'_>, kernel: Option<Vec<i64>>) -> Result<Geometry, String> {
        let kernel = kernel.unwrap_or_default();
        let g = Geometry {
            strides: node.attr_ints("strides")?.unwrap_or_default(),
            dilations: node.attr_ints("dilations")?.unwrap_or_default(),
            pads: node.attr_ints("pads")?.unwrap_or_default(),
            auto_pad: node
                .attr_string("auto_pad")?
                .unwrap_or_else(|| "NOTSET".into()),
            ceil: node.attr_int("ceil_mode", 0)? != 0,
            kernel,
        };
        if !matches!(
            g.auto_pad.as_str(),
            "NOTSET" | "VALID" | "SAME_UPPER" | "SAME_LOWER"
        ) {
            return Err(format!("auto_pad {} is not defined", g.auto_pad));
        }
        Ok(g)
    }

    /// Declines an input whose rank is unknown or has other than 1 or 2
    /// spatial axes, as `window` would at run time.
    pub fn check_rank(node: &NodeView<'_>, graph: &GraphView<'_>) -> Result<(), String> {
        match node.inputs.first().and_then(|x| graph.rank_of(x)) {
            Some(3 | 4) => Ok(()),
            Some(r) => Err(format!(
                "the CUDA kernels take 1 or 2 spatial axes, not {}",
                r.saturating_sub(2)
            )),
            None => Err("the input's rank is not known".into()),
        }
    }

    /// The window for one image of `x` (N, C, spatial…) with kernel `k`;
    /// `c` is the channels one image row of `col` holds.
    pub fn window(&self, x: &[i64], k: &[i64]) -> Result<Window, Error> {
        let sp = x
            .len()
            .checked_sub(2)
            .filter(|s| (1..=2).contains(s))
            .ok_or_else(|| {
                invalid(format!(
                    "the CUDA kernels take 1 or 2 spatial axes, not the input {x:?}"
                ))
            })?;
        if k.len() != sp {
            return Err(invalid(format!("a window of {k:?} for the input {x:?}")));
        }
        let at = |v: &[i64], i: usize, d: i64| v.get(i).copied().unwrap_or(d);
        let mut w = [(1i64, 1i64, 1i64, 1i64, 0i64, 0i64, 1i64); 2]; // (in, out, k, s, pb, pe, d)
        for i in 0..sp {
            let (n, kk, s, d) = (
                x[2 + i],
                k[i],
                at(&self.strides, i, 1),
                at(&self.dilations, i, 1),
            );
            if kk < 1 || s < 1 || d < 1 {
                return Err(invalid(
                    "window sizes, strides and dilations must be positive",
                ));
            }
            let span = (kk - 1) * d + 1;
            let (pb, pe, o) = match self.auto_pad.as_str() {
                "VALID" => (0, 0, (n - span) / s + 1),
                "SAME_UPPER" | "SAME_LOWER" => {
                    let o = (n + s - 1) / s;
                    let total = ((o - 1) * s + span - n).max(0);
                    let small = total / 2;
                    let (pb, pe) = if self.auto_pad == "SAME_UPPER" {
                        (small, total - small)
                    } else {
                        (total - small, small)
                    };
                    (pb, pe, o)
                }
                _ => {
                    let (pb, pe) = (at(&self.pads, i, 0), at(&self.pads, i + sp, 0));
                    let room = n + pb + pe - span;
                    let mut o = if self.ceil {
                        (room + s - 1) / s + 1
                    } else {
                        room / s + 1
                    };
                    // ceil_mode: the last window must start inside the padded input.
                    if self.ceil && (o - 1) * s >= n + pb {
                        o -= 1;
                    }
                    (pb, pe, o)
                }
            };
            if o < 0 {
                return Err(invalid(format!(
                    "the window {k:?} does not fit the input {x:?}"
                )));
            }
            w[2 - sp + i] = (n, o, kk, s, pb, pe, d);
        }
        let [h, ww] = w;
        Ok(Window {
            c: x[1],
            h: h.0,
            w: ww.0,
            oh: h.1,
            ow: ww.1,
            kh: h.2 as i32,
            kw: ww.2 as i32,
            sh: h.3 as i32,
            sw: ww.3 as i32,
            ph: h.4 as i32,
            pw: ww.4 as i32,
            dh: h.6 as i32,
            dw: ww.6 as i32,
            eh: h.5 as i32,
            ew: ww.5 as i32,
        })
    }
}

/// The output shape for a window over `x` with `channels` output channels.
pub fn output_shape(x: &[i64], w: &Window, channels: i64) -> Vec<i64> {
    let mut out = vec![x[0], channels];
    if x.len() == 4 {
        out.push(w.oh);
    }
    out.push(w.ow);
    out
}

#[derive(Clone, Debug)]
pub struct Pool {
    pub geometry: Geometry,
    pub max: bool,
    pub include_pad: bool,
}

pub fn claim(node: &NodeView<'_>, graph: &GraphView<'_>) -> Result<Option<Claim>, String> {
    let max = node.is_onnx("MaxPool");
    if !(max || node.is_onnx("AveragePool")) {
        return Ok(None);
    }
    Geometry::check_rank(node, graph)?;
    if node.outputs.get(1).is_some_and(|o| !o.is_empty()) {
        return Err("MaxPool's indices output is left to the CPU".into());
    }
    if node.attr_int("storage_order", 0)? != 0 {
        return Err("MaxPool storage_order=1 is left to the CPU".into());
    }
    let kernel = node
        .attr_ints("kernel_shape")?
        .ok_or("a pool needs kernel_shape")?;
    let geometry = Geometry::read(node, Some(kernel))?;
    let include_pad = node.attr_int("count_include_pad", 0)? != 0;
    Ok(Some(Claim::one(Lowered::inputs(
        Pool {
            geometry,
            max,
            include_pad,
        },
        1,
    ))))
}

impl Kernel for Pool {
    fn shape(&self, inputs: &[&[i64]], _: &[Ints]) -> Result<Vec<i64>, Error> {
        let x = inputs[0];
        let w = self.geometry.window(x, &self.geometry.kernel)?;
        Ok(output_shape(x, &w, x[1]))
    }
    fn launch(&self, cx: &Cx<'_>, io: Io<'_>) -> Result<(), Error> {
        let Io { inputs, out, .. } = io;
        let w = self
            .geometry
            .window(&inputs[0].shape, &self.geometry.kernel)?;
        let f = cx.float_fn("pool", out.elem)?;
        let (x, y, n) = (inputs[0].ptr(), out.ptr(), out.len() as i64);
        let (op, pad) = (if self.max { 0i32 } else { 1 }, self.include_pad as i32);
        let mut args = cx.args(f);
        args.arg(&x).arg(&y).arg(&w).arg(&n).arg(&op).arg(&pad);
        launch(args, elementwise(out.len()), "pool")
    }
}
