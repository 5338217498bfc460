//! The host's side: load provider libraries, check their version, and call them
//! through safe wrappers.

use std::ffi::c_void;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::abi::__export::{staticref, WithMetadata};
use crate::abi::{
    load_root_module, AbiResult, AbiVersion, Availability, Buffer, Capability, DeviceId, Error,
    FusedNode, GraphView, HostServices, HostVtable, HostVtableRef, MemoryInfo, PartitionObj,
    ProviderInfo, ProviderLibRef, ProviderObj, ROption, RResult, RString, RVec, Tensor, Tuple2,
    Value,
};
use crate::ABI_VERSION;

/// A provider library, loaded and version-checked. Never unloaded.
#[derive(Clone)]
pub struct ProviderLibrary {
    pub path: PathBuf,
    pub info: ProviderInfo,
    pub abi_version: AbiVersion,
    root: ProviderLibRef,
}

impl ProviderLibrary {
    /// Loads `path`: abi_stable's layout check, then the ABI version handshake.
    /// Errors name the path and, for a version mismatch, both versions.
    pub fn load(path: &Path) -> Result<ProviderLibrary, String> {
        let shown = path.display();
        let root = load_root_module(path).map_err(|e| format!("{shown}: {e}"))?;
        let abi_version = (root.abi_version())();
        if !ABI_VERSION.accepts(abi_version) {
            return Err(format!(
                "{shown}: incompatible ABI version: the plugin was built for ABI {abi_version}, \
                 this host speaks ABI {ABI_VERSION} (same major, plugin minor <= host minor required)"
            ));
        }
        let info = (root.info())();
        Ok(ProviderLibrary {
            path: path.to_path_buf(),
            info,
            abi_version,
            root,
        })
    }

    pub fn name(&self) -> &str {
        &self.info.name
    }

    pub fn probe(&self) -> Availability {
        (self.root.probe())()
    }

    /// Creates a provider instance for one session.
    pub fn create(&self, options: &[(String, String)]) -> Result<Arc<ProviderInstance>, Error> {
        let opts: RVec<Tuple2<RString, RString>> = options
            .iter()
            .map(|(k, v)| Tuple2(RString::from(k.as_str()), RString::from(v.as_str())))
            .collect();
        let obj = (self.root.create())(opts.as_rslice()).into_result()?;
        Ok(Arc::new(ProviderInstance {
            obj,
            name: self.info.name.to_string(),
        }))
    }
}

/// A provider instance (one per session).
pub struct ProviderInstance {
    obj: ProviderObj,
    name: String,
}

// SAFETY: the ABI requires every provider function but `drop` to be callable from any
// thread concurrently (docs/abi.md); `drop` runs once, from Drop.
unsafe impl Send for ProviderInstance {}
// SAFETY: as above.
unsafe impl Sync for ProviderInstance {}

impl ProviderInstance {
    pub fn name(&self) -> &str {
        &self.name
    }

    pub fn get_capability(&self, graph: &GraphView<'_>) -> Result<Capability, Error> {
        (self.obj.vtable.get_capability())(self.obj.this, graph).into_result()
    }

    pub fn compile(self: &Arc<Self>, node: &FusedNode<'_>) -> Result<CompiledPartition, Error> {
        let obj = (self.obj.vtable.compile())(self.obj.this, node).into_result()?;
        Ok(CompiledPartition {
            obj,
            _provider: self.clone(),
        })
    }

    pub fn memory(&self) -> MemoryInfo {
        (self.obj.vtable.memory())(self.obj.this)
    }

    pub fn alloc(&self, bytes: usize) -> Result<Buffer, Error> {
        (self.obj.vtable.alloc())(self.obj.this, bytes).into_result()
    }

    /// Whether [`Self::transfer`] copies from `from` to `to` (ABI 1.3; for an older
    /// plugin, [`crate::abi::default_can_copy`] over its memory).
    pub fn can_copy(&self, from: DeviceId, to: DeviceId) -> bool {
        match self.obj.vtable.can_copy() {
            Some(f) => f(self.obj.this, from, to),
            None => crate::abi::default_can_copy(self.memory().device, from, to),
        }
    }

    pub fn transfer(&self, src: &Tensor, device: DeviceId) -> Result<Tensor, Error> {
        (self.obj.vtable.transfer())(self.obj.this, src, device).into_result()
    }
}

/// A closure and its result, for the trip through `run_scope`.
struct Scoped<F, R> {
    f: Option<F>,
    out: Option<std::thread::Result<R>>,
}

extern "C" fn call_scoped<F: FnOnce() -> R, R>(arg: *mut c_void) {
    // SAFETY: `arg` is the `Scoped<F, R>` that `run_scope` below lent for this call,
    // alive and not otherwise touched until the call returns.
    let s = unsafe { &mut *(arg as *mut Scoped<F, R>) };
    if let Some(f) = s.f.take() {
        // Caught here: extern "C" must not unwind. Resumed on the caller's thread.
        s.out = Some(std::panic::catch_unwind(std::panic::AssertUnwindSafe(f)));
    }
}

impl ProviderInstance {
    /// Runs `f` inside the provider's run scope (see `ProviderVtable::run_scope`),
    /// or here when the plugin has none or did not call it.
    pub fn run_scope<R: Send, F: FnOnce() -> R + Send>(&self, f: F) -> R {
        let mut s = Scoped {
            f: Some(f),
            out: None,
        };
        if let Some(scope) = self.obj.vtable.run_scope() {
            let arg = &mut s as *mut Scoped<F, R> as *mut c_void;
            let func = crate::abi::ScopeFn {
                func: call_scoped::<F, R>,
            };
            scope(self.obj.this, func, arg);
        }
        match s.out {
            Some(Ok(r)) => r,
            Some(Err(panic)) => std::panic::resume_unwind(panic),
            None => (s.f.take().expect("not called"))(),
        }
    }
}

impl Drop for ProviderInstance {
    fn drop(&mut self) {
        (self.obj.vtable.drop())(self.obj.this)
    }
}

/// A compiled fused node. Keeps its provider alive.
pub struct CompiledPartition {
    obj: PartitionObj,
    _provider: Arc<ProviderInstance>,
}

// SAFETY: the ABI requires `compute` to be callable from several threads at once.
unsafe impl Send for CompiledPartition {}
// SAFETY: as above.
unsafe impl Sync for CompiledPartition {}

impl CompiledPartition {
    pub fn compute(
        &self,
        inputs: &[Option<&Value>],
        host: &dyn HostAllocator,
    ) -> Result<Vec<Option<Value>>, Error> {
        let ins: RVec<ROption<&Value>> = inputs.iter().map(|v| ROption::from(*v)).collect();
        let holder: &dyn HostAllocator = host;
        let services = HostServices {
            this: &holder as *const &dyn HostAllocator as *const c_void,
            vtable: HOST_VTABLE,
        };
        let outs =
            (self.obj.vtable.compute())(self.obj.this, ins.as_rslice(), &services).into_result()?;
        Ok(outs.into_iter().map(|v| v.into_option()).collect())
    }

    /// The memory input `index` must be in, when the partition asks for one other
    /// than its provider's `memory()` (ABI 1.1; older plugins never do).
    pub fn input_memory(&self, index: usize) -> Option<DeviceId> {
        let f = self.obj.vtable.input_memory()?;
        f(self.obj.this, index).into_option()
    }
}

/// Calls `f` with host services backed by `alloc` (for running a partition or a
/// kernel in-process, e.g. in tests).
pub fn with_host_services<R>(alloc: &dyn HostAllocator, f: impl FnOnce(&HostServices) -> R) -> R {
    let holder: &dyn HostAllocator = alloc;
    let services = HostServices {
        this: &holder as *const &dyn HostAllocator as *const c_void,
        vtable: HOST_VTABLE,
    };
    f(&services)
}

/// A host allocator that takes plain zeroed heap memory (no arena).
pub struct HeapAllocator;

impl HostAllocator for HeapAllocator {
    fn alloc(&self, bytes: usize) -> Result<Buffer, Error> {
        Ok(Buffer::host_zeroed(bytes))
    }
}

impl Drop for CompiledPartition {
    fn drop(&mut self) {
        (self.obj.vtable.drop())(self.obj.this)
    }
}

/// The host's allocator for partition outputs in host memory.
pub trait HostAllocator: Sync {
    /// Fresh memory nobody else references.
    fn alloc(&self, bytes: usize) -> Result<Buffer, Error>;
}

struct HostTables;
impl HostTables {
    staticref! {
        const WM: WithMetadata<HostVtable> = WithMetadata::new(HostVtable { alloc: host_alloc })
    }
}
const HOST_VTABLE: HostVtableRef = HostVtableRef(HostTables::WM.as_prefix());

extern "C" fn host_alloc(this: *const c_void, bytes: usize) -> AbiResult<Buffer> {
    // SAFETY: `this` points at the `&dyn HostAllocator` that `compute` keeps alive on its
    // stack for the duration of the call that received these services.
    let alloc = unsafe { *(this as *const &dyn HostAllocator) };
    match std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| alloc.alloc(bytes))) {
        Ok(r) => r.into(),
        Err(_) => RResult::RErr(Error::fail("host allocator panicked")),
    }
}
