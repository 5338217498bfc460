//! Constant: builds the tensor once, at kernel build time, from the one value attribute
//! set, and returns a clone of it on each call.

use ort_core::abi::RString;
use ort_core::{Error, Tensor, Value};

use crate::kernel::{one, Ctx, Kernel, NodeInfo, Outputs};
use crate::ops::{ANY, LATEST};

/// The value is built once; each call hands out another reference to it.
struct Constant(Tensor);

impl Kernel for Constant {
    fn compute(&self, _: &[Option<&Value>], _: &Ctx<'_>) -> Outputs {
        one(self.0.clone())
    }
}

fn value(n: &NodeInfo<'_, '_>) -> Result<Tensor, Error> {
    let strs = |v: Vec<String>| v.into_iter().map(RString::from).collect::<Vec<_>>();
    let mut found = Vec::new();
    if let Some(t) = n.tensor("value")? {
        found.push(t);
    }
    if n.has("value_float") {
        found.push(Tensor::scalar(n.float("value_float", 0.0)?));
    }
    if let Some(v) = n.floats("value_floats")? {
        found.push(Tensor::from_vec(&[v.len() as i64], v)?);
    }
    if n.has("value_int") {
        found.push(Tensor::scalar(n.int("value_int", 0)?));
    }
    if let Some(v) = n.ints("value_ints")? {
        found.push(Tensor::from_vec(&[v.len() as i64], v)?);
    }
    if n.has("value_string") {
        found.push(Tensor::scalar(RString::from(n.string("value_string", "")?)));
    }
    if let Some(v) = n.strings("value_strings")? {
        found.push(Tensor::from_vec(&[v.len() as i64], strs(v))?);
    }
    if n.has("sparse_value") {
        return Err(Error::not_implemented(
            "Constant with a sparse_value is not supported",
        ));
    }
    match found.len() {
        1 => Ok(found.pop().unwrap()),
        0 => Err(Error::invalid("Constant needs one value attribute")),
        _ => Err(Error::invalid("Constant has more than one value attribute")),
    }
}

crate::register!("Constant", [1, LATEST], ANY, |n| Ok(Box::new(Constant(
    value(n)?
))));
