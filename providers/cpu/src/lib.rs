//! # The CPU execution provider
//!
//! A `cdylib` plugin (`libort_provider_cpu.so`) that the host loads at run time. It is
//! the guaranteed fallback: it claims every node whose op, domain, opset and element
//! type has a registered kernel, one node per group, so the host's memory planner and
//! scheduler see every node (see docs/architecture.md).
//!
//! - [`registry`]: kernels register themselves with `inventory`, keyed by op, domain,
//!   opset range and element types.
//! - [`kernel`]: the [`kernel::Kernel`] trait, attribute access at compile time and
//!   the per-call context.
//! - `ops/<family>/<op>.rs`: one op per file.
//!
//! - `parallel`: the kernels' parallel loops, on workers that spin while a run lasts.
//!
//! Options: `threads` (intra-op threads; 0 = all cores), `spin` (1: idle workers
//! spin for work while a run lasts, the default; 0: they sleep).

pub mod kernel;
pub mod ops;
mod parallel;
mod provider;
pub mod registry;
#[doc(hidden)]
pub mod testing;
pub mod util;

pub use provider::CpuProvider;

ort_core::export_provider!(provider::CpuProvider);
