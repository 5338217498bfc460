//! Parallel loops for kernels, on spinning helpers while a run lasts.
//!
//! A run (`Helpers::run`, from the provider's `run_scope`) executes on the
//! caller's own thread, as onnxruntime's does, while the pool's workers spin:
//! each polls the run's one job slot, then rayon's queues. (Handing the run to
//! a pool thread instead left the caller asleep, and waking it at the end cost
//! tens of microseconds per run.)
//! A loop ([`for_each`], [`for_each_chunk`]) is published in the slot, its tasks
//! are claimed from one counter by the caller and the helpers, and the caller
//! waits for the helpers' last tasks by spinning. With rayon's fork-join the
//! worker that waits for a stolen half goes to sleep after a few microseconds,
//! and waking it costs 15-50 µs on the 2-vCPU machines here: on every parallel
//! region, more than many kernels take. onnxruntime's pool spins the same way.
//!
//! A loop nested in a task of another runs serially on the run's thread (the
//! outer loop already spreads the work); outside a run, or on a helper, loops
//! run on rayon (the current pool), so kernels called directly (tests) behave
//! the same.

use std::cell::Cell;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::ptr;
use std::sync::atomic::{AtomicBool, AtomicPtr, AtomicU64, AtomicUsize, Ordering::*};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use rayon::prelude::*;

/// The run's helpers and the job slot they poll.
pub(crate) struct Helpers {
    /// The threads a loop of this run spreads over: the helpers and the caller.
    threads: usize,
    stop: AtomicBool,
    /// The published `Job`, or null.
    slot: AtomicPtr<Job<'static>>,
    /// Helpers between reading the slot and leaving its job: the publisher
    /// waits for zero after clearing the slot, so no helper still holds it.
    active: AtomicUsize,
}

/// One published loop.
struct Job<'a> {
    f: &'a (dyn Fn(usize) + Sync),
    /// The unclaimed tasks, `lo..hi`, as `hi << 32 | lo`.
    left: AtomicU64,
    panicked: AtomicBool,
}

impl Job<'_> {
    fn new(f: &(dyn Fn(usize) + Sync), n: usize) -> Job<'_> {
        assert!(n < 1 << 32, "too many tasks");
        Job {
            f,
            left: AtomicU64::new((n as u64) << 32),
            panicked: AtomicBool::new(false),
        }
    }

    /// Claims and runs tasks until none is left: the publisher from the
    /// first on, helpers from the last down. With two threads each keeps
    /// the same end of every loop, so that a loop over output rows or
    /// channels that follows another finds most of its input in its own
    /// core's cache (a transfer between cores cost 3-12× more than a local
    /// read when the two vCPUs here sat far apart).
    fn work(&self, front: bool) {
        loop {
            let mut cur = self.left.load(Relaxed);
            let i = loop {
                let (lo, hi) = (cur & 0xffff_ffff, cur >> 32);
                if lo >= hi {
                    return;
                }
                let (next, i) = if front {
                    (cur + 1, lo)
                } else {
                    (cur - (1 << 32), hi - 1)
                };
                match self.left.compare_exchange_weak(cur, next, Relaxed, Relaxed) {
                    Ok(_) => break i as usize,
                    Err(now) => cur = now,
                }
            };
            // A panic stays on this thread; the publisher re-raises it.
            if catch_unwind(AssertUnwindSafe(|| (self.f)(i))).is_err() {
                self.panicked.store(true, Relaxed);
            }
        }
    }
}

thread_local! {
    /// The helpers of the run this thread is running, or null.
    static CURRENT: Cell<*const Helpers> = const { Cell::new(ptr::null()) };
}

impl Helpers {
    /// Runs `f` on this thread with `n` helpers from `pool` spinning until it
    /// returns.
    pub(crate) fn run<R>(pool: &rayon::ThreadPool, n: usize, f: impl FnOnce() -> R) -> R {
        let helpers = Arc::new(Helpers {
            threads: n + 1,
            stop: AtomicBool::new(false),
            slot: AtomicPtr::new(ptr::null_mut()),
            active: AtomicUsize::new(0),
        });
        let home = std::thread::current().id();
        for _ in 0..n {
            let h = helpers.clone();
            pool.spawn(move || {
                // The run's own thread must not spin (when it is a pool
                // thread): its run would wait on it.
                if std::thread::current().id() != home {
                    h.spin();
                }
            });
        }
        struct Reset(*const Helpers, Arc<Helpers>);
        impl Drop for Reset {
            fn drop(&mut self) {
                CURRENT.with(|c| c.set(self.0));
                self.1.stop.store(true, Relaxed);
            }
        }
        let _reset = Reset(CURRENT.with(|c| c.replace(Arc::as_ptr(&helpers))), helpers);
        f()
    }

    fn spin(&self) {
        self.help_until_stopped();
        linger();
    }

    fn help_until_stopped(&self) {
        while !self.stop.load(Relaxed) {
            if !self.slot.load(Relaxed).is_null() {
                self.active.fetch_add(1, SeqCst);
                let job = self.slot.load(SeqCst);
                // SAFETY: a job stays alive while it is in the slot and until
                // `active` drops to zero after it leaves (see `publish`); this
                // helper counted itself in `active` before loading it.
                if let Some(job) = unsafe { job.as_ref() } {
                    job.work(false);
                }
                self.active.fetch_sub(1, SeqCst);
            } else if rayon::yield_now() != Some(rayon::Yield::Executed) {
                std::hint::spin_loop();
            }
        }
    }

    /// Runs the n tasks of `f` with the helpers; false, running nothing, when
    /// the slot is taken (a loop nested in a task).
    fn publish(&self, n: usize, f: &(dyn Fn(usize) + Sync)) -> bool {
        let job = Job::new(f, n);
        let erased = ptr::from_ref(&job).cast::<Job<'static>>().cast_mut();
        if self
            .slot
            .compare_exchange(ptr::null_mut(), erased, SeqCst, Relaxed)
            .is_err()
        {
            return false;
        }
        // Clears the slot and waits for the helpers to leave the job, also
        // when a task on this thread panics: the job and what `f` borrows
        // must outlive every helper's use of them.
        struct Unpublish<'a>(&'a Helpers);
        impl Drop for Unpublish<'_> {
            fn drop(&mut self) {
                self.0.slot.store(ptr::null_mut(), SeqCst);
                while self.0.active.load(SeqCst) != 0 {
                    std::hint::spin_loop();
                }
            }
        }
        {
            let _unpublish = Unpublish(self);
            job.work(true);
        }
        if job.panicked.load(Relaxed) {
            panic!("a parallel task panicked");
        }
        true
    }
}

/// How long a worker keeps polling for work after a run: a run that follows
/// within it (a serving or benchmark loop) finds the workers awake instead of
/// waking them, which on a VM can take a descheduled vCPU milliseconds.
const LINGER: Duration = Duration::from_micros(1000);

/// Polls rayon's queues until a job turns up (run it and return: the next
/// run's own lingering takes over) or `LINGER` has passed.
fn linger() {
    let start = Instant::now();
    while start.elapsed() < LINGER {
        if rayon::yield_now() == Some(rayon::Yield::Executed) {
            return;
        }
        std::hint::spin_loop();
    }
}

/// Runs `f(0..n)` in parallel when `threads > 1`: on the run's helpers when
/// this thread runs a run, else on rayon's current pool.
pub(crate) fn for_each(threads: usize, n: usize, f: impl Fn(usize) + Sync) {
    if threads <= 1 || n <= 1 {
        return (0..n).for_each(f);
    }
    let h = CURRENT.with(|c| c.get());
    // SAFETY: CURRENT points at the Arc that `Helpers::run` holds on this
    // thread's stack for as long as it is set.
    if let Some(h) = unsafe { h.as_ref() } {
        if !h.publish(n, &f) {
            // Nested in a task of this run's loop, which already spreads the
            // work over the threads (and this thread may be off the pool).
            (0..n).for_each(f);
        }
        return;
    }
    (0..n).into_par_iter().for_each(&f);
}

/// Whether this thread is running a run (`Helpers::run`).
pub(crate) fn in_run() -> bool {
    !CURRENT.with(|c| c.get()).is_null()
}

/// The threads of the run this thread runs, else of the pool it is on (1 off
/// the pool): for loops whose callers have no thread count of their own.
pub(crate) fn pool_threads() -> usize {
    // SAFETY: as in `for_each`.
    if let Some(h) = unsafe { CURRENT.with(|c| c.get()).as_ref() } {
        h.threads
    } else if rayon::current_thread_index().is_some() {
        rayon::current_num_threads()
    } else {
        1
    }
}

/// Runs `f(i, chunk)` for each `chunk`-long piece of `data` (the last may be
/// shorter), in parallel as [`for_each`] does.
pub(crate) fn for_each_chunk<T: Send>(
    threads: usize,
    data: &mut [T],
    chunk: usize,
    f: impl Fn(usize, &mut [T]) + Sync,
) {
    let chunk = chunk.max(1);
    let (len, base) = (data.len(), SendPtr(data.as_mut_ptr()));
    for_each(threads, len.div_ceil(chunk), |i| {
        let start = i * chunk;
        let end = (start + chunk).min(len);
        // SAFETY: task i alone gets data[start..end], and the chunks of
        // distinct tasks are disjoint; `data` is exclusively borrowed for the
        // whole loop.
        let piece = unsafe { std::slice::from_raw_parts_mut(base.get().add(start), end - start) };
        f(i, piece)
    });
}

/// [`for_each_chunk`] over two slices in step: `f(i, a_chunk, b_chunk)`, the
/// chunks `ca` and `cb` long (both slices hold the same number of them).
pub(crate) fn for_each_chunk_pair<T: Send, U: Send>(
    threads: usize,
    (a, ca): (&mut [T], usize),
    (b, cb): (&mut [U], usize),
    f: impl Fn(usize, &mut [T], &mut [U]) + Sync,
) {
    let (ca, cb) = (ca.max(1), cb.max(1));
    let n = a.len().div_ceil(ca);
    assert_eq!(n, b.len().div_ceil(cb), "paired slices differ in chunks");
    let (la, lb) = (a.len(), b.len());
    let (pa, pb) = (SendPtr(a.as_mut_ptr()), SendPtr(b.as_mut_ptr()));
    for_each(threads, n, |i| {
        let (sa, sb) = (i * ca, i * cb);
        // SAFETY: as in `for_each_chunk`, for each of the two slices.
        let (xa, xb) = unsafe {
            (
                std::slice::from_raw_parts_mut(pa.get().add(sa), ca.min(la - sa)),
                std::slice::from_raw_parts_mut(pb.get().add(sb), cb.min(lb - sb)),
            )
        };
        f(i, xa, xb)
    });
}

/// Runs `f` on each item in parallel as [`for_each`] does, returning the
/// first error (by item order) if any.
pub(crate) fn try_for_each_item<T: Send, E: Send>(
    threads: usize,
    items: Vec<T>,
    f: impl Fn(T) -> Result<(), E> + Sync,
) -> Result<(), E> {
    if threads <= 1 || items.len() <= 1 {
        return items.into_iter().try_for_each(f);
    }
    let items: Vec<Mutex<Option<T>>> = items.into_iter().map(|t| Mutex::new(Some(t))).collect();
    let errors: Vec<Mutex<Option<E>>> = items.iter().map(|_| Mutex::new(None)).collect();
    for_each(threads, items.len(), |i| {
        let item = items[i].lock().unwrap_or_else(|e| e.into_inner()).take();
        if let Some(Err(e)) = item.map(&f) {
            *errors[i].lock().unwrap_or_else(|e| e.into_inner()) = Some(e);
        }
    });
    match errors
        .into_iter()
        .find_map(|e| e.into_inner().unwrap_or_else(|e| e.into_inner()))
    {
        Some(e) => Err(e),
        None => Ok(()),
    }
}

/// A slice that parallel tasks write in disjoint parts.
pub(crate) struct Disjoint<'a, T> {
    ptr: SendPtr<T>,
    len: usize,
    _borrow: std::marker::PhantomData<&'a mut [T]>,
}

impl<'a, T: Send> Disjoint<'a, T> {
    pub(crate) fn new(data: &'a mut [T]) -> Self {
        Disjoint {
            ptr: SendPtr(data.as_mut_ptr()),
            len: data.len(),
            _borrow: std::marker::PhantomData,
        }
    }

    /// The slice's start and length, for writes that `part` cannot express
    /// (a scatter into strided places).
    pub(crate) fn raw(&self) -> (*mut T, usize) {
        (self.ptr.get(), self.len)
    }

    /// The part at `range`.
    ///
    /// # Safety
    /// No other part in use at the same time overlaps it.
    #[allow(clippy::mut_from_ref)]
    pub(crate) unsafe fn part(&self, range: std::ops::Range<usize>) -> &mut [T] {
        assert!(range.start <= range.end && range.end <= self.len);
        // SAFETY: in bounds (asserted); exclusive by the caller's contract;
        // the slice is borrowed mutably for 'a.
        unsafe { std::slice::from_raw_parts_mut(self.ptr.get().add(range.start), range.len()) }
    }
}

/// A pointer into a slice that tasks share, each using its own part.
struct SendPtr<T>(*mut T);
impl<T> Clone for SendPtr<T> {
    fn clone(&self) -> Self {
        *self
    }
}
impl<T> Copy for SendPtr<T> {}
// SAFETY: only used by the chunk loops and `Disjoint` above, whose tasks touch
// disjoint parts.
unsafe impl<T: Send> Send for SendPtr<T> {}
// SAFETY: as above.
unsafe impl<T: Send> Sync for SendPtr<T> {}
impl<T> SendPtr<T> {
    fn get(self) -> *mut T {
        self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pool() -> rayon::ThreadPool {
        rayon::ThreadPoolBuilder::new()
            .num_threads(3)
            .build()
            .unwrap()
    }

    #[test]
    fn every_task_runs_once_with_and_without_helpers() {
        let pool = pool();
        for helpers in [false, true] {
            let counts: Vec<AtomicUsize> = (0..1000).map(|_| AtomicUsize::new(0)).collect();
            let body = || {
                for _ in 0..50 {
                    for_each(3, counts.len(), |i| {
                        counts[i].fetch_add(1, Relaxed);
                        // Nested: serially on the run's thread, on rayon on
                        // a helper.
                        for_each(3, 2, |_| {
                            counts[i].fetch_add(1, Relaxed);
                        });
                    });
                }
            };
            if helpers {
                Helpers::run(&pool, 2, body)
            } else {
                pool.install(body)
            }
            assert!(counts.iter().all(|c| c.load(Relaxed) == 150));
        }
    }

    #[test]
    fn chunks_cover_the_slice_exactly() {
        let pool = pool();
        let mut v = vec![0usize; 1003];
        Helpers::run(&pool, 2, || {
            for_each_chunk(3, &mut v, 10, |i, c| {
                c.iter_mut().enumerate().for_each(|(j, x)| *x += i * 10 + j)
            })
        });
        assert!(v.iter().enumerate().all(|(i, &x)| x == i));
    }

    #[test]
    fn a_panicking_task_reaches_the_caller() {
        let pool = pool();
        let r = Helpers::run(&pool, 2, || {
            catch_unwind(|| for_each(3, 100, |i| assert!(i != 57, "task 57")))
        });
        assert!(r.is_err());
    }
}
