//! Buffers, tensors and values: the data that crosses the boundary.

use std::ffi::c_void;

use abi_stable::std_types::{RBox, ROption, RVec};
use abi_stable::StableAbi;

use super::types::ElemType;

/// Where memory lives.
#[repr(u8)]
#[derive(StableAbi, Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum MemoryKind {
    /// Ordinary host memory: the pointer may be dereferenced by anyone.
    Host = 0,
    /// Device memory: the pointer is a handle only its provider understands.
    Device = 1,
    /// Device memory that the host can also read and write through the pointer.
    HostVisible = 2,
}

/// Identifies one memory space, compared structurally (never by pointer).
#[repr(C)]
#[derive(StableAbi, Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct DeviceId {
    pub kind: MemoryKind,
    /// PCI vendor id, or a provider-chosen id for devices that have none; 0 for host.
    pub vendor: u32,
    /// Device ordinal within the vendor.
    pub device: u32,
}

impl DeviceId {
    pub const HOST: DeviceId = DeviceId {
        kind: MemoryKind::Host,
        vendor: 0,
        device: 0,
    };

    /// Whether the host may read the bytes through the pointer.
    pub fn host_readable(self) -> bool {
        self.kind != MemoryKind::Device
    }
}

/// The functions that keep a [`Buffer`]'s memory alive. They live in the library
/// that made the buffer; libraries are never unloaded, so they outlive every buffer.
#[repr(C)]
#[derive(StableAbi)]
pub struct BufferVtable {
    /// Adds one reference to `owner`.
    pub retain: extern "C" fn(owner: *const c_void),
    /// Drops one reference to `owner`; the last one frees the memory.
    pub release: extern "C" fn(owner: *const c_void),
}

/// A reference-counted block of memory, freed by the library that allocated it.
/// Cloning adds a reference; it never copies bytes.
#[repr(C)]
#[derive(StableAbi)]
pub struct Buffer {
    ptr: *mut u8,
    len: usize,
    device: DeviceId,
    owner: *const c_void,
    vtable: &'static BufferVtable,
}

// SAFETY: a Buffer is a counted reference to memory whose owner's retain/release are
// required (docs/abi.md) to be thread safe; the bytes themselves are plain data.
unsafe impl Send for Buffer {}
// SAFETY: as above; shared access only reads the pointer fields.
unsafe impl Sync for Buffer {}

impl Buffer {
    /// Wraps memory owned by `owner`, taking over one reference to it.
    ///
    /// # Safety
    /// `ptr` must be valid for `len` bytes in `device`'s memory for as long as `owner`
    /// holds a reference, and `vtable` must manage `owner`'s references thread-safely.
    pub unsafe fn from_raw(
        ptr: *mut u8,
        len: usize,
        device: DeviceId,
        owner: *const c_void,
        vtable: &'static BufferVtable,
    ) -> Buffer {
        Buffer {
            ptr,
            len,
            device,
            owner,
            vtable,
        }
    }

    /// A host buffer of `len` zeroed bytes, aligned to 64, freed by this library.
    pub fn host_zeroed(len: usize) -> Buffer {
        HostBlock::alloc(len)
    }

    pub fn as_ptr(&self) -> *mut u8 {
        self.ptr
    }
    pub fn len(&self) -> usize {
        self.len
    }
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }
    pub fn device(&self) -> DeviceId {
        self.device
    }
    /// The owner handle: two buffers with the same owner share memory.
    pub fn owner(&self) -> *const c_void {
        self.owner
    }
    /// The owner's functions: a provider compares them with its own to know that
    /// a device buffer (and so its owner handle) is one it made.
    pub fn vtable(&self) -> &'static BufferVtable {
        self.vtable
    }
}

impl Clone for Buffer {
    fn clone(&self) -> Self {
        (self.vtable.retain)(self.owner);
        Buffer { ..*self }
    }
}

impl Drop for Buffer {
    fn drop(&mut self) {
        (self.vtable.release)(self.owner);
    }
}

impl std::fmt::Debug for Buffer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Buffer({} bytes on {:?})", self.len, self.device)
    }
}

/// Plain 64-byte-aligned host memory with an atomic reference count.
struct HostBlock {
    refs: std::sync::atomic::AtomicUsize,
    layout: std::alloc::Layout,
    ptr: *mut u8,
}

impl HostBlock {
    const ALIGN: usize = 64;

    fn alloc(len: usize) -> Buffer {
        let layout = std::alloc::Layout::from_size_align(len.max(1), Self::ALIGN)
            .expect("buffer size overflows");
        // SAFETY: the layout has a non-zero size.
        let ptr = unsafe { std::alloc::alloc_zeroed(layout) };
        if ptr.is_null() {
            std::alloc::handle_alloc_error(layout);
        }
        let block = Box::new(HostBlock {
            refs: std::sync::atomic::AtomicUsize::new(1),
            layout,
            ptr,
        });
        // SAFETY: the block owns `len` bytes at `ptr` until its count reaches zero.
        unsafe {
            Buffer::from_raw(
                ptr,
                len,
                DeviceId::HOST,
                Box::into_raw(block) as *const c_void,
                &HOST_BLOCK_VTABLE,
            )
        }
    }
}

extern "C" fn host_block_retain(owner: *const c_void) {
    // SAFETY: `owner` came from Box::into_raw in HostBlock::alloc and is still counted.
    let block = unsafe { &*(owner as *const HostBlock) };
    block
        .refs
        .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
}

extern "C" fn host_block_release(owner: *const c_void) {
    // SAFETY: as in retain; the last release frees the block exactly once.
    let block = unsafe { &*(owner as *const HostBlock) };
    if block.refs.fetch_sub(1, std::sync::atomic::Ordering::AcqRel) == 1 {
        // SAFETY: no other reference remains.
        let block = unsafe { Box::from_raw(owner as *mut HostBlock) };
        // SAFETY: allocated with this layout in HostBlock::alloc.
        unsafe { std::alloc::dealloc(block.ptr, block.layout) };
    }
}

static HOST_BLOCK_VTABLE: BufferVtable = BufferVtable {
    retain: host_block_retain,
    release: host_block_release,
};

/// A dense, row-major tensor: element type, shape and a view into a buffer.
#[repr(C)]
#[derive(StableAbi, Clone, Debug)]
pub struct Tensor {
    elem: ElemType,
    shape: RVec<i64>,
    buffer: Buffer,
    /// Byte offset of element 0 within the buffer (for zero-copy views).
    offset: usize,
}

impl Tensor {
    /// A tensor over `buffer` from byte `offset`.
    pub fn from_buffer(
        elem: ElemType,
        shape: &[i64],
        buffer: Buffer,
        offset: usize,
    ) -> Result<Tensor, super::status::Error> {
        let t = Tensor {
            elem,
            shape: shape.into(),
            buffer,
            offset,
        };
        if shape.iter().any(|&d| d < 0) {
            return Err(super::status::Error::invalid(format!(
                "negative dimension in shape {shape:?}"
            )));
        }
        let need = t.byte_len();
        if offset
            .checked_add(need)
            .is_none_or(|end| end > t.buffer.len())
        {
            return Err(super::status::Error::invalid(format!(
                "a {} tensor of shape {:?} needs {need} bytes, its buffer has {} after offset {offset}",
                elem,
                shape,
                t.buffer.len().saturating_sub(offset)
            )));
        }
        Ok(t)
    }

    pub fn elem(&self) -> ElemType {
        self.elem
    }
    pub fn shape(&self) -> &[i64] {
        &self.shape
    }
    pub fn rank(&self) -> usize {
        self.shape.len()
    }
    pub fn len(&self) -> usize {
        self.shape.iter().product::<i64>() as usize
    }
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
    pub fn byte_len(&self) -> usize {
        self.len() * self.elem.size()
    }
    pub fn buffer(&self) -> &Buffer {
        &self.buffer
    }
    pub fn offset(&self) -> usize {
        self.offset
    }
    pub fn device(&self) -> DeviceId {
        self.buffer.device()
    }
    /// Pointer to element 0 (a device handle plus offset on device memory).
    pub fn data_ptr(&self) -> *mut u8 {
        self.buffer.as_ptr().wrapping_add(self.offset)
    }

    /// The same bytes under another shape of equal element count (no copy).
    pub fn reshaped(&self, shape: &[i64]) -> Result<Tensor, super::status::Error> {
        let n: i64 = shape.iter().product();
        if n as usize != self.len() || shape.iter().any(|&d| d < 0) {
            return Err(super::status::Error::invalid(format!(
                "cannot reshape {:?} to {:?}",
                self.shape(),
                shape
            )));
        }
        Ok(Tensor {
            elem: self.elem,
            shape: shape.into(),
            buffer: self.buffer.clone(),
            offset: self.offset,
        })
    }

    /// The raw bytes, when the tensor lives in host-readable memory.
    pub fn bytes(&self) -> Option<&[u8]> {
        if !self.device().host_readable() {
            return None;
        }
        let n = self.byte_len();
        if n == 0 {
            return Some(&[]);
        }
        // SAFETY: from_buffer checked offset+n <= buffer length; the memory is host readable
        // and kept alive by our buffer reference.
        Some(unsafe { std::slice::from_raw_parts(self.data_ptr(), n) })
    }
}

/// A runtime value: what flows along a graph edge.
#[repr(u8)]
#[derive(StableAbi, Clone, Debug)]
pub enum Value {
    Tensor(Tensor),
    /// An ONNX sequence; `elem` is the element tensors' type (kept for empty sequences).
    Sequence {
        elem: ElemType,
        items: RVec<Value>,
    },
    /// An ONNX optional: empty or holding one value.
    Optional(ROption<RBox<Value>>),
    /// An ONNX map: a 1-D tensor of keys and a value per key (a tensor or a sequence).
    Map {
        keys: Tensor,
        values: RBox<Value>,
    },
}

impl Value {
    pub fn as_tensor(&self) -> Option<&Tensor> {
        match self {
            Value::Tensor(t) => Some(t),
            _ => None,
        }
    }
    pub fn into_tensor(self) -> Option<Tensor> {
        match self {
            Value::Tensor(t) => Some(t),
            _ => None,
        }
    }
    pub fn kind_name(&self) -> &'static str {
        match self {
            Value::Tensor(_) => "tensor",
            Value::Sequence { .. } => "sequence",
            Value::Optional(_) => "optional",
            Value::Map { .. } => "map",
        }
    }
    /// A short description for error messages, e.g. `tensor(float)[2,3]`.
    pub fn describe(&self) -> String {
        match self {
            Value::Tensor(t) => format!("tensor({}){:?}", t.elem(), t.shape()),
            Value::Sequence { elem, items } => format!("seq(tensor({elem})) of {}", items.len()),
            Value::Optional(v) => match v.as_ref().into_option() {
                Some(v) => format!("optional({})", v.describe()),
                None => "optional(empty)".into(),
            },
            Value::Map { keys, .. } => format!("map({}, ...)", keys.elem()),
        }
    }
}

impl From<Tensor> for Value {
    fn from(t: Tensor) -> Value {
        Value::Tensor(t)
    }
}

/// A buffer known to have no other reference, so its bytes may be written.
/// Only fresh allocations are unique; the type cannot be cloned.
pub struct UniqueBuffer(Buffer);

impl UniqueBuffer {
    /// # Safety
    /// No other reference to `buffer`'s memory may exist.
    pub unsafe fn new_unchecked(buffer: Buffer) -> UniqueBuffer {
        UniqueBuffer(buffer)
    }
    /// Fresh zeroed host memory.
    pub fn host_zeroed(len: usize) -> UniqueBuffer {
        UniqueBuffer(Buffer::host_zeroed(len))
    }
    pub fn len(&self) -> usize {
        self.0.len()
    }
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
    pub fn into_inner(self) -> Buffer {
        self.0
    }
    /// The bytes, when the buffer lives in host-readable memory.
    pub fn bytes_mut(&mut self) -> Option<&mut [u8]> {
        if !self.0.device().host_readable() {
            return None;
        }
        if self.0.is_empty() {
            return Some(&mut []);
        }
        // SAFETY: unique and host readable; valid for len bytes while we hold it.
        Some(unsafe { std::slice::from_raw_parts_mut(self.0.as_ptr(), self.0.len()) })
    }
}

/// A `Vec<T>` kept alive by a reference count, for buffers of any element type
/// (string tensors included, whose elements must be dropped properly).
struct VecBlock<T> {
    refs: std::sync::atomic::AtomicUsize,
    _data: Vec<T>,
}

extern "C" fn vec_block_retain<T>(owner: *const c_void) {
    // SAFETY: `owner` came from Box::into_raw in vec_buffer and is still counted.
    let block = unsafe { &*(owner as *const VecBlock<T>) };
    block
        .refs
        .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
}

extern "C" fn vec_block_release<T>(owner: *const c_void) {
    // SAFETY: as in retain; the last release frees the block exactly once.
    let block = unsafe { &*(owner as *const VecBlock<T>) };
    if block.refs.fetch_sub(1, std::sync::atomic::Ordering::AcqRel) == 1 {
        // SAFETY: no other reference remains.
        drop(unsafe { Box::from_raw(owner as *mut VecBlock<T>) });
    }
}

struct VecVtable<T>(std::marker::PhantomData<T>);
impl<T> VecVtable<T> {
    const VTABLE: BufferVtable = BufferVtable {
        retain: vec_block_retain::<T>,
        release: vec_block_release::<T>,
    };
}

/// A host buffer that owns `data` (no copy).
pub fn vec_buffer<T: Send + Sync + 'static>(mut data: Vec<T>) -> Buffer {
    let len = data.len() * std::mem::size_of::<T>();
    let ptr = data.as_mut_ptr() as *mut u8;
    let block = Box::new(VecBlock {
        refs: std::sync::atomic::AtomicUsize::new(1),
        _data: data,
    });
    // SAFETY: the Vec's heap memory does not move when the Vec itself is moved into the
    // block, and lives until the block's count reaches zero.
    unsafe {
        Buffer::from_raw(
            ptr,
            len,
            DeviceId::HOST,
            Box::into_raw(block) as *const c_void,
            &VecVtable::<T>::VTABLE,
        )
    }
}
