//! MaxRoiPool: max over a grid of bins laid on each region of interest (Caffe's
//! ROI pooling: integer-rounded box corners, bins with floor/ceil edges, empty bins 0).

use ort_core::{Error, Value};

use super::{data, output};
use crate::kernel::{input, one, Ctx, Kernel, NodeInfo, Outputs};
use crate::ops::{FLOATS, LATEST};

struct MaxRoiPool {
    pooled: [usize; 2],
    scale: f64,
}

fn build(info: &NodeInfo<'_, '_>) -> Result<Box<dyn Kernel>, Error> {
    let p = info
        .ints("pooled_shape")?
        .ok_or_else(|| Error::invalid("MaxRoiPool needs the pooled_shape attribute"))?;
    match p.as_slice() {
        &[h, w] if h > 0 && w > 0 => Ok(Box::new(MaxRoiPool {
            pooled: [h as usize, w as usize],
            scale: info.float("spatial_scale", 1.0)? as f64,
        })),
        _ => Err(Error::invalid(format!(
            "pooled_shape must be two positive sizes, got {p:?}"
        ))),
    }
}

impl Kernel for MaxRoiPool {
    fn compute(&self, inputs: &[Option<&Value>], ctx: &Ctx<'_>) -> Outputs {
        let (x, rois) = (input(inputs, 0)?, input(inputs, 1)?);
        let &[n, c, h, w] = x.shape() else {
            return Err(Error::invalid(format!(
                "X must be 4-D [N, C, H, W], got {:?}",
                x.shape()
            )));
        };
        let &[r, 5] = rois.shape() else {
            return Err(Error::invalid(format!(
                "rois must be [num_rois, 5], got {:?}",
                rois.shape()
            )));
        };
        let [ph, pw] = self.pooled;
        let (c, h, w) = (c as usize, h as usize, w as usize);
        let shape = [r, c as i64, ph as i64, pw as i64];
        one(with_float!(x.elem(), F => {
            let xd = data::<F>(x)?;
            let rd = data::<F>(rois)?;
            use crate::ops::nn::Flt as _;
            let mut boxes = Vec::with_capacity(r as usize);
            for b in rd.chunks(5) {
                let batch = b[0].f64() as i64;
                if !(0..n).contains(&batch) {
                    return Err(Error::invalid(format!(
                        "roi batch index {batch} is outside the {n} images"
                    )));
                }
                let corner = |v: F| (v.f64() * self.scale).round() as i64;
                boxes.push((batch as usize, corner(b[1]), corner(b[2]), corner(b[3]), corner(b[4])));
            }
            output::<F>(ctx, x.elem(), &shape, |o| {
                let plane = ph * pw;
                for (ri, &(bi, x1, y1, x2, y2)) in boxes.iter().enumerate() {
                    let bh = (y2 - y1 + 1).max(1) as f64 / ph as f64;
                    let bw = (x2 - x1 + 1).max(1) as f64 / pw as f64;
                    let clip = |v: i64, hi: usize| v.clamp(0, hi as i64) as usize;
                    for ci in 0..c {
                        let img = &xd[(bi * c + ci) * h * w..][..h * w];
                        let out = &mut o[(ri * c + ci) * plane..][..plane];
                        for py in 0..ph {
                            let hs = clip((py as f64 * bh).floor() as i64 + y1, h);
                            let he = clip(((py + 1) as f64 * bh).ceil() as i64 + y1, h);
                            for px in 0..pw {
                                let ws = clip((px as f64 * bw).floor() as i64 + x1, w);
                                let we = clip(((px + 1) as f64 * bw).ceil() as i64 + x1, w);
                                let mut m = F::zero();
                                if he > hs && we > ws {
                                    m = F::neg_infinity();
                                    for yy in hs..he {
                                        for &v in &img[yy * w + ws..yy * w + we] {
                                            if v > m {
                                                m = v;
                                            }
                                        }
                                    }
                                }
                                out[py * pw + px] = m;
                            }
                        }
                    }
                }
            })
        })?)
    }
}

crate::register!("MaxRoiPool", [1, LATEST], FLOATS, build);

#[cfg(test)]
mod tests {
    use ort_core::abi::AttrValue;

    use crate::testing::{attr, f32s, out_f32, run_node};

    /// Worked by hand: a 4x4 ramp, one box over the whole image and one over its
    /// lower-right 2x2 corner, pooled 2x2.
    #[test]
    fn pools_max_per_bin() {
        let x: Vec<f32> = (0..16).map(|v| v as f32).collect();
        let rois = [0., 0., 0., 3., 3., 0., 2., 2., 3., 3.];
        let o = run_node(
            "MaxRoiPool",
            1,
            &[f32s(&[1, 1, 4, 4], &x), f32s(&[2, 5], &rois)],
            vec![attr("pooled_shape", AttrValue::Ints(vec![2, 2].into()))],
            1,
        )
        .unwrap();
        assert_eq!(
            out_f32(&o, 0),
            (vec![2, 1, 2, 2], vec![5., 7., 13., 15., 10., 11., 14., 15.])
        );
    }
}
