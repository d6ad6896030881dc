//! The production backend: plain re-exports of `core` and `std`, zero cost.
#![allow(clippy::disallowed_types, clippy::disallowed_methods)]

pub(crate) const BACKEND: crate::Backend = crate::Backend::Std;

pub use std::sync::{Arc, Condvar, Mutex, MutexGuard};

/// Atomic types and fences: `core::sync::atomic` on this backend.
pub mod atomic {
    pub use core::sync::atomic::{
        AtomicBool, AtomicI8, AtomicI16, AtomicI32, AtomicI64, AtomicIsize, AtomicPtr, AtomicU8,
        AtomicU16, AtomicU32, AtomicU64, AtomicUsize, Ordering, fence,
    };
}

/// Threads: `std::thread` on this backend.
pub mod thread {
    pub use std::thread::{
        Builder, JoinHandle, Thread, ThreadId, current, panicking, park, park_timeout, spawn,
        yield_now,
    };
}

/// Spin-loop hints: `core::hint` on this backend.
pub mod hint {
    pub use core::hint::spin_loop;
}

pub(crate) type RawCell<T> = core::cell::UnsafeCell<T>;
