//! The caching device allocator. `cuMemAlloc` and `cuMemFree` synchronize the
//! device, so freed blocks are kept by size class and handed out again; the
//! cache is emptied before a new allocation would pass the memory limit, and
//! when the device itself runs out.

use std::collections::BTreeMap;
use std::sync::Mutex;

/// Where blocks come from: the device (`driver.rs`), or a fake in tests.
pub trait Backing: Send + Sync {
    fn alloc(&self, bytes: usize) -> Result<u64, String>;
    fn free(&self, ptr: u64);
}

/// The size class a request is served from: powers of two up to 1 MiB, then
/// whole MiB, so a model's activations of one shape find each other.
pub fn class(bytes: usize) -> usize {
    const MIB: usize = 1 << 20;
    let bytes = bytes.max(256);
    if bytes <= MIB {
        bytes.next_power_of_two()
    } else {
        bytes.div_ceil(MIB) * MIB
    }
}

#[derive(Default)]
struct State {
    /// Free blocks by class.
    free: BTreeMap<usize, Vec<u64>>,
    /// Bytes held from the backing, in use or cached.
    held: usize,
    cached: usize,
}

pub struct Arena<B: Backing> {
    backing: B,
    /// The most bytes held at once (provider option `memory_limit`).
    limit: Option<usize>,
    state: Mutex<State>,
}

impl<B: Backing> Arena<B> {
    pub fn new(backing: B, limit: Option<usize>) -> Arena<B> {
        Arena {
            backing,
            limit,
            state: Mutex::new(State::default()),
        }
    }

    fn state(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// A block of at least `bytes`; returns its pointer and class, which
    /// [`Arena::give_back`] takes.
    pub fn take(&self, bytes: usize) -> Result<(u64, usize), String> {
        let size = class(bytes);
        let mut st = self.state();
        if let Some(p) = st.free.get_mut(&size).and_then(|v| v.pop()) {
            st.cached -= size;
            return Ok((p, size));
        }
        if let Some(limit) = self.limit {
            if st.held + size > limit {
                self.drain(&mut st);
            }
            if st.held + size > limit {
                return Err(format!(
                    "the CUDA memory limit of {limit} bytes is reached ({} held, {size} more asked for)",
                    st.held
                ));
            }
        }
        let ptr = match self.backing.alloc(size) {
            Ok(p) => p,
            Err(_) if st.cached > 0 => {
                self.drain(&mut st);
                self.backing.alloc(size)?
            }
            Err(e) => return Err(e),
        };
        st.held += size;
        Ok((ptr, size))
    }

    pub fn give_back(&self, ptr: u64, size: usize) {
        let mut st = self.state();
        st.free.entry(size).or_default().push(ptr);
        st.cached += size;
    }

    /// Returns every cached block to the backing.
    fn drain(&self, st: &mut State) {
        for (size, ptrs) in std::mem::take(&mut st.free) {
            for p in ptrs {
                self.backing.free(p);
                st.held -= size;
            }
        }
        st.cached = 0;
    }

    /// Bytes held from the backing, and how many of them are cached.
    pub fn usage(&self) -> (usize, usize) {
        let st = self.state();
        (st.held, st.cached)
    }
}

impl<B: Backing> Drop for Arena<B> {
    fn drop(&mut self) {
        let mut st = self.state();
        self.drain(&mut st);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;
    use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};

    /// Hands out increasing fake addresses, failing past `capacity` bytes live.
    #[derive(Default)]
    struct Fake {
        next: AtomicU64,
        live: Mutex<HashMap<u64, usize>>,
        frees: AtomicUsize,
        capacity: usize,
    }

    impl Backing for &Fake {
        fn alloc(&self, bytes: usize) -> Result<u64, String> {
            let mut live = self.live.lock().unwrap();
            if live.values().sum::<usize>() + bytes > self.capacity {
                return Err("out of device memory".into());
            }
            let p = self.next.fetch_add(bytes as u64, Ordering::SeqCst) + 0x1000;
            live.insert(p, bytes);
            Ok(p)
        }
        fn free(&self, p: u64) {
            self.live.lock().unwrap().remove(&p);
            self.frees.fetch_add(1, Ordering::SeqCst);
        }
    }

    fn fake(capacity: usize) -> Fake {
        Fake {
            capacity,
            ..Default::default()
        }
    }

    #[test]
    fn classes_round_up() {
        assert_eq!(class(1), 256);
        assert_eq!(class(1000), 1024);
        assert_eq!(class(1 << 20), 1 << 20);
        assert_eq!(class((1 << 20) + 1), 2 << 20);
    }

    #[test]
    fn a_freed_block_is_reused_for_its_class() {
        let f = fake(1 << 30);
        let a = Arena::new(&f, None);
        let (p, s) = a.take(3000).unwrap();
        a.give_back(p, s);
        assert_eq!(a.take(4000).unwrap(), (p, 4096));
        let (q, _) = a.take(4000).unwrap();
        assert_ne!(p, q);
        assert_eq!(a.usage(), (8192, 0));
    }

    #[test]
    fn the_limit_empties_the_cache_then_refuses() {
        let f = fake(1 << 30);
        let a = Arena::new(&f, Some(8192));
        let (p, s) = a.take(4096).unwrap();
        a.give_back(p, s);
        // A different class would pass the limit with the cached block held.
        let (_q, _) = a.take(8192).unwrap();
        assert_eq!(f.frees.load(Ordering::SeqCst), 1);
        let err = a.take(256).unwrap_err();
        assert!(err.contains("memory limit of 8192 bytes"), "{err}");
    }

    #[test]
    fn running_out_empties_the_cache_and_retries() {
        let f = fake(8192);
        let a = Arena::new(&f, None);
        let (p, s) = a.take(8192).unwrap();
        a.give_back(p, s);
        let (q, s) = a.take(4096).unwrap();
        assert_eq!(f.frees.load(Ordering::SeqCst), 1);
        assert_eq!(a.usage(), (4096, 0));
        assert!(
            a.take(8192).is_err(),
            "the device is full and nothing is cached"
        );
        a.give_back(q, s);
        drop(a);
        assert!(
            f.live.lock().unwrap().is_empty(),
            "dropping the arena frees all"
        );
    }
}
