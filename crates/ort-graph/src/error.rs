//! Load and validation errors. Each names what is wrong: the file, node, op and reason.

/// An error found while loading or validating a model.
#[derive(Debug, thiserror::Error)]
pub enum GraphError {
    #[error("{file}: cannot read: {reason}")]
    Io { file: String, reason: String },
    #[error("{file}: not a valid ONNX model (not protobuf, or truncated): {reason}")]
    Decode { file: String, reason: String },
    #[error("{file}: {reason}")]
    Invalid { file: String, reason: String },
}

impl GraphError {
    pub fn invalid(file: &str, reason: impl Into<String>) -> GraphError {
        GraphError::Invalid {
            file: file.to_string(),
            reason: reason.into(),
        }
    }
}
