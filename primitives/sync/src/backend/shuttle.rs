//! The shuttle backend (`--cfg gearset_shuttle`): random and PCT schedules over many threads.
//!
//! shuttle runs every atomic as `SeqCst` and does not track `UnsafeCell` accesses, so this
//! backend checks protocols (lost wake-ups, deadlocks, shutdown races), not orderings: loom and
//! Miri own those. Its `hint::spin_loop` yields to the scheduler.
#![allow(clippy::disallowed_types)]

pub(crate) const BACKEND: crate::Backend = crate::Backend::Shuttle;

pub use shuttle::sync::{Arc, Condvar, Mutex, MutexGuard};

/// Atomic types and fences: shuttle's, each a scheduling point, all `SeqCst`.
pub mod atomic {
    pub use shuttle::sync::atomic::{
        AtomicBool, AtomicI8, AtomicI16, AtomicI32, AtomicI64, AtomicIsize, AtomicPtr, AtomicU8,
        AtomicU16, AtomicU32, AtomicU64, AtomicUsize, Ordering, fence,
    };
}

/// Threads: shuttle's, scheduled by the test's scheduler. Its `park_timeout` never times out
/// (callers bound their waits with [`crate::time::expired`] instead).
pub mod thread {
    pub use shuttle::thread::{
        Builder, JoinHandle, Thread, ThreadId, current, panicking, park, park_timeout, spawn,
        yield_now,
    };
}

/// Spin-loop hints: shuttle's `spin_loop` is a yield to the scheduler.
pub mod hint {
    pub use shuttle::hint::spin_loop;
}

/// shuttle does not track cell accesses: the std cell serves.
pub(crate) type RawCell<T> = core::cell::UnsafeCell<T>;
