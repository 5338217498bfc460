//! Sliding-window geometry shared by convolution and pooling: kernel, strides,
//! dilations, explicit or automatic padding and ceil mode.

use ort_core::Error;

use crate::kernel::NodeInfo;

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum AutoPad {
    NotSet,
    SameUpper,
    SameLower,
    Valid,
}

/// The window attributes as given; resolved against an input by [`Window::geom`].
#[derive(Clone, Debug)]
pub(crate) struct Window {
    pub kernel: Option<Vec<usize>>,
    strides: Option<Vec<usize>>,
    dilations: Option<Vec<usize>>,
    pads: Option<Vec<usize>>,
    pub auto_pad: AutoPad,
    ceil: bool,
}

/// A window resolved for one input: per spatial axis sizes, strides and padding.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Geom {
    pub input: Vec<usize>,
    pub output: Vec<usize>,
    pub kernel: Vec<usize>,
    pub strides: Vec<usize>,
    pub dilations: Vec<usize>,
    pub pad_begin: Vec<usize>,
    pub pad_end: Vec<usize>,
}

fn positive(
    info: &NodeInfo<'_, '_>,
    name: &str,
    allow_zero: bool,
) -> Result<Option<Vec<usize>>, Error> {
    let Some(v) = info.ints(name)? else {
        return Ok(None);
    };
    if v.iter().any(|&x| x < 0 || (x == 0 && !allow_zero)) {
        return Err(Error::invalid(format!(
            "attribute {name} has an invalid value {v:?}"
        )));
    }
    Ok(Some(v.into_iter().map(|x| x as usize).collect()))
}

fn auto_pad(info: &NodeInfo<'_, '_>, name: &str) -> Result<AutoPad, Error> {
    Ok(match info.string(name, "NOTSET")?.as_str() {
        "NOTSET" | "" => AutoPad::NotSet,
        "SAME_UPPER" => AutoPad::SameUpper,
        "SAME_LOWER" => AutoPad::SameLower,
        "VALID" => AutoPad::Valid,
        s => return Err(Error::invalid(format!("unknown auto_pad {s}"))),
    })
}

impl Window {
    pub fn parse(info: &NodeInfo<'_, '_>) -> Result<Window, Error> {
        Window::parse_prefixed(info, "")
    }

    /// The window whose attributes carry `prefix` before their standard
    /// names (a fused node that holds a second window: `pool_strides`).
    pub fn parse_prefixed(info: &NodeInfo<'_, '_>, prefix: &str) -> Result<Window, Error> {
        let name = |n: &str| format!("{prefix}{n}");
        let w = Window {
            kernel: positive(info, &name("kernel_shape"), false)?,
            strides: positive(info, &name("strides"), false)?,
            dilations: positive(info, &name("dilations"), false)?,
            pads: positive(info, &name("pads"), true)?,
            auto_pad: auto_pad(info, &name("auto_pad"))?,
            ceil: info.int(&name("ceil_mode"), 0)? != 0,
        };
        if let Some(p) = &w.pads {
            if p.len() % 2 != 0 {
                return Err(Error::invalid(format!(
                    "pads {p:?} must have an even length"
                )));
            }
        }
        Ok(w)
    }

    /// Strides, dilations and explicit pads for `rank` spatial axes (defaults filled in).
    #[allow(clippy::type_complexity)]
    pub fn params(&self, rank: usize) -> Result<(Vec<usize>, Vec<usize>, Vec<usize>), Error> {
        let get = |v: &Option<Vec<usize>>, len: usize, name: &str, d: usize| match v {
            None => Ok(vec![d; len]),
            Some(v) if v.len() == len => Ok(v.clone()),
            Some(v) => Err(Error::invalid(format!(
                "{name} {v:?} does not fit {rank} spatial axes"
            ))),
        };
        Ok((
            get(&self.strides, rank, "strides", 1)?,
            get(&self.dilations, rank, "dilations", 1)?,
            get(&self.pads, 2 * rank, "pads", 0)?,
        ))
    }

    /// Resolves the window for the spatial `input` shape; `kernel` is the kernel
    /// from the weights when the op has them (it must agree with kernel_shape).
    pub fn geom(&self, input: &[usize], kernel: Option<&[usize]>) -> Result<Geom, Error> {
        let rank = input.len();
        let kernel = match (&self.kernel, kernel) {
            (Some(a), Some(b)) if a.as_slice() != b => {
                return Err(Error::invalid(format!(
                    "kernel_shape {a:?} differs from the weights' {b:?}"
                )))
            }
            (Some(a), _) => a.clone(),
            (None, Some(b)) => b.to_vec(),
            (None, None) => return Err(Error::invalid("attribute kernel_shape is required")),
        };
        if kernel.len() != rank || kernel.contains(&0) {
            return Err(Error::invalid(format!(
                "kernel {kernel:?} does not fit input spatial shape {input:?}"
            )));
        }
        let (strides, dilations, pads) = self.params(rank)?;
        let mut g = Geom {
            input: input.to_vec(),
            output: vec![0; rank],
            pad_begin: pads[..rank].to_vec(),
            pad_end: pads[rank..].to_vec(),
            kernel,
            strides,
            dilations,
        };
        #[allow(clippy::needless_range_loop)]
        for i in 0..rank {
            let (n, s) = (input[i], g.strides[i]);
            let span = (g.kernel[i] - 1) * g.dilations[i] + 1;
            match self.auto_pad {
                AutoPad::SameUpper | AutoPad::SameLower => {
                    let out = n.div_ceil(s);
                    let total = ((out.max(1) - 1) * s + span).saturating_sub(n);
                    let small = total / 2;
                    let (b, e) = if self.auto_pad == AutoPad::SameUpper {
                        (small, total - small)
                    } else {
                        (total - small, small)
                    };
                    (g.pad_begin[i], g.pad_end[i], g.output[i]) = (b, e, out);
                }
                AutoPad::Valid | AutoPad::NotSet => {
                    if self.auto_pad == AutoPad::Valid {
                        (g.pad_begin[i], g.pad_end[i]) = (0, 0);
                    }
                    let padded = n + g.pad_begin[i] + g.pad_end[i];
                    if padded < span {
                        return Err(Error::invalid(format!(
                            "window {span} (kernel {:?}, dilations {:?}) is larger than padded input {padded} on axis {i}",
                            g.kernel, g.dilations
                        )));
                    }
                    let mut out = (padded - span) / s + 1;
                    if self.ceil && !(padded - span).is_multiple_of(s) {
                        out += 1;
                        // A window that would start in the end padding is dropped.
                        if (out - 1) * s >= n + g.pad_begin[i] {
                            out -= 1;
                        }
                    }
                    g.output[i] = out;
                }
            }
        }
        Ok(g)
    }
}

impl Geom {
    pub fn rank(&self) -> usize {
        self.input.len()
    }
    /// The same window with leading unit axes added up to `rank` axes, so that 1-D
    /// and 2-D problems can run through 2-D or 3-D loops.
    pub fn lifted(&self, rank: usize) -> Geom {
        let lift = |v: &[usize], fill: usize| {
            let mut out = vec![fill; rank.saturating_sub(v.len())];
            out.extend_from_slice(v);
            out
        };
        Geom {
            input: lift(&self.input, 1),
            output: lift(&self.output, 1),
            kernel: lift(&self.kernel, 1),
            strides: lift(&self.strides, 1),
            dilations: lift(&self.dilations, 1),
            pad_begin: lift(&self.pad_begin, 0),
            pad_end: lift(&self.pad_end, 0),
        }
    }
    /// The last `rank` axes (a lifted window's own, when the leading ones are
    /// unit axes).
    pub fn trailing(&self, rank: usize) -> Geom {
        let keep = |v: &[usize]| v[v.len().saturating_sub(rank)..].to_vec();
        Geom {
            input: keep(&self.input),
            output: keep(&self.output),
            kernel: keep(&self.kernel),
            strides: keep(&self.strides),
            dilations: keep(&self.dilations),
            pad_begin: keep(&self.pad_begin),
            pad_end: keep(&self.pad_end),
        }
    }
    /// Output positions along axis `i` whose input index `o*stride + off` lies in
    /// `[0, input)`, for a kernel tap at signed offset `off`.
    pub fn valid(&self, i: usize, off: isize) -> (usize, usize) {
        let (n, s, out) = (
            self.input[i] as isize,
            self.strides[i] as isize,
            self.output[i] as isize,
        );
        let lo = if off >= 0 { 0 } else { (-off + s - 1) / s };
        let hi = if n - off <= 0 {
            0
        } else {
            ((n - off + s - 1) / s).min(out)
        };
        (lo.min(out) as usize, hi.max(lo.min(out)) as usize)
    }
    /// The signed input offset of kernel tap `k` on axis `i`.
    pub fn tap(&self, i: usize, k: usize) -> isize {
        (k * self.dilations[i]) as isize - self.pad_begin[i] as isize
    }
}
