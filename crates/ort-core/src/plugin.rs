//! The provider author's side: implement [`Provider`] (and [`Partition`] for what
//! `compile` returns), then call [`export_provider!`](crate::export_provider) once.
//!
//! The generated exports catch every panic and turn it into an [`Error`] with code
//! [`ErrorCode::PANIC`]: since Rust 1.81 a panic unwinding out of an `extern "C"`
//! function aborts the process.

use std::ffi::c_void;
use std::marker::PhantomData;
use std::panic::{catch_unwind, AssertUnwindSafe};

use crate::abi::__export::{staticref, WithMetadata};
use crate::abi::{
    AbiResult, Availability, Buffer, Capability, DeviceId, Error, ErrorCode, FusedNode, GraphView,
    HostServices, MemoryInfo, PartitionObj, PartitionVtable, PartitionVtableRef, ProviderInfo,
    ProviderObj, ProviderVtable, ProviderVtableRef, RResult, RSlice, RString, RVec, Tensor, Tuple2,
    UniqueBuffer, Value,
};
use crate::abi::{ROption, ScopeFn, TypeInfo};
use crate::PodElement;

/// Provider options: string key/values as the user gave them.
#[derive(Clone, Debug, Default)]
pub struct Options(pub Vec<(String, String)>);

impl Options {
    pub fn get(&self, key: &str) -> Option<&str> {
        self.0
            .iter()
            .rev()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }
    /// A parsed option, or `default` when absent.
    pub fn parse<T: std::str::FromStr>(&self, key: &str, default: T) -> Result<T, Error> {
        match self.get(key) {
            None => Ok(default),
            Some(v) => v
                .parse()
                .map_err(|_| Error::invalid(format!("provider option {key}={v} is not valid"))),
        }
    }
}

/// An execution provider, created once per session.
pub trait Provider: Send + Sync + Sized + 'static {
    fn info() -> ProviderInfo;
    /// Whether the provider can run here; `create` is only called when it can.
    fn probe() -> Availability {
        Availability::yes()
    }
    fn create(options: &Options) -> Result<Self, Error>;
    /// Which nodes this provider takes. Nodes already assigned (non-empty
    /// `NodeView::assigned`) must not be claimed.
    fn get_capability(&self, graph: &GraphView<'_>) -> Result<Capability, Error>;
    fn compile(&self, node: &FusedNode<'_>) -> Result<Box<dyn Partition>, Error>;
    /// Where compute wants its inputs and puts its outputs. Host memory by default.
    fn memory(&self) -> MemoryInfo {
        MemoryInfo {
            device: DeviceId::HOST,
            alignment: 64,
        }
    }
    fn alloc(&self, bytes: usize) -> Result<Buffer, Error> {
        Ok(Buffer::host_zeroed(bytes))
    }
    /// Runs `f`, a whole session run, where this provider's partitions run best:
    /// a provider with a thread pool runs it on a pool thread, so that each
    /// partition starts there without a hand-off. The default calls it here.
    fn run_scope(&self, f: &mut (dyn FnMut() + Send)) {
        f()
    }
    /// Whether [`Self::transfer`] copies from memory `from` to `to`. The default:
    /// between host-readable memories and this provider's [`Self::memory`].
    fn can_copy(&self, from: DeviceId, to: DeviceId) -> bool {
        crate::abi::default_can_copy(self.memory().device, from, to)
    }
    /// Copies `src` to `device`. The default serves host memory only.
    fn transfer(&self, src: &Tensor, device: DeviceId) -> Result<Tensor, Error> {
        if device.host_readable() && src.device().host_readable() {
            src.deep_copy()
        } else {
            Err(Error::not_implemented(
                "this provider has no device memory to transfer to",
            ))
        }
    }
}

/// A compiled fused node. `compute` may run on several threads at once, so it must
/// not mutate shared state without synchronisation.
/// What a partition (or a kernel) returns: one value per output, None for an
/// omitted optional one.
pub type Outputs = Result<Vec<Option<Value>>, Error>;

pub trait Partition: Send + Sync {
    fn compute(&self, inputs: &[Option<&Value>], host: &Host<'_>) -> Outputs;
    /// The memory input `index` must be in when `compute` runs, if not the
    /// provider's `memory()`: e.g. [`DeviceId::HOST`] for a shape that a device
    /// provider reads on the host.
    fn input_memory(&self, _index: usize) -> Option<DeviceId> {
        None
    }
}

/// The host's services during one compute call.
pub struct Host<'a>(&'a HostServices);

impl<'a> Host<'a> {
    pub fn new(services: &'a HostServices) -> Host<'a> {
        Host(services)
    }
    /// Fresh host memory from the session's arena (contents unspecified).
    pub fn alloc(&self, bytes: usize) -> Result<UniqueBuffer, Error> {
        let buf = (self.0.vtable.alloc())(self.0.this, bytes).into_result()?;
        // SAFETY: the host contract (docs/abi.md) is that `alloc` returns a buffer nobody
        // else references.
        Ok(unsafe { UniqueBuffer::new_unchecked(buf) })
    }
    /// A tensor of `shape` whose elements `fill` writes, in arena memory.
    pub fn tensor<T: PodElement>(
        &self,
        shape: &[i64],
        fill: impl FnOnce(&mut [T]),
    ) -> Result<Tensor, Error> {
        let n = shape.iter().product::<i64>().max(0) as usize;
        let buf = self.alloc(n * std::mem::size_of::<T>())?;
        Tensor::build(shape, buf, fill)
    }
}

fn guard<T>(what: &str, f: impl FnOnce() -> Result<T, Error>) -> AbiResult<T> {
    match catch_unwind(AssertUnwindSafe(f)) {
        Ok(r) => r.into(),
        Err(payload) => {
            let msg = payload
                .downcast_ref::<&str>()
                .map(|s| s.to_string())
                .or_else(|| payload.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "unknown panic".into());
            RResult::RErr(Error::new(
                ErrorCode::PANIC,
                format!("provider panicked in {what}: {msg}"),
            ))
        }
    }
}

/// The function tables for provider type `P` (used by `export_provider!`).
#[doc(hidden)]
pub struct Tables<P>(PhantomData<P>);

impl<P: Provider> Tables<P> {
    staticref! {
        const PROVIDER_WM: WithMetadata<ProviderVtable> = WithMetadata::new(ProviderVtable {
            get_capability: get_capability::<P>,
            compile: compile::<P>,
            memory: memory::<P>,
            alloc: alloc::<P>,
            transfer: transfer::<P>,
            drop: drop_provider::<P>,
            run_scope: run_scope::<P>,
            can_copy: can_copy::<P>,
        })
    }
    staticref! {
        const PARTITION_WM: WithMetadata<PartitionVtable> = WithMetadata::new(PartitionVtable {
            compute,
            drop: drop_partition,
            input_memory,
        })
    }
    const PROVIDER: ProviderVtableRef = ProviderVtableRef(Self::PROVIDER_WM.as_prefix());
    const PARTITION: PartitionVtableRef = PartitionVtableRef(Self::PARTITION_WM.as_prefix());

    pub extern "C" fn create(
        options: RSlice<'_, Tuple2<RString, RString>>,
    ) -> AbiResult<ProviderObj> {
        guard("create", || {
            let opts = Options(
                options
                    .iter()
                    .map(|t| (t.0.to_string(), t.1.to_string()))
                    .collect(),
            );
            let p = P::create(&opts)?;
            Ok(ProviderObj {
                this: Box::into_raw(Box::new(p)) as *mut c_void,
                vtable: Self::PROVIDER,
            })
        })
    }

    pub extern "C" fn info() -> ProviderInfo {
        // A panic here cannot be reported; abort with a message rather than unwind.
        match catch_unwind(P::info) {
            Ok(i) => i,
            Err(_) => std::process::abort(),
        }
    }

    pub extern "C" fn probe() -> Availability {
        catch_unwind(P::probe).unwrap_or_else(|_| Availability {
            available: false,
            reason: "the provider panicked while probing".into(),
        })
    }
}

fn this<'a, P>(p: *const c_void) -> &'a P {
    // SAFETY: `p` is the pointer `create` made with Box::into_raw, valid until `drop`.
    unsafe { &*(p as *const P) }
}

extern "C" fn get_capability<P: Provider>(
    p: *const c_void,
    graph: &GraphView<'_>,
) -> AbiResult<Capability> {
    guard("get_capability", || this::<P>(p).get_capability(graph))
}

extern "C" fn compile<P: Provider>(
    p: *const c_void,
    node: &FusedNode<'_>,
) -> AbiResult<PartitionObj> {
    guard("compile", || {
        let part: Box<dyn Partition> = this::<P>(p).compile(node)?;
        Ok(PartitionObj {
            this: Box::into_raw(Box::new(part)) as *mut c_void,
            vtable: Tables::<P>::PARTITION,
        })
    })
}

extern "C" fn memory<P: Provider>(p: *const c_void) -> MemoryInfo {
    catch_unwind(AssertUnwindSafe(|| this::<P>(p).memory())).unwrap_or(MemoryInfo {
        device: DeviceId::HOST,
        alignment: 64,
    })
}

extern "C" fn alloc<P: Provider>(p: *const c_void, bytes: usize) -> AbiResult<Buffer> {
    guard("alloc", || this::<P>(p).alloc(bytes))
}

extern "C" fn transfer<P: Provider>(
    p: *const c_void,
    src: &Tensor,
    device: DeviceId,
) -> AbiResult<Tensor> {
    guard("transfer", || this::<P>(p).transfer(src, device))
}

extern "C" fn can_copy<P: Provider>(p: *const c_void, from: DeviceId, to: DeviceId) -> bool {
    // A panic cannot unwind out of extern "C": it reads as "cannot copy".
    catch_unwind(AssertUnwindSafe(|| this::<P>(p).can_copy(from, to))).unwrap_or(false)
}

/// `f` and its argument, carried to the thread the provider picks.
struct Callback(ScopeFn, *mut c_void);
// SAFETY: the host made `arg` for one call on any thread (`ProviderVtable::run_scope`),
// and `run_scope` below calls it at most once.
unsafe impl Send for Callback {}
// SAFETY: as above; shared only to reach that one call.
unsafe impl Sync for Callback {}

extern "C" fn run_scope<P: Provider>(p: *const c_void, f: ScopeFn, arg: *mut c_void) -> bool {
    let cb = &Callback(f, arg);
    let mut called = false;
    // `f` cannot unwind (it is extern "C"); a panic of the provider's own is
    // caught, and the host then calls `f` itself unless it was called already.
    let _ = catch_unwind(AssertUnwindSafe(|| {
        this::<P>(p).run_scope(&mut || {
            if !called {
                called = true;
                (cb.0.func)(cb.1)
            }
        })
    }));
    called
}

extern "C" fn drop_provider<P: Provider>(p: *mut c_void) {
    // SAFETY: made by Box::into_raw in `create`; the host calls drop once, last.
    let b = unsafe { Box::from_raw(p as *mut P) };
    if catch_unwind(AssertUnwindSafe(move || drop(b))).is_err() {
        std::process::abort();
    }
}

extern "C" fn compute(
    p: *const c_void,
    inputs: RSlice<'_, ROption<&Value>>,
    host: &HostServices,
) -> AbiResult<RVec<ROption<Value>>> {
    guard("compute", || {
        // SAFETY: made by Box::into_raw in `compile`, valid until `drop_partition`.
        let part = unsafe { &*(p as *const Box<dyn Partition>) };
        let ins: Vec<Option<&Value>> = inputs.iter().map(|v| v.into_option()).collect();
        let outs = part.compute(&ins, &Host::new(host))?;
        Ok(outs.into_iter().map(ROption::from).collect())
    })
}

extern "C" fn input_memory(p: *const c_void, index: usize) -> ROption<DeviceId> {
    // SAFETY: made by Box::into_raw in `compile`, valid until `drop_partition`.
    let part = unsafe { &*(p as *const Box<dyn Partition>) };
    // A panic here cannot be reported, and None (the provider's memory) is the
    // answer every partition gives by default.
    catch_unwind(AssertUnwindSafe(|| part.input_memory(index)))
        .ok()
        .flatten()
        .into()
}

extern "C" fn drop_partition(p: *mut c_void) {
    // SAFETY: made by Box::into_raw in `compile`; the host calls drop once, last.
    let b = unsafe { Box::from_raw(p as *mut Box<dyn Partition>) };
    if catch_unwind(AssertUnwindSafe(move || drop(b))).is_err() {
        std::process::abort();
    }
}

/// Helper for providers: the declared type of a value, if the graph knows it.
pub fn value_types<'g>(
    graph: &'g GraphView<'_>,
) -> std::collections::HashMap<&'g str, &'g TypeInfo> {
    graph.values.iter().map(|t| (t.0.as_str(), &t.1)).collect()
}

/// Exports `$provider` (a type implementing [`Provider`]) as this cdylib's root module.
#[macro_export]
macro_rules! export_provider {
    ($provider:ty) => {
        $crate::export_provider!($provider, $crate::ABI_VERSION);
    };
    ($provider:ty, $abi_version:expr) => {
        #[doc(hidden)]
        pub extern "C" fn __ort_abi_version() -> $crate::abi::AbiVersion {
            $abi_version
        }

        #[doc(hidden)]
        pub fn __ort_root_module() -> $crate::abi::ProviderLibRef {
            use $crate::abi::__export::PrefixTypeTrait;
            $crate::abi::ProviderLib {
                abi_version: __ort_abi_version,
                info: $crate::plugin::Tables::<$provider>::info,
                probe: $crate::plugin::Tables::<$provider>::probe,
                create: $crate::plugin::Tables::<$provider>::create,
            }
            .leak_into_prefix()
        }

        // The symbol name abi_stable 0.11 looks up (see abi::__export::ROOT_MODULE_SYMBOL).
        #[no_mangle]
        pub static _1as_0lib_1header_0root_bmodule_bloader: $crate::abi::__export::LibHeader = {
            pub extern "C" fn __ort_erased_module() -> $crate::abi::__export::RootModuleResult {
                $crate::abi::__export::__call_root_module_loader(__ort_root_module)
            }
            // SAFETY: the constructor returns the root module type the header names.
            unsafe {
                $crate::abi::__export::LibHeader::from_constructor::<$crate::abi::ProviderLibRef>(
                    __ort_erased_module,
                    $crate::abi::__export::CheckTypeLayout::Yes,
                )
            }
        };
    };
}
