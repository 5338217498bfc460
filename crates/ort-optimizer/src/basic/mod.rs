//! Basic level: provider-independent rewrites that keep the graph in standard ONNX
//! (and, at the extended level, the folding of dequantized constants).

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
        Box::new(DequantizeConstants),
    ]
}
