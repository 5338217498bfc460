//! Col2Im (opset 18): sums columns of sliding blocks back into an image, any
//! number of spatial axes.

use ort_core::{Error, Value};
use rayon::prelude::*;

use super::{data, output, Flt, PAR_WORK};
use crate::kernel::{input, one, Ctx, Kernel, NodeInfo, Outputs};
use crate::ops::{FLOATS, LATEST};

struct Col2Im {
    dilations: Option<Vec<i64>>,
    pads: Option<Vec<i64>>,
    strides: Option<Vec<i64>>,
}

fn build(info: &NodeInfo<'_, '_>) -> Result<Box<dyn Kernel>, Error> {
    Ok(Box::new(Col2Im {
        dilations: info.ints("dilations")?,
        pads: info.ints("pads")?,
        strides: info.ints("strides")?,
    }))
}

/// Per axis: image size, kernel size, blocks, stride, dilation, begin pad.
struct Axes {
    image: Vec<usize>,
    kernel: Vec<usize>,
    blocks: Vec<usize>,
    stride: Vec<usize>,
    dilation: Vec<usize>,
    pad: Vec<usize>,
}

impl Col2Im {
    fn axes(&self, image: &[i64], kernel: &[i64]) -> Result<Axes, Error> {
        let k = image.len();
        let get =
            |v: &Option<Vec<i64>>, len: usize, d: i64, name: &str| -> Result<Vec<i64>, Error> {
                match v {
                    None => Ok(vec![d; len]),
                    Some(v) if v.len() == len => Ok(v.clone()),
                    Some(v) => Err(Error::invalid(format!(
                        "{name} {v:?} does not fit {k} spatial axes"
                    ))),
                }
            };
        let dil = get(&self.dilations, k, 1, "dilations")?;
        let pads = get(&self.pads, 2 * k, 0, "pads")?;
        let strides = get(&self.strides, k, 1, "strides")?;
        if kernel.len() != k
            || image.iter().chain(kernel).any(|&v| v <= 0)
            || dil.iter().chain(&strides).any(|&v| v <= 0)
            || pads.iter().any(|&v| v < 0)
        {
            return Err(Error::invalid(format!(
                "Col2Im: bad image_shape {image:?}, block_shape {kernel:?}, dilations {dil:?}, strides {strides:?} or pads {pads:?}"
            )));
        }
        let mut blocks = Vec::with_capacity(k);
        for i in 0..k {
            let span = dil[i] * (kernel[i] - 1) + 1;
            let padded = image[i] + pads[i] + pads[i + k];
            if padded < span {
                return Err(Error::invalid(format!(
                    "Col2Im: block {span} is larger than padded image {padded} on axis {i}"
                )));
            }
            blocks.push(((padded - span) / strides[i] + 1) as usize);
        }
        let u = |v: &[i64]| v.iter().map(|&x| x as usize).collect::<Vec<_>>();
        Ok(Axes {
            image: u(image),
            kernel: u(kernel),
            blocks,
            stride: u(&strides),
            dilation: u(&dil),
            pad: u(&pads[..k]),
        })
    }
}

/// Multi-index of the row-major linear index `i` over `shape`.
fn unravel(mut i: usize, shape: &[usize], out: &mut [usize]) {
    for d in (0..shape.len()).rev() {
        out[d] = i % shape[d];
        i /= shape[d];
    }
}

fn run<F: Flt>(a: &Axes, x: &[F], out: &mut [F], kprod: usize, threads: usize) {
    let k = a.image.len();
    let img: usize = a.image.iter().product();
    let nb: usize = a.blocks.iter().product();
    let plane = |p: usize, o: &mut [F]| {
        o.fill(F::zero());
        let (mut ki, mut bi) = (vec![0; k], vec![0; k]);
        for kk in 0..kprod {
            unravel(kk, &a.kernel, &mut ki);
            let col = &x[(p * kprod + kk) * nb..][..nb];
            for (b, &v) in col.iter().enumerate() {
                unravel(b, &a.blocks, &mut bi);
                let mut off = 0usize;
                let mut inside = true;
                for d in 0..k {
                    let pos =
                        (bi[d] * a.stride[d] + ki[d] * a.dilation[d]) as isize - a.pad[d] as isize;
                    if pos < 0 || pos >= a.image[d] as isize {
                        inside = false;
                        break;
                    }
                    off = off * a.image[d] + pos as usize;
                }
                if inside {
                    o[off] += v;
                }
            }
        }
    };
    if img == 0 {
        return;
    }
    if threads > 1 && x.len() >= PAR_WORK {
        out.par_chunks_mut(img)
            .enumerate()
            .for_each(|(p, o)| plane(p, o));
    } else {
        out.chunks_mut(img)
            .enumerate()
            .for_each(|(p, o)| plane(p, o));
    }
}

impl Kernel for Col2Im {
    fn compute(&self, inputs: &[Option<&Value>], ctx: &Ctx<'_>) -> Outputs {
        let x = input(inputs, 0)?;
        let image = input(inputs, 1)?.to_i64_vec()?;
        let block = input(inputs, 2)?.to_i64_vec()?;
        let a = self.axes(&image, &block)?;
        let xs = x.shape();
        let kprod: usize = a.kernel.iter().product();
        let nb: usize = a.blocks.iter().product();
        if xs.len() != 3 || !(xs[1] as usize).is_multiple_of(kprod) || xs[2] as usize != nb {
            return Err(Error::invalid(format!(
                "Col2Im: input {xs:?} must be (N, C·{kprod}, {nb})"
            )));
        }
        let mut shape = vec![xs[0], xs[1] / kprod as i64];
        shape.extend_from_slice(&image);
        one(with_float!(x.elem(), F => {
            let xd = data::<F>(x)?;
            output::<F>(ctx, x.elem(), &shape, |o| run(&a, &xd, o, kprod, ctx.threads))
        })?)
    }
}

crate::register!("Col2Im", [18, LATEST], FLOATS, build);
