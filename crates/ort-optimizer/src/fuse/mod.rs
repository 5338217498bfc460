//! Extended level: fusions into the ops of [`crate::FUSED_DOMAIN`]
//! (see `docs/fused-ops.md`) that the CPU provider implements.

mod activation;
mod bias_add;
mod gelu;

use crate::Pass;

pub use activation::ActivationFusion;
pub use bias_add::BiasAddFusion;
pub use gelu::GeluFusion;

/// The fusions, in the order they run.
pub fn passes() -> Vec<Box<dyn Pass>> {
    vec![
        Box::new(GeluFusion),
        Box::new(BiasAddFusion),
        Box::new(ActivationFusion),
    ]
}
