//! Extended level: fusions into the ops of [`crate::FUSED_DOMAIN`]
//! (see `docs/fused-ops.md`) that the CPU provider implements.

use crate::Pass;

/// The fusions, in the order they run.
pub fn passes() -> Vec<Box<dyn Pass>> {
    vec![]
}
