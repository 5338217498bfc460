//! The session's host arena: buffers are recycled by size class instead of returning
//! to the system allocator, so a run reuses the memory of values whose lifetime ended
//! (the plan drops each value after its last use).

use std::ffi::c_void;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use ort_core::abi::{Buffer, BufferVtable, DeviceId};
use ort_core::host::HostAllocator;
use ort_core::Error;

const ALIGN: usize = 64;
/// Size classes: powers of two from 64 bytes; larger than the last class is unpooled.
const CLASSES: usize = 34;

pub struct Arena {
    inner: Arc<Inner>,
}

struct Inner {
    free: Vec<Mutex<Vec<Block>>>,
    /// Bytes held in free lists, for the cap below.
    pooled: AtomicUsize,
}

/// Pooled memory beyond this goes back to the system.
const MAX_POOLED: usize = 4 << 30;

struct Block {
    ptr: *mut u8,
    class: usize,
}

// SAFETY: a free block is plain memory owned by the pool.
unsafe impl Send for Block {}

struct Owner {
    refs: AtomicUsize,
    block: Block,
    arena: Arc<Inner>,
}

fn layout(class: usize) -> std::alloc::Layout {
    std::alloc::Layout::from_size_align(ALIGN << class, ALIGN).expect("class size fits")
}

fn class_of(bytes: usize) -> usize {
    let units = bytes.max(1).div_ceil(ALIGN);
    units.next_power_of_two().trailing_zeros() as usize
}

impl Default for Arena {
    fn default() -> Self {
        Arena {
            inner: Arc::new(Inner {
                free: (0..CLASSES).map(|_| Mutex::new(Vec::new())).collect(),
                pooled: AtomicUsize::new(0),
            }),
        }
    }
}

impl Arena {
    /// Bytes currently held for reuse.
    pub fn pooled_bytes(&self) -> usize {
        self.inner.pooled.load(Ordering::Relaxed)
    }
}

impl HostAllocator for Arena {
    fn alloc(&self, bytes: usize) -> Result<Buffer, Error> {
        let class = class_of(bytes);
        if class >= CLASSES {
            return Ok(Buffer::host_zeroed(bytes));
        }
        let reused = self.inner.free[class]
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .pop();
        let block = match reused {
            Some(b) => {
                self.inner
                    .pooled
                    .fetch_sub(ALIGN << class, Ordering::Relaxed);
                b
            }
            None => {
                // SAFETY: non-zero size.
                let ptr = unsafe { std::alloc::alloc(layout(class)) };
                if ptr.is_null() {
                    return Err(Error::new(
                        ort_core::ErrorCode::OUT_OF_MEMORY,
                        format!("cannot allocate {bytes} bytes"),
                    ));
                }
                Block { ptr, class }
            }
        };
        let ptr = block.ptr;
        let owner = Box::new(Owner {
            refs: AtomicUsize::new(1),
            block,
            arena: self.inner.clone(),
        });
        // SAFETY: the block holds at least `bytes` bytes until the owner's count hits 0.
        Ok(unsafe {
            Buffer::from_raw(
                ptr,
                bytes,
                DeviceId::HOST,
                Box::into_raw(owner) as *const c_void,
                &VTABLE,
            )
        })
    }
}

extern "C" fn retain(owner: *const c_void) {
    // SAFETY: made by Box::into_raw in alloc, alive while counted.
    let o = unsafe { &*(owner as *const Owner) };
    o.refs.fetch_add(1, Ordering::Relaxed);
}

extern "C" fn release(owner: *const c_void) {
    // SAFETY: as in retain; the last release reclaims the owner exactly once.
    let o = unsafe { &*(owner as *const Owner) };
    if o.refs.fetch_sub(1, Ordering::AcqRel) != 1 {
        return;
    }
    // SAFETY: no other reference remains.
    let o = unsafe { Box::from_raw(owner as *mut Owner) };
    let size = ALIGN << o.block.class;
    if o.arena.pooled.fetch_add(size, Ordering::Relaxed) + size <= MAX_POOLED {
        o.arena.free[o.block.class]
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(Block {
                ptr: o.block.ptr,
                class: o.block.class,
            });
    } else {
        o.arena.pooled.fetch_sub(size, Ordering::Relaxed);
        // SAFETY: allocated with this class's layout.
        unsafe { std::alloc::dealloc(o.block.ptr, layout(o.block.class)) };
    }
}

static VTABLE: BufferVtable = BufferVtable { retain, release };

impl Drop for Inner {
    fn drop(&mut self) {
        for list in &self.free {
            for b in list.lock().unwrap_or_else(|e| e.into_inner()).drain(..) {
                // SAFETY: pooled blocks are unreferenced and were allocated with this layout.
                unsafe { std::alloc::dealloc(b.ptr, layout(b.class)) };
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reuses_freed_blocks() {
        let a = Arena::default();
        let b1 = a.alloc(1000).unwrap();
        let p1 = b1.as_ptr();
        drop(b1);
        assert_eq!(a.pooled_bytes(), 1024);
        let b2 = a.alloc(900).unwrap();
        assert_eq!(b2.as_ptr(), p1, "same size class reuses the block");
        let b3 = a.alloc(900).unwrap();
        assert_ne!(b3.as_ptr(), p1, "a live block is never handed out twice");
    }
}
