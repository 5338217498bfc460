//! The error that crosses the boundary: a code and a message.

use abi_stable::std_types::{RResult, RString};
use abi_stable::StableAbi;

/// An error code. A plain integer, not an enum, so that a code this side does
/// not know (from a newer peer) is still a valid value.
#[repr(transparent)]
#[derive(StableAbi, Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct ErrorCode(pub u32);

impl ErrorCode {
    pub const FAIL: ErrorCode = ErrorCode(1);
    pub const INVALID_ARGUMENT: ErrorCode = ErrorCode(2);
    pub const NOT_IMPLEMENTED: ErrorCode = ErrorCode(3);
    pub const INVALID_GRAPH: ErrorCode = ErrorCode(4);
    pub const RUNTIME: ErrorCode = ErrorCode(5);
    /// A panic was caught at the boundary.
    pub const PANIC: ErrorCode = ErrorCode(6);
    pub const OUT_OF_MEMORY: ErrorCode = ErrorCode(7);
    pub const UNAVAILABLE: ErrorCode = ErrorCode(8);

    pub fn name(self) -> &'static str {
        match self.0 {
            1 => "fail",
            2 => "invalid argument",
            3 => "not implemented",
            4 => "invalid graph",
            5 => "runtime error",
            6 => "panic",
            7 => "out of memory",
            8 => "unavailable",
            _ => "unknown error",
        }
    }
}

/// An error with a human-readable message.
#[repr(C)]
#[derive(StableAbi, Clone, Debug, PartialEq, Eq)]
pub struct Error {
    pub code: ErrorCode,
    pub message: RString,
}

impl Error {
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Error {
        Error {
            code,
            message: RString::from(message.into()),
        }
    }
    pub fn fail(message: impl Into<String>) -> Error {
        Error::new(ErrorCode::FAIL, message)
    }
    pub fn invalid(message: impl Into<String>) -> Error {
        Error::new(ErrorCode::INVALID_ARGUMENT, message)
    }
    pub fn not_implemented(message: impl Into<String>) -> Error {
        Error::new(ErrorCode::NOT_IMPLEMENTED, message)
    }
    pub fn message(&self) -> &str {
        &self.message
    }
}

/// A provider's GetCapability gives its reasons for refusing a node as text.
impl From<Error> for String {
    fn from(e: Error) -> String {
        e.message.into_string()
    }
}

impl std::fmt::Display for Error {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for Error {}

/// `Result` as it crosses the boundary.
pub type AbiResult<T> = RResult<T, Error>;
