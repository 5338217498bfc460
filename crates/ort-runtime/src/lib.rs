//! # ort-runtime: sessions over plugin execution providers
//!
//! The data flow, one module per stage:
//!
//! 1. load: [`model::load`] parses, validates and infers types;
//! 2. [`discovery`]: provider libraries are found, version-checked and probed
//!    (before optimizing: constant folding runs nodes on the CPU provider);
//! 3. optimize: [`ort_optimizer::PassManager`] at the session's [`Level`];
//! 4. [`partition`]: providers in priority order claim node groups (GetCapability);
//! 5. [`plan`]: each group is compiled into one step, copies are inserted where a
//!    value changes memory, and each value's last use is recorded
//!    ([`explain`] reports the partitioning for `--explain`);
//! 6. [`execute`]: steps run in order; If / Loop / Scan / SequenceMap run in the host over their
//!    own sub-plans; outputs come from the session's [`arena`].
//!
//! On top of a session, [`generate`] runs greedy decoding with a KV cache
//! (what `ort generate` prints).
//!
//! ```no_run
//! use ort_runtime::{Session, ndarray::ArrayD};
//! let session = Session::builder().threads(2).load("model.onnx")?;
//! let x = ArrayD::<f32>::zeros(vec![1, 3, 224, 224]);
//! let out = session.run(&[("input", ort_runtime::value(x))], &[])?;
//! let y = ort_runtime::array::<f32>(&out[0])?;
//! println!("{:?}", y.shape());
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

pub mod arena;
pub mod discovery;
pub mod error;
pub mod execute;
pub mod explain;
mod fold;
pub mod generate;
pub mod host_ops;
pub mod model;
pub mod partition;
pub mod plan;
pub mod profile;
mod session;

pub use error::{Context, Error, ErrorKind, Result};
pub use explain::{Explain, ExplainNode};
pub use model::{Model, ValueDecl};
pub use ndarray;
pub use ort_core::{ElemType, Element, Tensor, TypeInfo, Value};
pub use ort_optimizer::{Level, Pass, PassContext, PassReport, FUSED_DOMAIN};
pub use session::{Session, SessionBuilder};

/// An ndarray as a runtime value (no copy when it is in standard layout).
pub fn value<T: Element, D: ndarray::Dimension>(a: ndarray::Array<T, D>) -> Value {
    let shape: Vec<i64> = a.shape().iter().map(|&d| d as i64).collect();
    let data = if a.is_standard_layout() {
        a.into_raw_vec_and_offset().0
    } else {
        a.iter().cloned().collect()
    };
    Value::Tensor(Tensor::from_vec(&shape, data).expect("shape matches data"))
}

/// A tensor value as an ndarray (copies the elements).
pub fn array<T: Element>(v: &Value) -> Result<ndarray::ArrayD<T>> {
    let t = v.tensor().map_err(|e| Error::input(e.to_string()))?;
    let dims: Vec<usize> = t.shape().iter().map(|&d| d as usize).collect();
    let data = t.to_vec::<T>().map_err(|e| Error::input(e.to_string()))?;
    ndarray::ArrayD::from_shape_vec(dims, data).map_err(|e| Error::input(e.to_string()))
}

#[cfg(test)]
mod tests {
    #[test]
    fn session_is_send_and_sync() {
        fn check<T: Send + Sync>() {}
        check::<super::Session>();
    }
}
