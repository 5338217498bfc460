//! Basic level: provider-independent rewrites that keep the graph in standard
//! ONNX. `DequantizeConstants` lives here with the other folding but is an
//! extended-level pass, listed among the fusions (`fuse::passes`).

mod constant_folding;
mod cse;
mod redundant;

use crate::Pass;

pub use constant_folding::{ConstantFolding, DequantizeConstants};
pub use cse::CommonSubexpressions;
pub use redundant::RedundantNodes;

/// The basic passes, in the order they run.
pub fn passes() -> Vec<Box<dyn Pass>> {
    vec![
        Box::new(ConstantFolding),
        Box::new(RedundantNodes),
        Box::new(CommonSubexpressions),
    ]
}
