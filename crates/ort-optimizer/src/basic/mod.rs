//! Basic level: provider-independent rewrites that keep the graph in standard ONNX.

use crate::Pass;

/// The basic passes, in the order they run.
pub fn passes() -> Vec<Box<dyn Pass>> {
    vec![]
}
