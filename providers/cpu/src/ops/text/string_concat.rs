//! StringConcat: broadcasts both string tensors as ndarray views and zips them, appending
//! each y element to its x element in a new string.

use ndarray::IxDyn;
use ort_core::abi::RString;
use ort_core::{Error, Tensor, Value};

use super::strings;
use crate::kernel::{input, one, Ctx, Kernel, Outputs};
use crate::ops::LATEST;
use crate::util::{broadcast_all, dims};

fn view(t: &Tensor) -> Result<ndarray::ArrayViewD<'_, RString>, Error> {
    ndarray::ArrayViewD::from_shape(IxDyn(&dims(t.shape())), strings(t)?)
        .map_err(|e| Error::invalid(e.to_string()))
}

/// StringConcat: elementwise `x + y` with broadcasting.
struct StringConcat;

impl Kernel for StringConcat {
    fn compute(&self, inputs: &[Option<&Value>], _: &Ctx<'_>) -> Outputs {
        let (x, y) = (input(inputs, 0)?, input(inputs, 1)?);
        let shape = broadcast_all(&[x.shape(), y.shape()])?;
        let d = IxDyn(&dims(&shape));
        let (xv, yv) = (view(x)?, view(y)?);
        let bad = || Error::invalid("inputs cannot be broadcast together");
        let (xv, yv) = (
            xv.broadcast(d.clone()).ok_or_else(bad)?,
            yv.broadcast(d).ok_or_else(bad)?,
        );
        let out: Vec<RString> = ndarray::Zip::from(&xv)
            .and(&yv)
            .map_collect(|a, b| {
                let mut s = String::with_capacity(a.len() + b.len());
                s.push_str(a.as_str());
                s.push_str(b.as_str());
                RString::from(s)
            })
            .into_iter()
            .collect();
        one(Tensor::from_vec(&shape, out)?)
    }
}

crate::register!("StringConcat", [20, LATEST], crate::ops::ANY, |_| Ok(
    Box::new(StringConcat)
));
