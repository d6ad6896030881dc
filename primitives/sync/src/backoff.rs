//! Exponential backoff for spin loops that also terminates under a model checker.
//!
//! On std this is crossbeam's `Backoff` scheme: spin `2^step` times with `spin_loop` up to
//! `SPIN_LIMIT`, then yield the time slice up to `YIELD_LIMIT`, after which the caller should
//! block. Under loom or shuttle every step is one `yield_now`: loom's scheduler is deliberately
//! unfair and would never run the thread a bare spin waits for.

use core::{cell::Cell, fmt};

use crate::{MODEL_CHECKED, hint, thread};

const SPIN_LIMIT: u32 = 6;
const YIELD_LIMIT: u32 = 10;

/// Spin-then-yield backoff for one waiting thread (not `Sync`: each waiter owns one).
///
/// ```
/// use gearset_sync::{Backoff, atomic::{AtomicBool, Ordering::Acquire}};
///
/// let flag = AtomicBool::new(true);
/// let backoff = Backoff::new();
/// // Acquire: pairs with whoever set the flag.
/// while !flag.load(Acquire) {
///     backoff.snooze();
/// }
/// ```
pub struct Backoff {
    step: Cell<u32>,
}

impl Backoff {
    /// A backoff at its first step.
    pub const fn new() -> Self {
        Self { step: Cell::new(0) }
    }

    /// Starts over, after the waiter made progress.
    pub fn reset(&self) {
        self.step.set(0);
    }

    /// Backs off in a lock-free loop: spins only (another thread is mid-operation and will
    /// finish soon). Yields under a model checker.
    pub fn spin(&self) {
        if MODEL_CHECKED {
            thread::yield_now();
            return;
        }
        for _ in 0..1u32 << self.step.get().min(SPIN_LIMIT) {
            hint::spin_loop();
        }
        if self.step.get() <= SPIN_LIMIT {
            self.step.set(self.step.get() + 1);
        }
    }

    /// Backs off while waiting for another thread: spins, then yields the time slice.
    pub fn snooze(&self) {
        if MODEL_CHECKED || self.step.get() > SPIN_LIMIT {
            thread::yield_now();
        } else {
            for _ in 0..1u32 << self.step.get() {
                hint::spin_loop();
            }
        }
        if self.step.get() <= YIELD_LIMIT {
            self.step.set(self.step.get() + 1);
        }
    }

    /// `true` once spinning and yielding have run their course: the caller should block now.
    pub fn is_completed(&self) -> bool {
        self.step.get() > YIELD_LIMIT
    }
}

impl Default for Backoff {
    fn default() -> Self {
        Self::new()
    }
}

impl fmt::Debug for Backoff {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Backoff")
            .field("step", &self.step.get())
            .field("is_completed", &self.is_completed())
            .finish()
    }
}
