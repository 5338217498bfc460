//! # ort-graph: ONNX models in, a validated graph IR out
//!
//! - [`proto`]: the ONNX protobuf (prost code generated from the vendored
//!   `proto/onnx/*.proto3`, committed so no protoc is needed).
//! - [`load`]: bytes → [`ir::Model`]: convert, inline model-local functions, sort
//!   topologically, [`validate`], [`infer`] types and shapes.
//! - [`tensor`] / [`value_io`]: tensors and values to and from their protobuf forms.
//! - [`save`]: [`ir::Model`] → ONNX bytes, for `ort optimize`.
//! - [`view`]: the ABI's read-only graph view that providers see.
//!
//! Errors name the file, node, op and reason.

pub mod error;
mod functions;
pub mod infer;
pub mod ir;
pub mod load;
pub mod save;
pub mod tensor;
pub mod topo;
pub mod validate;
pub mod value_io;
pub mod view;

#[allow(clippy::all, missing_docs, rustdoc::all)]
pub mod proto {
    //! The ONNX protobuf messages.
    include!("proto/onnx.rs");
}

pub use error::GraphError;
pub use ir::{Attr, AttrValue, Graph, Model, Node, ValueDecl};
pub use load::{load, load_bytes};
pub use save::save;
