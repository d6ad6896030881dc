//! The loom backend (`--cfg gearset_loom`): every interleaving and weak-memory outcome, bounded.
//!
//! loom's `hint::spin_loop` yields to the model's scheduler; a bare spin loop would never let
//! the thread it waits for run.

pub(crate) const BACKEND: crate::Backend = crate::Backend::Loom;

pub use loom::sync::{Arc, Condvar, Mutex, MutexGuard};

/// Atomic types and fences: loom's models, which record every access.
pub mod atomic {
    pub use loom::sync::atomic::{
        AtomicBool, AtomicI8, AtomicI16, AtomicI32, AtomicI64, AtomicIsize, AtomicPtr, AtomicU8,
        AtomicU16, AtomicU32, AtomicU64, AtomicUsize, Ordering, fence,
    };
}

/// Threads: loom's, scheduled by the model (at most `loom::MAX_THREADS` including main).
pub mod thread {
    pub use loom::thread::{
        Builder, JoinHandle, Thread, ThreadId, current, panicking, park, spawn, yield_now,
    };

    /// loom has no timed park. `park_timeout` may return spuriously on every backend, so a
    /// yield to the model's scheduler is a faithful stand-in.
    pub fn park_timeout(_timeout: std::time::Duration) {
        yield_now();
    }
}

/// Spin-loop hints: loom's `spin_loop` is a yield to the model's scheduler.
pub mod hint {
    pub use loom::hint::spin_loop;
}

pub(crate) type RawCell<T> = loom::cell::UnsafeCell<T>;
