//! Where: condition, X and Y broadcast as ndarray views and zipped elementwise into the
//! output (a parallel Zip for large outputs), cloning elements of any type.

use ndarray::{ArrayViewD, ArrayViewMutD, IxDyn, Zip};
use ort_core::{Error, Value};

use crate::kernel::{input, one, Ctx, Kernel, Outputs};
use crate::ops::{ANY, LATEST};
use crate::util::{broadcast_all, dims, Movable, PAR_MIN_LEN};

/// Picks from X or Y by a bool condition, three-way broadcast; any element type.
pub(crate) struct Where;

impl Kernel for Where {
    fn compute(&self, inputs: &[Option<&Value>], ctx: &Ctx<'_>) -> Outputs {
        let (c, x, y) = (input(inputs, 0)?, input(inputs, 1)?, input(inputs, 2)?);
        let shape = broadcast_all(&[c.shape(), x.shape(), y.shape()])?;
        let d = dims(&shape);
        let cs = c.as_slice::<bool>()?;
        let bad = |e: ndarray::ShapeError| Error::invalid(e.to_string());
        one(crate::dispatch_move!(x.elem(), T => {
            let (xs, ys) = (T::elems_of(x)?, T::elems_of(y)?);
            let view = |s: &[usize]| IxDyn(s);
            let nob = || Error::invalid("inputs cannot be broadcast");
            let cv = ArrayViewD::from_shape(view(&dims(c.shape())), cs).map_err(bad)?;
            let xv = ArrayViewD::from_shape(view(&dims(x.shape())), &xs[..]).map_err(bad)?;
            let yv = ArrayViewD::from_shape(view(&dims(y.shape())), &ys[..]).map_err(bad)?;
            let cv = cv.broadcast(view(&d)).ok_or_else(nob)?;
            let xv = xv.broadcast(view(&d)).ok_or_else(nob)?;
            let yv = yv.broadcast(view(&d)).ok_or_else(nob)?;
            T::new_tensor(ctx, x.elem(), &shape, |out| {
                let o = ArrayViewMutD::from_shape(view(&d), out).expect("output matches its shape");
                let z = Zip::from(o).and(cv).and(xv).and(yv);
                if d.iter().product::<usize>() >= PAR_MIN_LEN {
                    z.par_for_each(pick::<T>);
                } else {
                    z.for_each(pick::<T>);
                }
            })
        })?)
    }
}

fn pick<T: Movable>(o: &mut T, &c: &bool, x: &T, y: &T) {
    *o = if c { x.clone() } else { y.clone() };
}

crate::register!("Where", [9, LATEST], ANY, same: [1, 2], |_| Ok(Box::new(Where)));
