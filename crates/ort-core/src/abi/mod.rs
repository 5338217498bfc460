//! Everything that touches `abi_stable` lives in this module tree, behind the
//! project's own names, so the layer could be swapped for another one.

mod graph;
mod provider;
mod status;
mod types;
mod value;

use std::path::Path;

pub use abi_stable::std_types::{RBox, ROption, RResult, RSlice, RString, RVec, Tuple2};
pub use graph::{AttrValue, Attribute, GraphView, NodeView};
pub use provider::{
    default_can_copy, AbiVersion, Availability, Capability, FusedNode, HostServices, HostVtable,
    HostVtableRef, MemoryInfo, PartitionObj, PartitionVtable, PartitionVtableRef, ProviderInfo,
    ProviderLib, ProviderLibRef, ProviderObj, ProviderVtable, ProviderVtableRef, ScopeFn,
};
pub use status::{AbiResult, Error, ErrorCode};
pub use types::{Dim, ElemType, TypeInfo};
pub use value::{
    vec_buffer, Buffer, BufferVtable, DeviceId, MemoryKind, Tensor, UniqueBuffer, Value,
};

/// Loads a provider library by path and checks its layout against ours.
///
/// Each library is loaded by path (not with abi_stable's directory loader, which keeps
/// one module per interface type). The library is never unloaded.
pub fn load_root_module(path: &Path) -> Result<ProviderLibRef, String> {
    use abi_stable::library::{lib_header_from_path, LibraryError};
    let header = lib_header_from_path(path).map_err(|e| match e {
        LibraryError::OpenError { .. } => format!("cannot open: {}", first_line(&e.to_string())),
        LibraryError::GetSymbolError { .. } => {
            "not an ort provider (no abi_stable root module exported)".to_string()
        }
        other => squash(&other.to_string()),
    })?;
    header
        .init_root_module::<ProviderLibRef>()
        .map_err(|e| match e {
            LibraryError::IncompatibleVersionNumber {
                expected_version,
                actual_version,
                ..
            } => format!(
                "built against ort-core {actual_version}, the host has ort-core {expected_version}"
            ),
            other => format!("incompatible layout: {}", squash(&other.to_string())),
        })
}

fn first_line(s: &str) -> String {
    s.trim().lines().next().unwrap_or("").to_string()
}

fn squash(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

#[doc(hidden)]
pub mod __export {
    //! Used by `export_provider!`; not part of the public API.
    pub use abi_stable::library::{
        __call_root_module_loader, CheckTypeLayout, LibHeader, RootModuleResult,
    };
    pub use abi_stable::prefix_type::{PrefixTypeTrait, WithMetadata};
    pub use abi_stable::staticref;

    /// The symbol abi_stable looks up in a library (checked by a unit test against
    /// `abi_stable::library::ROOT_MODULE_LOADER_NAME`).
    pub const ROOT_MODULE_SYMBOL: &str = abi_stable::library::ROOT_MODULE_LOADER_NAME;
}

#[cfg(test)]
mod tests {
    /// `export_provider!` spells this symbol out; it must be the one abi_stable looks up.
    #[test]
    fn export_macro_uses_the_loader_symbol() {
        let src = include_str!("../plugin.rs");
        let needle = format!("static {}:", super::__export::ROOT_MODULE_SYMBOL);
        assert!(src.contains(&needle), "plugin.rs must export {needle}");
    }

    #[test]
    fn version_policy() {
        let host = super::AbiVersion { major: 1, minor: 3 };
        assert!(host.accepts(super::AbiVersion { major: 1, minor: 0 }));
        assert!(host.accepts(super::AbiVersion { major: 1, minor: 3 }));
        assert!(!host.accepts(super::AbiVersion { major: 1, minor: 4 }));
        assert!(!host.accepts(super::AbiVersion { major: 2, minor: 0 }));
        assert!(!host.accepts(super::AbiVersion { major: 0, minor: 2 }));
    }
}
