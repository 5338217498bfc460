//! # ort-core: the stable ABI between the ort host and its execution providers
//!
//! Providers are separately built `cdylib`s. Each exports one root module
//! ([`abi::ProviderLib`]) which the host loads by path with abi_stable's load-time
//! layout check, then checks [`ABI_VERSION`]. Libraries are never unloaded.
//!
//! - [`abi`]: the types that cross the boundary (tensors, values, the graph view,
//!   the provider, partition and host tables, errors). `docs/abi.md` documents them.
//! - [`plugin`]: what a provider author writes against: the [`plugin::Provider`] and
//!   [`plugin::Partition`] traits and [`export_provider!`], which builds the tables
//!   and catches every panic at the boundary.
//! - [`kit`]: helpers for provider authors: the one attribute reader
//!   ([`kit::Attributes`]), constants, shape arithmetic, and [`kit::lower`], the
//!   lowering framework the device providers share.
//! - [`host`]: safe wrappers the host uses to load and call providers.
//!
//! A provider depends on this crate only, never on the host runtime.

pub mod abi;
mod element;
pub mod host;
pub mod kit;
pub mod plugin;

pub use abi::{
    AttrValue, Capability, DeviceId, Dim, ElemType, Error, ErrorCode, GraphView, MemoryKind,
    NodeView, RString, Tensor, TypeInfo, Value,
};
pub use element::{Element, PodElement};
pub use half;

/// The domain of the ops the optimizer's fusions make (`docs/fused-ops.md`);
/// version 1 is the only one.
pub const FUSED_DOMAIN: &str = "ai.ort_rs.fused";

/// The ABI version this build of ort-core speaks. See `docs/abi.md` for the policy.
pub const ABI_VERSION: abi::AbiVersion = abi::AbiVersion { major: 1, minor: 3 };

/// `Result` with the boundary's error type.
pub type Result<T, E = Error> = std::result::Result<T, E>;
