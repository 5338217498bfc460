//! Extended level: fusions into the ops of [`crate::FUSED_DOMAIN`]
//! (see `docs/fused-ops.md`) that the CPU provider implements.

mod gelu;

use crate::Pass;

pub use gelu::GeluFusion;

/// The fusions, in the order they run.
pub fn passes() -> Vec<Box<dyn Pass>> {
    vec![Box::new(GeluFusion)]
}
