//! The device a session runs on: the probe that says whether CUDA can run here
//! (and why not), the context, the compiled kernels, the caching allocator and
//! the lanes (a stream, a cuBLAS handle and pinned staging memory) that runs
//! take one at a time.
//!
//! The libraries are found by [`libs`], wherever CUDA or its pip wheels put
//! them. cudarc resolves every library and function on first use and panics when one
//! is missing, so each library is probed with cudarc's non-panicking presence
//! check first, and every call into cudarc from an export runs under
//! `catch_unwind` (here and in `ort_core::export_provider!`).

use std::collections::HashMap;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use cudarc::cublas::CudaBlas;
use cudarc::driver::{result, sys, CudaContext, CudaFunction, CudaStream};
use ort_core::{DeviceId, MemoryKind};

use crate::arena::{Arena, Backing};
use crate::dnn;
use crate::kernels;
use crate::libs;

/// The vendor half of this provider's [`DeviceId`]s. Not NVIDIA's PCI id: the
/// Vulkan provider names the same GPU with that one, and its memory is not
/// CUDA memory.
pub const VENDOR: u32 = 0x0001_10de;

/// The oldest driver API this build calls (CUDA 12.0, as 12000).
const MIN_DRIVER: i32 = 12000;

/// Runs `f`, turning a panic (cudarc's missing library or symbol) into an error.
pub fn guarded<T>(what: &str, f: impl FnOnce() -> Result<T, String>) -> Result<T, String> {
    match catch_unwind(AssertUnwindSafe(f)) {
        Ok(r) => r,
        Err(p) => {
            let msg = p
                .downcast_ref::<String>()
                .map(String::as_str)
                .or_else(|| p.downcast_ref::<&str>().copied())
                .unwrap_or("a panic");
            Err(format!("{what}: {msg}"))
        }
    }
}

/// Whether CUDA can run here: the driver library, a device, a new enough
/// driver, NVRTC and cuBLAS, looked for as `libs` says (`lib_dir` first).
/// Returns the devices found and where each library came from, or why not.
pub fn probe(lib_dir: Option<&Path>) -> Result<(usize, Vec<String>), String> {
    type Probed = HashMap<Option<PathBuf>, Result<(usize, Vec<String>), String>>;
    // Once per process and folder: every session creation probes.
    static PROBED: Mutex<Option<Probed>> = Mutex::new(None);
    let mut probed = PROBED.lock().unwrap_or_else(|e| e.into_inner());
    let probed = probed.get_or_insert_with(HashMap::new);
    let key = lib_dir.map(Path::to_path_buf);
    if let Some(r) = probed.get(&key) {
        return r.clone();
    }
    let r = probe_now(lib_dir);
    probed.insert(key, r.clone());
    r
}

fn probe_now(lib_dir: Option<&Path>) -> Result<(usize, Vec<String>), String> {
    let folders = libs::folders(lib_dir, &libs::Process);
    let mut from = Vec::new();
    // SAFETY: each presence check only tries to open the library by name.
    if !unsafe { sys::is_culib_present() } {
        from.push(libs::preload(&folders, &libs::DRIVER, None)?);
        // SAFETY: as above.
        if !unsafe { sys::is_culib_present() } {
            return Err(unopenable(&libs::DRIVER, &from));
        }
    }
    let count = guarded("CUDA driver", || {
        result::init().map_err(|e| format!("cuInit failed: {e:?}"))?;
        let version = driver_version()?;
        if version < MIN_DRIVER {
            return Err(format!(
                "the NVIDIA driver supports CUDA {}.{}; this provider needs {}.{} or newer",
                version / 1000,
                version % 1000 / 10,
                MIN_DRIVER / 1000,
                MIN_DRIVER % 1000 / 10
            ));
        }
        let count = result::device::get_count().map_err(|e| format!("{e:?}"))?;
        if count <= 0 {
            return Err("the NVIDIA driver is installed but sees no CUDA device".into());
        }
        Ok(count as usize)
    })?;
    let major = guarded("CUDA driver", driver_version).map(|v| (v / 1000) as u32)?;
    for lib in [libs::NVRTC, libs::CUBLAS] {
        from.push(libs::preload(&folders, &lib, Some(major))?);
    }
    // SAFETY: as above.
    if !unsafe { cudarc::nvrtc::sys::is_culib_present() } {
        return Err(unopenable(&libs::NVRTC, &from));
    }
    // SAFETY: as above.
    if !unsafe { cudarc::cublas::sys::is_culib_present() } {
        return Err(unopenable(&libs::CUBLAS, &from));
    }
    Ok((count, from))
}

/// The CUDA version the driver supports, as 13000 for 13.0.
fn driver_version() -> Result<i32, String> {
    let mut version = 0i32;
    // SAFETY: writes one int; the driver library is loaded (checked first).
    unsafe { sys::cuDriverGetVersion(&mut version) }
        .result()
        .map_err(|e| format!("cuDriverGetVersion: {e:?}"))?;
    Ok(version)
}

/// A library found and opened by path, whose soname cudarc does not ask for.
fn unopenable(lib: &libs::Lib, from: &[String]) -> String {
    let names = cudarc::get_lib_name_candidates(lib.name);
    format!(
        "{} was opened from {}, but not under any name cudarc asks for ({})",
        lib.role,
        from.last().map_or("?", String::as_str),
        names.join(", ")
    )
}

/// Device memory for the arena.
pub struct DeviceMemory(Arc<CudaContext>);

impl Backing for DeviceMemory {
    fn alloc(&self, bytes: usize) -> Result<u64, String> {
        guarded("cuMemAlloc", || {
            self.0.bind_to_thread().map_err(|e| format!("{e:?}"))?;
            // SAFETY: the context is current on this thread; the block is freed
            // by `free` only, after every kernel using it has finished.
            unsafe { result::malloc_sync(bytes) }
                .map_err(|e| format!("cuMemAlloc of {bytes} bytes: {e:?}"))
        })
    }
    fn free(&self, ptr: u64) {
        let _ = guarded("cuMemFree", || {
            self.0.bind_to_thread().map_err(|e| format!("{e:?}"))?;
            // SAFETY: `ptr` came from `alloc` and is freed once (the arena owns it).
            unsafe { result::free_sync(ptr) }.map_err(|e| format!("{e:?}"))
        });
    }
}

/// Page-locked host memory for copies, grown as needed.
pub struct Staging {
    ptr: *mut u8,
    cap: usize,
}

// SAFETY: the memory is owned by the one lane that holds it.
unsafe impl Send for Staging {}

impl Staging {
    /// At least `bytes` of pinned memory.
    pub fn get(&mut self, bytes: usize) -> Result<&mut [u8], String> {
        if bytes > self.cap {
            self.release();
            let cap = bytes.next_power_of_two().max(1 << 16);
            // SAFETY: the context is current (lanes are used after `bind`); flags 0
            // is plain page-locked memory the host reads and writes.
            let p = unsafe { result::malloc_host(cap, 0) }
                .map_err(|e| format!("cuMemHostAlloc of {cap} bytes: {e:?}"))?;
            self.ptr = p as *mut u8;
            self.cap = cap;
        }
        // SAFETY: `ptr` points to `cap >= bytes` bytes this lane owns.
        Ok(unsafe { std::slice::from_raw_parts_mut(self.ptr, bytes) })
    }

    fn release(&mut self) {
        if !self.ptr.is_null() {
            // SAFETY: allocated by cuMemHostAlloc above, freed once.
            let _ = unsafe { result::free_host(self.ptr as _) };
            self.ptr = std::ptr::null_mut();
            self.cap = 0;
        }
    }
}

impl Drop for Staging {
    fn drop(&mut self) {
        let _ = guarded("cuMemFreeHost", || {
            self.release();
            Ok(())
        });
    }
}

/// What one run at a time uses: kernels and copies are ordered on its stream.
pub struct Lane {
    /// Made on first use, when cuDNN is on; dropped before the stream.
    dnn: std::cell::OnceCell<dnn::Handle>,
    pub blas: CudaBlas,
    pub stream: Arc<CudaStream>,
    pub staging: Staging,
}

impl Lane {
    /// This lane's cuDNN handle.
    pub fn dnn(&self) -> Result<&dnn::Handle, String> {
        if let Some(h) = self.dnn.get() {
            return Ok(h);
        }
        let h = dnn::Handle::new(&self.stream)?;
        Ok(self.dnn.get_or_init(|| h))
    }
}

pub struct Gpu {
    pub ctx: Arc<CudaContext>,
    pub id: DeviceId,
    pub name: String,
    functions: HashMap<String, CudaFunction>,
    pub arena: Arc<Arena<DeviceMemory>>,
    lanes: Mutex<Vec<Lane>>,
    /// cuBLAS and cuDNN may round float32 operands to TF32 (option `tf32`).
    pub tf32: bool,
    /// cuDNN's algorithm picks, when cuDNN is used for convolutions.
    pub dnn: Option<dnn::Algos>,
}

/// Whether convolutions use cuDNN (option `cudnn`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum UseDnn {
    /// When the library is found.
    Auto,
    Required,
    Off,
}

impl Gpu {
    pub fn new(
        ordinal: usize,
        tf32: bool,
        limit: Option<usize>,
        lib_dir: Option<&Path>,
        use_dnn: UseDnn,
    ) -> Result<Gpu, String> {
        let (count, _) = probe(lib_dir)?;
        let dnn = match (use_dnn, dnn::load()) {
            (UseDnn::Off, _) => None,
            (_, Ok(())) => Some(dnn::Algos::default()),
            (UseDnn::Auto, Err(_)) => None,
            (UseDnn::Required, Err(e)) => return Err(e),
        };
        if ordinal >= count {
            return Err(format!(
                "CUDA device {ordinal} does not exist ({count} found)"
            ));
        }
        guarded("CUDA setup", || {
            let ctx = CudaContext::new(ordinal).map_err(|e| format!("CUDA context: {e:?}"))?;
            let name = ctx.name().unwrap_or_else(|_| "CUDA device".into());
            let (major, minor) = ctx.compute_capability().map_err(|e| format!("{e:?}"))?;
            let ptx = kernels::compile(kernels::arch(major, minor))?;
            let module = ctx
                .load_module((*ptx).clone())
                .map_err(|e| format!("loading the CUDA kernels on {name}: {e:?}"))?;
            let mut functions = HashMap::new();
            for f in kernels::entry_points() {
                let func = module
                    .load_function(&f)
                    .map_err(|e| format!("kernel {f}: {e:?}"))?;
                functions.insert(f, func);
            }
            Ok(Gpu {
                arena: Arc::new(Arena::new(DeviceMemory(ctx.clone()), limit)),
                id: DeviceId {
                    kind: MemoryKind::Device,
                    vendor: VENDOR,
                    device: ordinal as u32,
                },
                name: format!("{name} (sm_{major}{minor})"),
                ctx,
                functions,
                lanes: Mutex::new(Vec::new()),
                tf32,
                dnn,
            })
        })
    }

    pub fn function(&self, name: &str) -> Result<&CudaFunction, String> {
        self.functions
            .get(name)
            .ok_or_else(|| format!("no CUDA kernel {name}"))
    }

    /// Makes the context current on this thread (the raw driver calls need it).
    pub fn bind(&self) -> Result<(), String> {
        self.ctx
            .bind_to_thread()
            .map_err(|e| format!("{}: {e:?}", self.name))
    }

    /// A free lane, made when none is: concurrent runs each get their own.
    pub fn lane(&self) -> Result<Lane, String> {
        if let Some(l) = self.lanes.lock().unwrap_or_else(|e| e.into_inner()).pop() {
            return Ok(l);
        }
        let stream = self
            .ctx
            .new_stream()
            .map_err(|e| format!("CUDA stream: {e:?}"))?;
        let blas = CudaBlas::new(stream.clone()).map_err(|e| format!("cuBLAS: {e:?}"))?;
        Ok(Lane {
            dnn: std::cell::OnceCell::new(),
            stream,
            blas,
            staging: Staging {
                ptr: std::ptr::null_mut(),
                cap: 0,
            },
        })
    }

    /// Returns a lane whose work has finished.
    pub fn give_back(&self, lane: Lane) {
        self.lanes
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(lane);
    }
}
