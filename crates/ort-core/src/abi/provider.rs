//! The provider interface: the root module a plugin exports, the per-session provider
//! object, compiled partitions, and the services the host offers during compute.
//!
//! Every table is an abi_stable *prefix type*: fields may be appended in later minor
//! versions, and a reader built against an older version sees only the prefix it knows.

use std::ffi::c_void;

use abi_stable::library::RootModule;
use abi_stable::sabi_types::VersionStrings;
use abi_stable::std_types::{ROption, RSlice, RString, RVec, Tuple2};
use abi_stable::StableAbi;

use super::graph::GraphView;
use super::status::AbiResult;
use super::value::{Buffer, DeviceId, Tensor, Value};

/// The ABI version: a plugin is accepted when its major equals the host's and its
/// minor is not newer than the host's.
#[repr(C)]
#[derive(StableAbi, Clone, Copy, Debug, PartialEq, Eq)]
pub struct AbiVersion {
    pub major: u32,
    pub minor: u32,
}

impl std::fmt::Display for AbiVersion {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}.{}", self.major, self.minor)
    }
}

impl AbiVersion {
    /// Whether a plugin declaring `plugin` can be loaded by a host at `self`.
    pub fn accepts(self, plugin: AbiVersion) -> bool {
        plugin.major == self.major && plugin.minor <= self.minor
    }
}

/// Who the provider is.
#[repr(C)]
#[derive(StableAbi, Clone, Debug)]
pub struct ProviderInfo {
    /// Short lowercase name used on the command line: `cpu`, `vulkan`, `cuda`.
    pub name: RString,
    pub vendor: RString,
    pub version: RString,
    /// Higher runs first in partitioning; CPU uses 0.
    pub default_priority: i32,
}

impl ProviderInfo {
    pub fn new(name: &str, vendor: &str, version: &str, default_priority: i32) -> ProviderInfo {
        ProviderInfo {
            name: name.into(),
            vendor: vendor.into(),
            version: version.into(),
            default_priority,
        }
    }
}

/// Whether the provider can run on this machine.
#[repr(C)]
#[derive(StableAbi, Clone, Debug)]
pub struct Availability {
    pub available: bool,
    /// Why not, in words a user understands ("no Vulkan driver found").
    pub reason: RString,
}

impl Availability {
    pub fn yes() -> Availability {
        Availability {
            available: true,
            reason: RString::new(),
        }
    }
    pub fn no(reason: impl std::fmt::Display) -> Availability {
        Availability {
            available: false,
            reason: reason.to_string().into(),
        }
    }
    /// Available when a probe succeeded; its error is the reason otherwise.
    pub fn of<T, E: std::fmt::Display>(probe: &Result<T, E>) -> Availability {
        match probe {
            Ok(_) => Availability::yes(),
            Err(why) => Availability::no(why),
        }
    }
}

/// Memory the provider's partitions read inputs from and write outputs to.
#[repr(C)]
#[derive(StableAbi, Clone, Copy, Debug)]
pub struct MemoryInfo {
    pub device: DeviceId,
    pub alignment: usize,
}

/// What a provider takes from a graph.
#[repr(C)]
#[derive(StableAbi, Clone, Debug, Default)]
pub struct Capability {
    /// Groups of node indices; each group becomes one fused node compiled as a unit.
    pub groups: RVec<RVec<u32>>,
    /// Nodes the provider looked at and declined, with the reason (shown by `--explain`).
    pub declined: RVec<Tuple2<u32, RString>>,
}

/// A group to compile, with the boundary the host computed for it.
#[repr(C)]
#[derive(StableAbi)]
pub struct FusedNode<'a> {
    /// Deterministic name, usable as a cache key.
    pub name: RString,
    pub graph: &'a GraphView<'a>,
    pub nodes: RVec<u32>,
    /// Values read from outside the group, in the order compute receives them.
    pub inputs: RVec<RString>,
    /// Values the group produces for use outside it, in the order compute returns them.
    pub outputs: RVec<RString>,
}

/// The plugin's root module, exported from its cdylib.
#[repr(C)]
#[derive(StableAbi)]
#[sabi(kind(Prefix(prefix_ref = ProviderLibRef)))]
#[sabi(missing_field(panic))]
pub struct ProviderLib {
    /// The ABI version the plugin was built against. Never moves.
    pub abi_version: extern "C" fn() -> AbiVersion,
    pub info: extern "C" fn() -> ProviderInfo,
    /// Cheap availability check, made before `create`.
    pub probe: extern "C" fn() -> Availability,
    /// Creates a provider instance for one session. `options` are string key/values;
    /// the host always passes `threads` (intra-op threads, `0` = the provider decides).
    #[sabi(last_prefix_field)]
    pub create:
        extern "C" fn(options: RSlice<'_, Tuple2<RString, RString>>) -> AbiResult<ProviderObj>,
}

impl RootModule for ProviderLibRef {
    abi_stable::declare_root_module_statics! {ProviderLibRef}
    const BASE_NAME: &'static str = "ort_provider";
    const NAME: &'static str = "ort execution provider";
    const VERSION_STRINGS: VersionStrings = abi_stable::package_version_strings!();
}

/// A provider instance: an opaque pointer and its function table.
#[repr(C)]
#[derive(StableAbi)]
pub struct ProviderObj {
    pub this: *mut c_void,
    pub vtable: ProviderVtableRef,
}

/// The functions of a provider instance. All may be called from any thread, at the
/// same time, except `drop`, which the host calls once, last.
#[repr(C)]
#[derive(StableAbi)]
#[sabi(kind(Prefix(prefix_ref = ProviderVtableRef)))]
#[sabi(missing_field(panic))]
pub struct ProviderVtable {
    pub get_capability:
        extern "C" fn(this: *const c_void, graph: &GraphView<'_>) -> AbiResult<Capability>,
    pub compile:
        extern "C" fn(this: *const c_void, node: &FusedNode<'_>) -> AbiResult<PartitionObj>,
    pub memory: extern "C" fn(this: *const c_void) -> MemoryInfo,
    /// Allocates `bytes` in the provider's memory.
    pub alloc: extern "C" fn(this: *const c_void, bytes: usize) -> AbiResult<Buffer>,
    /// Copies a tensor to `device` (host ↔ the provider's memory, or what
    /// `can_copy` says), returning the copy.
    pub transfer:
        extern "C" fn(this: *const c_void, src: &Tensor, device: DeviceId) -> AbiResult<Tensor>,
    #[sabi(last_prefix_field)]
    pub drop: extern "C" fn(this: *mut c_void),
    /// Since ABI 1.2. Calls `f(arg)` once, on a thread of the provider's choosing,
    /// and returns when it has returned; `false` if it did not call it. The host
    /// runs each session run inside it, so a provider with a thread pool can run
    /// the whole plan on a pool thread and hand no node over to it. Absent in
    /// older plugins, for which the host calls `f` itself.
    #[sabi(missing_field(option))]
    pub run_scope: extern "C" fn(this: *const c_void, f: ScopeFn, arg: *mut c_void) -> bool,
    /// Since ABI 1.3. Whether `transfer` can copy a tensor in memory `from` to
    /// memory `to`; the planner asks each provider, in priority order, and stages
    /// a copy between two devices through host memory when none can do it
    /// directly. Absent in older plugins, for which the host assumes
    /// [`crate::abi::default_can_copy`] over the provider's `memory()`.
    #[sabi(missing_field(option))]
    pub can_copy: extern "C" fn(this: *const c_void, from: DeviceId, to: DeviceId) -> bool,
}

/// What a provider whose memory is `own` can copy unless it says otherwise:
/// between host-readable memories, and between those and `own`.
pub fn default_can_copy(own: DeviceId, from: DeviceId, to: DeviceId) -> bool {
    (from.host_readable() || from == own) && (to.host_readable() || to == own)
}

/// The function `ProviderVtable::run_scope` calls (abi_stable takes function
/// pointers as parameters only wrapped).
#[repr(transparent)]
#[derive(StableAbi, Clone, Copy)]
pub struct ScopeFn {
    pub func: extern "C" fn(arg: *mut c_void),
}

/// A compiled fused node.
#[repr(C)]
#[derive(StableAbi)]
pub struct PartitionObj {
    pub this: *mut c_void,
    pub vtable: PartitionVtableRef,
}

#[repr(C)]
#[derive(StableAbi)]
#[sabi(kind(Prefix(prefix_ref = PartitionVtableRef)))]
#[sabi(missing_field(panic))]
pub struct PartitionVtable {
    /// Runs the partition. `inputs` follow `FusedNode::inputs` (`None` = an optional
    /// input left out); the result has one entry per `FusedNode::outputs` (`None` = an
    /// optional output not produced). May be called from several threads at once.
    pub compute: extern "C" fn(
        this: *const c_void,
        inputs: RSlice<'_, ROption<&Value>>,
        host: &HostServices,
    ) -> AbiResult<RVec<ROption<Value>>>,
    #[sabi(last_prefix_field)]
    pub drop: extern "C" fn(this: *mut c_void),
    /// Since ABI 1.1. The memory input `index` must be in when `compute` runs:
    /// `None` for the provider's `memory()`, else that memory (the host's, for
    /// inputs the partition reads on the host, such as shapes). Absent in older
    /// plugins, which get every input in `memory()`.
    #[sabi(missing_field(option))]
    pub input_memory: extern "C" fn(this: *const c_void, index: usize) -> ROption<DeviceId>,
}

/// What the host offers a running partition.
#[repr(C)]
#[derive(StableAbi)]
pub struct HostServices {
    pub this: *const c_void,
    pub vtable: HostVtableRef,
}

// SAFETY: the host's services are callable from any thread during the compute call
// that received them (docs/abi.md); the struct is only a pointer and a table.
unsafe impl Send for HostServices {}
// SAFETY: as above.
unsafe impl Sync for HostServices {}

#[repr(C)]
#[derive(StableAbi)]
#[sabi(kind(Prefix(prefix_ref = HostVtableRef)))]
#[sabi(missing_field(panic))]
pub struct HostVtable {
    /// Allocates `bytes` of fresh host memory (64-byte aligned) from the session's
    /// arena. Not zeroed. The buffer returns to the arena when its last reference drops.
    #[sabi(last_prefix_field)]
    pub alloc: extern "C" fn(this: *const c_void, bytes: usize) -> AbiResult<Buffer>,
}
