//! logic ops.
