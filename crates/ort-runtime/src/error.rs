//! The runtime's error type.

/// Anything that can go wrong between loading a model and returning its outputs.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error(transparent)]
    Graph(#[from] ort_graph::GraphError),
    /// No usable provider, or a provider refused to start.
    #[error("{0}")]
    Provider(String),
    /// An optimizer pass failed.
    #[error("{0}")]
    Optimize(String),
    /// A node no provider can run, or a provider's capability or compile failed.
    #[error("{0}")]
    Partition(String),
    /// A file could not be written.
    #[error("{0}")]
    Io(String),
    /// Wrong inputs from the caller.
    #[error("{0}")]
    Input(String),
    /// A kernel or the executor failed during `run`.
    #[error("{0}")]
    Run(String),
    /// A `Run` error located at the plan step where it happened (a step inside
    /// a control-flow body is located once, at the innermost step).
    #[error("step {at}: {message}")]
    Step { at: String, message: String },
}

pub type Result<T, E = Error> = std::result::Result<T, E>;
