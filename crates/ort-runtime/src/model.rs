//! Model and tensor files, for tools built on the runtime (the CLI among
//! them) that should not reach into the graph crate: load and save an ONNX
//! model, read and write one value in the ONNX test-data format.

use std::path::Path;

pub use ort_graph::value_io::{decode_value, encode_value};
pub use ort_graph::{Graph, Model, Node, ValueDecl};

use crate::error::{Error, Result};

/// Reads, validates and type-checks the ONNX model at `path` (external data
/// from beside it).
pub fn load(path: &Path) -> Result<Model> {
    Ok(ort_graph::load(path)?)
}

/// Writes `model` to `path` as an ONNX file.
pub fn save(model: &Model, path: &Path) -> Result<()> {
    // The message names the file already.
    ort_graph::save(model, path).map_err(Error::io)
}
