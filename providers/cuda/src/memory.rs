//! CUDA memory through the ABI. A device block from the arena travels as an ABI
//! `Buffer` whose owner is a reference-counted [`Block`] (the pointer field
//! holds the device address, which only this provider reads), so values stay
//! on the GPU between CUDA partitions. Device tensors hold the same bytes as
//! host ones (float16 as float16), so copies are byte copies through the lane's
//! pinned staging memory.

use std::ffi::c_void;
use std::sync::Arc;

use cudarc::driver::result;
use ort_core::abi::{Buffer, BufferVtable};
use ort_core::kit::numel;
use ort_core::{DeviceId, ElemType, Error, Tensor};

use crate::arena::Arena;
use crate::driver::{DeviceMemory, Gpu, Lane};

/// A block of device memory, returned to the arena when the last reference goes.
pub struct Block {
    pub ptr: u64,
    size: usize,
    arena: Arc<Arena<DeviceMemory>>,
}

impl Drop for Block {
    fn drop(&mut self) {
        self.arena.give_back(self.ptr, self.size);
    }
}

/// A tensor in device memory.
#[derive(Clone)]
pub struct Operand {
    pub block: Arc<Block>,
    /// Bytes from the block's start.
    pub offset: usize,
    pub shape: Vec<i64>,
    pub elem: ElemType,
}

impl std::fmt::Debug for Operand {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {:?} at {:#x}", self.elem, self.shape, self.ptr())
    }
}

impl Operand {
    pub fn ptr(&self) -> u64 {
        self.block.ptr + self.offset as u64
    }
    pub fn len(&self) -> usize {
        numel(&self.shape)
    }
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
    pub fn bytes(&self) -> usize {
        self.len() * self.elem.size()
    }
    /// The same memory under another shape (Reshape and its kin).
    pub fn view(&self, shape: Vec<i64>) -> Operand {
        Operand {
            shape,
            ..self.clone()
        }
    }
}

/// Uninitialized device memory for a tensor.
pub fn alloc(gpu: &Gpu, shape: &[i64], elem: ElemType) -> Result<Operand, Error> {
    let bytes = numel(shape) * elem.size();
    let (ptr, size) = gpu.arena.take(bytes).map_err(Error::fail)?;
    Ok(Operand {
        block: Arc::new(Block {
            ptr,
            size,
            arena: gpu.arena.clone(),
        }),
        offset: 0,
        shape: shape.to_vec(),
        elem,
    })
}

extern "C" fn retain(owner: *const c_void) {
    // SAFETY: `owner` came from Arc::into_raw in `wrap` and the ABI calls retain
    // only on live buffers.
    unsafe { Arc::increment_strong_count(owner as *const Block) }
}

extern "C" fn release(owner: *const c_void) {
    // SAFETY: as in `retain`; this gives back the reference the buffer held.
    unsafe { Arc::decrement_strong_count(owner as *const Block) }
}

static VTABLE: BufferVtable = BufferVtable { retain, release };

/// A device operand as an ABI tensor.
pub fn wrap(gpu: &Gpu, op: Operand) -> Result<Tensor, Error> {
    let len = op.block.size;
    let addr = op.block.ptr;
    let owner = Arc::into_raw(op.block);
    // SAFETY: for Device memory the pointer is a handle only this provider reads;
    // `owner` holds the one reference handed over, and VTABLE's retain/release are
    // Arc's atomic counts.
    let b = unsafe {
        Buffer::from_raw(
            addr as *mut u8,
            len,
            gpu.id,
            owner as *const c_void,
            &VTABLE,
        )
    };
    Tensor::from_buffer(op.elem, &op.shape, b, op.offset)
}

/// The device operand behind `t`, if this session's device made it.
pub fn unwrap(gpu: &Gpu, t: &Tensor) -> Option<Operand> {
    let b = t.buffer();
    if t.device() != gpu.id || !std::ptr::eq(b.vtable(), &VTABLE) {
        return None;
    }
    let owner = b.owner() as *const Block;
    // SAFETY: the vtable is this library's, so the owner is a live Block that `b`
    // holds a reference to; we take one more for the operand.
    let block = unsafe {
        Arc::increment_strong_count(owner);
        Arc::from_raw(owner)
    };
    if !Arc::ptr_eq(&block.arena, &gpu.arena) {
        return None;
    }
    Some(Operand {
        block,
        offset: t.offset(),
        shape: t.shape().to_vec(),
        elem: t.elem(),
    })
}

fn check_pod(elem: ElemType) -> Result<(), Error> {
    if elem == ElemType::String || elem.packed_bits() < 8 {
        return Err(Error::not_implemented(format!(
            "CUDA memory holds fixed-size elements, not {elem}"
        )));
    }
    Ok(())
}

fn fail(what: &'static str) -> impl Fn(result::DriverError) -> Error {
    move |e| Error::fail(format!("{what}: {e:?}"))
}

/// Copies a host tensor to the device on `lane`'s stream (and waits).
pub fn upload(gpu: &Gpu, lane: &mut Lane, t: &Tensor) -> Result<Operand, Error> {
    check_pod(t.elem())?;
    let src = t
        .bytes()
        .ok_or_else(|| Error::invalid("upload of a tensor that is not in host memory"))?;
    let op = alloc(gpu, t.shape(), t.elem())?;
    if !src.is_empty() {
        let staging = lane.staging.get(src.len()).map_err(Error::fail)?;
        staging.copy_from_slice(src);
        // SAFETY: `op` has room for src.len() bytes; the staging memory stays alive
        // and untouched until the synchronize below.
        unsafe { result::memcpy_htod_async(op.ptr(), &staging[..], lane.stream.cu_stream()) }
            .map_err(fail("copy to the GPU"))?;
        lane.stream.synchronize().map_err(fail("copy to the GPU"))?;
    }
    Ok(op)
}

/// Copies a device operand into a new host tensor (waits for `lane`'s stream).
pub fn download(lane: &mut Lane, op: &Operand) -> Result<Tensor, Error> {
    check_pod(op.elem)?;
    let n = op.bytes();
    let mut out = vec![0u8; n];
    if n > 0 {
        let staging = lane.staging.get(n).map_err(Error::fail)?;
        // SAFETY: the operand holds n bytes; staging has n bytes and is read only
        // after the synchronize.
        unsafe { result::memcpy_dtoh_async(&mut staging[..], op.ptr(), lane.stream.cu_stream()) }
            .map_err(fail("copy from the GPU"))?;
        lane.stream
            .synchronize()
            .map_err(fail("copy from the GPU"))?;
        out.copy_from_slice(staging);
    }
    Tensor::from_bytes(op.elem, &op.shape, out)
}

/// The ABI's data transfer: host to this device or back.
pub fn transfer(gpu: &Gpu, t: &Tensor, to: DeviceId) -> Result<Tensor, Error> {
    gpu.bind().map_err(Error::fail)?;
    let mut lane = gpu.lane().map_err(Error::fail)?;
    let r = if to == gpu.id && t.device().host_readable() {
        upload(gpu, &mut lane, t).and_then(|op| wrap(gpu, op))
    } else if let (true, Some(op)) = (to.host_readable(), unwrap(gpu, t)) {
        download(&mut lane, &op)
    } else {
        Err(Error::not_implemented(format!(
            "the CUDA provider copies between the host and {:?}, not {:?} to {to:?}",
            gpu.id,
            t.device()
        )))
    };
    gpu.give_back(lane);
    r
}
