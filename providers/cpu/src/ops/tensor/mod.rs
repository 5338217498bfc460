//! tensor ops.
