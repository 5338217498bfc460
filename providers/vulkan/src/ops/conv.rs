//! Conv (1-D and 2-D, groups incl. depthwise, strides, pads, dilations, auto_pad)
//! and the fused-domain FusedConv: the implicit GEMM of `shaders/conv_gemm.wgsl`
//! (groups of 16 output channels or more) or the direct convolution of
//! `shaders/conv.wgsl` (depthwise and other thin groups), then the residual and the activation as elementwise steps.

use ort_core::kit::Attributes;
use ort_core::{Error, GraphView, NodeView};

use super::binary::Binary;
use super::linear::push_activation;
use super::{dispatch, grid, is, is_fused, numel, Io};
use super::{Arg, Builder, Claim, Ints, Kernel, Lower, Lowered};
use crate::gpu::Gpu;

/// Attributes of Conv, and of pooling windows (`pool.rs`), over 1 or 2 spatial axes.
#[derive(Clone, Debug)]
pub struct Window {
    /// Spatial rank: 1 or 2.
    pub dims: usize,
    /// None: from the weight's shape.
    pub kernel: Option<Vec<i64>>,
    pub strides: Vec<i64>,
    pub dilations: Vec<i64>,
    /// Begin pads then end pads, as ONNX lists them.
    pub pads: Vec<i64>,
    pub auto_pad: String,
    pub ceil: bool,
}

impl Window {
    pub fn parse(node: &NodeView<'_>, dims: usize) -> Result<Window, String> {
        let ones = vec![1; dims];
        let get = |name: &str, d: &Vec<i64>, len: usize| -> Result<Vec<i64>, String> {
            let v = node.attr_ints(name)?.unwrap_or_else(|| d.clone());
            if v.len() != len {
                return Err(format!("{name} {v:?} does not fit {dims} spatial axes"));
            }
            Ok(v)
        };
        let kernel = match node.attr_ints("kernel_shape")? {
            Some(k) if k.len() != dims => {
                return Err(format!(
                    "kernel_shape {k:?} does not fit {dims} spatial axes"
                ))
            }
            k => k,
        };
        let w = Window {
            dims,
            kernel,
            strides: get("strides", &ones, dims)?,
            dilations: get("dilations", &ones, dims)?,
            pads: get("pads", &vec![0; 2 * dims], 2 * dims)?,
            auto_pad: node
                .attr_string("auto_pad")?
                .unwrap_or_else(|| "NOTSET".into()),
            ceil: node.attr_int("ceil_mode", 0)? != 0,
        };
        if !matches!(
            w.auto_pad.as_str(),
            "NOTSET" | "VALID" | "SAME_UPPER" | "SAME_LOWER"
        ) {
            return Err(format!("auto_pad {} is not known", w.auto_pad));
        }
        if w.strides.iter().chain(&w.dilations).any(|&v| v < 1) || w.pads.iter().any(|&p| p < 0) {
            return Err("strides and dilations must be positive, pads not negative".into());
        }
        Ok(w)
    }

    /// Per spatial axis of `input`: (output size, begin pad, end pad), for kernel `k`.
    pub fn plan(&self, input: &[i64], k: &[i64]) -> Result<Vec<(i64, i64, i64)>, Error> {
        (0..self.dims)
            .map(|a| {
                let (d, s, dil) = (input[a], self.strides[a], self.dilations[a]);
                let span = (k[a] - 1) * dil + 1;
                let (begin, total) = match self.auto_pad.as_str() {
                    "VALID" => (0, 0),
                    "SAME_UPPER" | "SAME_LOWER" => {
                        let out = (d + s - 1) / s;
                        let total = ((out.max(1) - 1) * s + span - d).max(0);
                        let begin = if self.auto_pad == "SAME_UPPER" {
                            total / 2
                        } else {
                            total - total / 2
                        };
                        return Ok((out, begin, total - begin));
                    }
                    _ => (self.pads[a], self.pads[a] + self.pads[a + self.dims]),
                };
                let room = d + total - span;
                if room < 0 {
                    return Err(Error::invalid(format!(
                        "a window of {span} does not fit an axis of {d} padded by {total}"
                    )));
                }
                let mut out = if self.ceil {
                    (room + s - 1) / s + 1
                } else {
                    room / s + 1
                };
                // A last window must start inside the input or its begin padding.
                if self.ceil && (out - 1) * s >= d + begin {
                    out -= 1;
                }
                Ok((out, begin, total - begin))
            })
            .collect()
    }
}

/// The spatial rank of X, when it is one the shaders take (1 or 2).
pub fn spatial(node: &NodeView<'_>, graph: &GraphView<'_>) -> Result<usize, String> {
    let v = &node.inputs[0];
    match graph.rank_of(v) {
        Some(r @ 3..=4) => Ok(r - 2),
        Some(r) => Err(format!(
            "{v} has rank {r}; the Vulkan kernel takes 1-D and 2-D windows"
        )),
        None => Err(format!("the rank of {v} is not known")),
    }
}

/// Output channels per group from which the implicit GEMM shader is used.
const GEMM_CHANNELS: i64 = 16;

#[derive(Clone, Debug)]
pub struct Conv {
    window: Window,
    group: i64,
    bias: bool,
}

pub fn claim(node: &NodeView<'_>, graph: &GraphView<'_>) -> Result<Option<Claim>, String> {
    let fused = is_fused(node, "FusedConv");
    if !(is(node, "Conv") || fused) {
        return Ok(None);
    }
    let dims = spatial(node, graph)?;
    let bias = node.has_input(2);
    let conv = Conv {
        window: Window::parse(node, dims)?,
        group: node.attr_int("group", 1)?,
        bias,
    };
    let args = if bias {
        vec![Arg::Input(0), Arg::Input(1), Arg::Input(2)]
    } else {
        vec![Arg::Input(0), Arg::Input(1)]
    };
    let mut steps = vec![Lowered::new(conv, args)];
    if fused && node.has_input(3) {
        steps.push(Lowered::new(Binary::ADD, vec![Arg::Prev(0), Arg::Input(3)]));
    }
    push_activation(node, &mut steps)?;
    Ok(Some(Claim::steps(steps)))
}

impl Conv {
    /// X and W as [N, C, H, W] and [M, C/g, KH, KW], output [N, M, OH, OW] (1-D: H = 1).
    #[allow(clippy::type_complexity)]
    fn geometry(
        &self,
        x: &[i64],
        w: &[i64],
    ) -> Result<([i64; 4], [i64; 4], Vec<(i64, i64, i64)>), Error> {
        let d = self.window.dims;
        if x.len() != d + 2 || w.len() != d + 2 {
            return Err(Error::invalid(format!(
                "Conv of {x:?} with weight {w:?}: ranks differ"
            )));
        }
        let g = self.group;
        if g < 1 || x[1] % g != 0 || w[0] % g != 0 || w[1] * g != x[1] {
            return Err(Error::invalid(format!(
                "Conv of {x:?} with weight {w:?} in {g} groups"
            )));
        }
        if let Some(k) = &self.window.kernel {
            if k[..] != w[2..] {
                return Err(Error::invalid(format!(
                    "kernel_shape {k:?} differs from the weight {w:?}"
                )));
            }
        }
        let plan = self.window.plan(&x[2..], &w[2..])?;
        let lift = |s: &[i64]| {
            if d == 1 {
                [s[0], s[1], 1, s[2]]
            } else {
                [s[0], s[1], s[2], s[3]]
            }
        };
        Ok((lift(x), lift(w), plan))
    }
}

impl Kernel for Conv {
    fn shape(&self, inputs: &[&[i64]], _: &[Ints]) -> Result<Vec<i64>, Error> {
        let (x, w) = (inputs[0], inputs[1]);
        let (_, _, plan) = self.geometry(x, w)?;
        let mut out = vec![x[0], w[0]];
        out.extend(plan.iter().map(|p| p.0));
        Ok(out)
    }

    fn record(&self, gpu: &Gpu, b: &mut Builder, io: Io<'_>) -> Result<(), Error> {
        let Io { inputs, out: y, .. } = io;
        let (x, w) = (&inputs[0], &inputs[1]);
        let (xs, ws, plan) = self.geometry(&x.1, &w.1)?;
        let n = numel(&y.1);
        if n == 0 {
            return Ok(());
        }
        if self.bias && numel(&inputs[2].1) != ws[0] as usize {
            return Err(Error::invalid(format!(
                "Conv bias {:?} for {} channels",
                inputs[2].1, ws[0]
            )));
        }
        let (oh, ow, ph, pw) = match plan[..] {
            [(o, p, _)] => (1, o, 0, p),
            [(oh, ph, _), (ow, pw, _)] => (oh, ow, ph, pw),
            _ => unreachable!("one or two spatial axes"),
        };
        let win = &self.window;
        let (sh, sw, dh, dw) = match win.dims {
            1 => (1, win.strides[0], 1, win.dilations[0]),
            _ => (
                win.strides[0],
                win.strides[1],
                win.dilations[0],
                win.dilations[1],
            ),
        };
        let (groups, row) = grid(n)?;
        let u = |v: i64| v as u32;
        let pc: [u32; 20] = [
            n as u32,
            row,
            self.bias as u32,
            u(self.group),
            u(xs[1]),
            u(xs[2]),
            u(xs[3]),
            u(ws[0]),
            u(oh),
            u(ow),
            u(ws[2]),
            u(ws[3]),
            u(sh),
            u(sw),
            u(ph),
            u(pw),
            u(dh),
            u(dw),
            0,
            0,
        ];
        let bias = if self.bias { &inputs[2].0 } else { &w.0 };
        let buffers = [&x.0, &w.0, bias, &y.0];
        // With at least GEMM_CHANNELS output channels a group, the implicit
        // GEMM's 64-channel tiles are mostly full; depthwise and other thin
        // groups sum their windows directly.
        let per_group = ws[0] / self.group;
        let positions = xs[0] * oh * ow;
        let tiles = [(positions + 63) / 64, (per_group + 63) / 64, self.group];
        if per_group >= GEMM_CHANNELS && tiles.iter().all(|&t| t <= 65_535) {
            let mut pc = pc;
            pc[18] = u(xs[0]);
            let tiles = tiles.map(|t| t as u32);
            return dispatch(gpu, b, &gpu.pipelines.conv_gemm, &buffers, pc, tiles);
        }
        dispatch(gpu, b, &gpu.pipelines.conv, &buffers, pc, groups)
    }
}
