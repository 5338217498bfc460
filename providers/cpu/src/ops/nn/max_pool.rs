//! MaxPool: window maxima by the shared `pool::stencil`, or a per-window scan when
//! indices are wanted; f32 without indices takes AVX-512 channel-lane or row kernels.

use ort_core::ElemType::*;
use ort_core::{ElemType, Error, PodElement, Tensor, Value};

use super::conv::Epilogue;
use super::pool::{stencil, Pool};
use super::window::Window;
use crate::kernel::{input, Ctx, Kernel, NodeInfo, Outputs};
use crate::ops::LATEST;
use crate::util::dims;

struct MaxPool {
    window: Window,
    column_major: bool,
    want_indices: bool,
}

const TYPES: &[ElemType] = &[F32, F64, F16, BF16, I8, U8];

pub(crate) fn build(info: &NodeInfo<'_, '_>) -> Result<Box<dyn Kernel>, Error> {
    Ok(Box::new(MaxPool {
        window: Window::parse(info)?,
        column_major: info.int("storage_order", 0)? == 1,
        want_indices: info.num_outputs() > 1 && !info.node.outputs[1].is_empty(),
    }))
}

/// MaxPool over `window` without indices, for a fused node that pools what
/// it computed (ConvMaxPool) where its own bands do not run.
pub(crate) fn without_indices(window: Window) -> Box<dyn Kernel> {
    Box::new(MaxPool {
        window,
        column_major: false,
        want_indices: false,
    })
}

impl Kernel for MaxPool {
    fn compute(&self, inputs: &[Option<&Value>], ctx: &Ctx<'_>) -> Outputs {
        let x = input(inputs, 0)?;
        let p = Pool::new(&self.window, x)?;
        let (y, i) = crate::dispatch_numeric!(x.elem(), T => self.run::<T>(&p, x, ctx))?;
        Ok(vec![Some(y.into()), i.map(Value::from)])
    }
}

impl MaxPool {
    fn run<T>(&self, p: &Pool, x: &Tensor, ctx: &Ctx<'_>) -> Result<(Tensor, Option<Tensor>), Error>
    where
        T: PodElement + PartialOrd + num_traits::Bounded + Larger,
    {
        let xd = x.as_slice::<T>()?;
        #[cfg(target_arch = "x86_64")]
        if let Some(y) = self.lanes(p, x, ctx)? {
            return Ok((y, None));
        }
        let (in_sz, g) = (p.in_size(), &p.g);
        let (id, ih, iw) = (g.input[0], g.input[1], g.input[2]);
        let (dd, dh, dw) = (g.dilations[0], g.dilations[1], g.dilations[2]);
        let spans = p.spans();
        let [sd, sh, sw] = &spans;
        let plane = |pi: usize, o: &mut [T], ix: Option<&mut [i64]>| {
            let xp = &xd[pi * in_sz..(pi + 1) * in_sz];
            let Some(ix) = ix else {
                return stencil(p, xp, o, T::min_value(), &spans, T::larger);
            };
            // With indices: window by window, remembering where the maximum was.
            let mut k = 0;
            for a in sd {
                for b in sh {
                    for c in sw {
                        let (mut v, mut at) = (T::min_value(), usize::MAX);
                        for kd in a.taps.clone() {
                            let d = (a.start + (kd * dd) as isize) as usize;
                            for kh in b.taps.clone() {
                                let row = (d * ih + (b.start + (kh * dh) as isize) as usize) * iw;
                                for kw in c.taps.clone() {
                                    let j = row + (c.start + (kw * dw) as isize) as usize;
                                    if at == usize::MAX || xp[j] > v {
                                        (v, at) = (xp[j], j);
                                    }
                                }
                            }
                        }
                        o[k] = v;
                        let at = if at == usize::MAX { 0 } else { at };
                        let (d, h, w) = (at / (ih * iw), at / iw % ih, at % iw);
                        let local = if self.column_major {
                            d + h * id + w * id * ih
                        } else {
                            at
                        };
                        ix[k] = (pi * in_sz + local) as i64;
                        k += 1;
                    }
                }
            }
        };
        let mut indices = None;
        let y = ctx.tensor::<T>(&p.out_shape, |out| {
            if self.want_indices {
                indices =
                    Some(ctx.tensor::<i64>(&p.out_shape, |ix| {
                        p.each(out, Some(ix), ctx.threads, plane)
                    }));
            } else {
                p.each(out, None, ctx.threads, plane);
            }
        })?;
        Ok((y, indices.transpose()?))
    }
}

impl MaxPool {
    /// f32 1-D and 2-D pooling without indices: 3×3 windows over rows a
    /// vector wide or more plane by plane (`depthwise_rows` on AVX-512,
    /// `depthwise_rows_avx2` on AVX2), others with channels as vector lanes
    /// (`channel_blocks`, AVX-512). None where none of them runs.
    #[cfg(target_arch = "x86_64")]
    fn lanes(&self, p: &Pool, x: &Tensor, ctx: &Ctx<'_>) -> Result<Option<Tensor>, Error> {
        use super::channel_blocks::{available, run, Fold};
        use super::{depthwise_rows, depthwise_rows_avx2};
        let xs = dims(x.shape());
        if x.elem() != F32 || self.want_indices || xs.len() > 4 {
            return Ok(None);
        }
        // 1-D and 2-D windows are lifted to 3-D with a unit leading axis.
        let g = p.g.trailing(2);
        type Rows = fn(&super::window::Geom, usize, &[f32], &mut [f32], usize);
        let rows: Option<Rows> = if depthwise_rows::fits(&g) {
            Some(depthwise_rows::max_pool)
        } else if depthwise_rows_avx2::pool_fits(&g) {
            Some(depthwise_rows_avx2::max_pool)
        } else {
            None
        };
        if rows.is_none() && !available() {
            return Ok(None);
        }
        let xd = x.as_slice::<f32>()?;
        let (c, in_sz) = (xs[1], p.in_size());
        let y = ctx.tensor::<f32>(&p.out_shape, |out| {
            let image_out = c * p.out_size();
            for (xn, on) in xd.chunks(c * in_sz).zip(out.chunks_mut(image_out)) {
                if let Some(rows) = rows {
                    rows(&g, c, xn, on, ctx.threads);
                    continue;
                }
                let ep = Epilogue { z: None, act: None };
                run(&g, c, xn, &Fold::Max, on, ep, ctx.threads);
            }
        })?;
        Ok(Some(y))
    }
}

/// The larger of two values as a max instruction: a plain `if` makes the
/// compiler emit masked stores in the pooling loop, which are far slower.
trait Larger {
    fn larger(self, other: Self) -> Self;
}

macro_rules! larger {
    ($($t:ty: $f:expr),*) => {$(impl Larger for $t {
        #[inline(always)]
        fn larger(self, other: Self) -> Self {
            $f(self, other)
        }
    })*};
}
larger!(f32: f32::max, f64: f64::max, i8: Ord::max, u8: Ord::max, i16: Ord::max, u16: Ord::max,
    i32: Ord::max, u32: Ord::max, i64: Ord::max, u64: Ord::max, half::f16: half::f16::max, half::bf16: half::bf16::max);

crate::register!("MaxPool", [1, LATEST], TYPES, build);
