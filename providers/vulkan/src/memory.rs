//! Vulkan memory through the ABI: a device buffer travels as an ABI `Buffer`
//! whose owner is a reference-counted `Block`, so values stay in device
//! memory between Vulkan partitions and the host copies them only where a CPU
//! node or a graph output needs them (`transfer`).

use std::ffi::c_void;
use std::sync::Arc;

use half::f16;

use ort_core::abi::{Buffer, BufferVtable};
use ort_core::{DeviceId, ElemType, Error, Tensor};
use vulkano::buffer::Subbuffer;
use vulkano::command_buffer::{AutoCommandBufferBuilder, CommandBufferUsage, CopyBufferInfo};
use vulkano::device::Device;
use vulkano::sync::{self, GpuFuture};

use crate::gpu::Gpu;

/// What a Vulkan `Buffer` owns.
struct Block {
    buf: Subbuffer<[f32]>,
    /// The device the buffer belongs to (shared by the sessions on it).
    device: Arc<Device>,
}

extern "C" fn retain(owner: *const c_void) {
    // SAFETY: `owner` came from Arc::into_raw in `wrap` and still holds a reference
    // (the ABI calls retain only on live buffers).
    unsafe { Arc::increment_strong_count(owner as *const Block) }
}

extern "C" fn release(owner: *const c_void) {
    // SAFETY: as in `retain`; this gives back the reference the buffer held.
    unsafe { Arc::decrement_strong_count(owner as *const Block) }
}

static VTABLE: BufferVtable = BufferVtable { retain, release };

/// A float tensor of `shape` held in `buf` on the device, as an ABI tensor of
/// element type `elem` (float16 values are held as float32 on the device).
pub fn wrap(
    gpu: &Gpu,
    buf: Subbuffer<[f32]>,
    shape: &[i64],
    elem: ElemType,
) -> Result<Tensor, Error> {
    let bytes = buf.len() as usize * 4;
    let owner = Arc::into_raw(Arc::new(Block {
        buf,
        device: gpu.device.clone(),
    }));
    // SAFETY: for Device memory the pointer is a handle only this provider reads
    // (it is the owner itself); `owner` holds the one reference handed over, and
    // VTABLE's retain/release are Arc's atomic counts.
    let b = unsafe {
        Buffer::from_raw(
            owner as *mut u8,
            bytes,
            gpu.id,
            owner as *const c_void,
            &VTABLE,
        )
    };
    Tensor::from_buffer(elem, shape, b, 0)
}

/// The device buffer behind `t`, if this provider's device made it.
pub fn unwrap(gpu: &Gpu, t: &Tensor) -> Option<Subbuffer<[f32]>> {
    let b = t.buffer();
    let float = matches!(t.elem(), ElemType::F32 | ElemType::F16);
    if t.device() != gpu.id || !std::ptr::eq(b.vtable(), &VTABLE) || !float {
        return None;
    }
    // SAFETY: the vtable is this library's, so the owner is a live Block that `b`
    // holds a reference to for the duration of this borrow.
    let block = unsafe { &*(b.owner() as *const Block) };
    if !Arc::ptr_eq(&block.device, &gpu.device) {
        return None;
    }
    let first = (t.offset() / t.elem().size()) as u64;
    let len = t.len().max(1) as u64;
    Some(
        block
            .buf
            .clone()
            .slice(first..first + len.min(block.buf.len() - first)),
    )
}

/// A host float tensor's values as float32.
pub fn host_floats(t: &Tensor) -> Result<std::borrow::Cow<'_, [f32]>, Error> {
    Ok(match t.elem() {
        ElemType::F32 => t.as_slice::<f32>()?.into(),
        ElemType::F16 => t
            .as_slice::<f16>()?
            .iter()
            .map(|v| v.to_f32())
            .collect::<Vec<_>>()
            .into(),
        e => {
            return Err(Error::not_implemented(format!(
                "Vulkan memory holds float32 and float16 tensors, not {e}"
            )))
        }
    })
}

/// Copies `t` between host memory and this device.
pub fn transfer(gpu: &Gpu, t: &Tensor, to: DeviceId) -> Result<Tensor, Error> {
    if to == gpu.id && t.device().host_readable() {
        let buf = gpu.upload(&host_floats(t)?).map_err(Error::fail)?;
        return wrap(gpu, buf, t.shape(), t.elem());
    }
    if to.host_readable() {
        if let Some(buf) = unwrap(gpu, t) {
            let data = download(gpu, &buf, t.len())?;
            return match t.elem() {
                ElemType::F16 => {
                    Tensor::from_vec(t.shape(), data.into_iter().map(f16::from_f32).collect())
                }
                _ => Tensor::from_vec(t.shape(), data),
            };
        }
    }
    Err(Error::not_implemented(format!(
        "the Vulkan provider copies between the host and {:?}, not {:?} to {to:?}",
        gpu.id,
        t.device()
    )))
}

/// The first `n` floats of `buf`, through a host-visible staging buffer (device
/// memory need not be mappable).
pub fn download(gpu: &Gpu, buf: &Subbuffer<[f32]>, n: usize) -> Result<Vec<f32>, Error> {
    if n == 0 {
        return Ok(vec![]);
    }
    let staging = gpu.buffer(n, true).map_err(Error::fail)?;
    let mut b = AutoCommandBufferBuilder::primary(
        gpu.commands.clone(),
        gpu.queue.queue_family_index(),
        CommandBufferUsage::OneTimeSubmit,
    )
    .map_err(|e| Error::fail(format!("Vulkan command buffer: {e}")))?;
    b.copy_buffer(CopyBufferInfo::buffers(
        buf.clone().slice(0..n as u64),
        staging.clone(),
    ))
    .map_err(|e| Error::fail(format!("Vulkan copy: {e}")))?;
    submit(gpu, b)?;
    let data = staging
        .read()
        .map_err(|e| Error::fail(format!("Vulkan read back: {e}")))?;
    Ok(data[..n].to_vec())
}

/// Submits the recorded commands and waits for them.
pub fn submit(gpu: &Gpu, b: crate::ops::Builder) -> Result<(), Error> {
    let commands = b
        .build()
        .map_err(|e| Error::fail(format!("Vulkan command buffer: {e}")))?;
    sync::now(gpu.device.clone())
        .then_execute(gpu.queue.clone(), commands)
        .map_err(|e| Error::fail(format!("Vulkan submit: {e}")))?
        .then_signal_fence_and_flush()
        .map_err(|e| Error::fail(format!("Vulkan submit: {e}")))?
        .wait(None)
        .map_err(|e| Error::fail(format!("{}: {e}", gpu.name)))
}
