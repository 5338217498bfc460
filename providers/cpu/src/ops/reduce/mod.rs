//! reduce ops.
