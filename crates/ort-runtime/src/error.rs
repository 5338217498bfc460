//! The runtime's error: a kind, a message from where it happened, and the
//! context (file, step, op, provider, pass) that each layer adds as it travels
//! up. The one-line text is built once, when it is displayed.

use std::fmt;

/// The stage that failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    /// Loading or validating the model.
    Model,
    /// No usable provider, or a provider refused to start.
    Provider,
    /// An optimizer pass failed.
    Optimize,
    /// A node no provider can run, or a provider's capability or compile failed.
    Partition,
    /// A file could not be written.
    Io,
    /// Wrong inputs from the caller.
    Input,
    /// A kernel or the executor failed during `run`.
    Run,
}

/// Where an error happened; each field is set once, by the innermost layer that
/// knows it.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Context {
    pub file: Option<String>,
    /// The plan step: a node's name or a fused partition's.
    pub step: Option<String>,
    /// The step's op type(s).
    pub op: Option<String>,
    pub provider: Option<String>,
    /// The optimizer pass.
    pub pass: Option<String>,
}

#[derive(Debug)]
pub struct Error {
    kind: ErrorKind,
    message: String,
    /// Boxed: errors travel through every `Result` of the run loop.
    context: Box<Context>,
}

impl Error {
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> Error {
        Error {
            kind,
            message: message.into(),
            context: Box::default(),
        }
    }
    pub fn provider(m: impl Into<String>) -> Error {
        Error::new(ErrorKind::Provider, m)
    }
    pub fn partition(m: impl Into<String>) -> Error {
        Error::new(ErrorKind::Partition, m)
    }
    pub fn io(m: impl Into<String>) -> Error {
        Error::new(ErrorKind::Io, m)
    }
    pub fn input(m: impl Into<String>) -> Error {
        Error::new(ErrorKind::Input, m)
    }
    pub fn run(m: impl Into<String>) -> Error {
        Error::new(ErrorKind::Run, m)
    }

    pub fn kind(&self) -> ErrorKind {
        self.kind
    }
    /// What went wrong, without the context.
    pub fn message(&self) -> &str {
        &self.message
    }
    pub fn context(&self) -> &Context {
        &self.context
    }

    /// Names the model file, unless a file is named already.
    pub fn in_file(mut self, file: &str) -> Error {
        self.context.file.get_or_insert_with(|| file.to_string());
        self
    }
    /// Locates the error at a plan step, unless an inner step (in a control-flow
    /// body) located it already.
    pub fn at_step(mut self, step: &str, op: &str, provider: &str) -> Error {
        if self.context.step.is_none() {
            self.context.step = Some(step.to_string());
            self.context.op = Some(op.to_string());
            self.context.provider = Some(provider.to_string());
        }
        self
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let c = &self.context;
        if let Some(file) = &c.file {
            write!(f, "{file}: ")?;
        }
        if let Some(pass) = &c.pass {
            write!(f, "optimizer pass {pass}: ")?;
        }
        if let Some(step) = &c.step {
            write!(f, "step {step}")?;
            match (&c.op, &c.provider) {
                (Some(op), Some(p)) => write!(f, " ({op} on {p})")?,
                (Some(op), None) => write!(f, " ({op})")?,
                _ => {}
            }
            write!(f, ": ")?;
        }
        f.write_str(&self.message)
    }
}

impl std::error::Error for Error {}

impl From<ort_graph::GraphError> for Error {
    fn from(e: ort_graph::GraphError) -> Error {
        use ort_graph::GraphError as G;
        let (file, message) = match e {
            G::Io { file, reason } => (file, format!("cannot read: {reason}")),
            G::Decode { file, reason } => (
                file,
                format!("not a valid ONNX model (not protobuf, or truncated): {reason}"),
            ),
            G::Invalid { file, reason } => (file, reason),
        };
        Error::new(ErrorKind::Model, message).in_file(&file)
    }
}

impl From<ort_optimizer::PassError> for Error {
    fn from(e: ort_optimizer::PassError) -> Error {
        let mut err = Error::new(
            ErrorKind::Optimize,
            format!("on graph '{}': {}", e.graph, e.message),
        );
        err.context.pass = Some(e.pass);
        err
    }
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_innermost_step_and_the_file_make_one_line() {
        let e = Error::run("index 7 out of range")
            .at_step("gather_1", "Gather", "cpu")
            .at_step("loop_0", "Loop", "host")
            .in_file("m.onnx");
        assert_eq!(e.kind(), ErrorKind::Run);
        assert_eq!(e.context().step.as_deref(), Some("gather_1"));
        assert_eq!(
            e.to_string(),
            "m.onnx: step gather_1 (Gather on cpu): index 7 out of range"
        );
    }

    #[test]
    fn a_pass_error_names_the_pass_and_graph() {
        let e: Error = ort_optimizer::PassError {
            pass: "mine".into(),
            graph: "g".into(),
            message: "boom".into(),
        }
        .into();
        let e = e.in_file("m.onnx");
        assert_eq!(e.kind(), ErrorKind::Optimize);
        assert_eq!(
            e.to_string(),
            "m.onnx: optimizer pass mine: on graph 'g': boom"
        );
    }
}
