//! An asymmetric store→load barrier: nearly free on the single producer's claim path, one
//! system call on the (rare) close path.
//!
//! # Why
//!
//! A single-producer claim and a close race as a Dekker handshake (see `flavors/single.rs`):
//! the producer stores its claim then loads `closed`, the closer stores `closed` then loads the
//! claim, and each side needs a store→load barrier between its two accesses. A `SeqCst` fence
//! on both sides costs an `mfence` (tens of cycles) on every claim, which made 1P→1C an order of
//! magnitude slower than the `disruptor` crate.
//!
//! # How
//!
//! Linux's `membarrier(MEMBARRIER_CMD_PRIVATE_EXPEDITED)` runs a full memory barrier on every
//! CPU currently running a thread of this process before it returns (threads not running pass
//! one at their next context switch). So the producer's [`Asymmetric::light`] is only a
//! compiler fence (it keeps the compiler from moving the load above the store) and the
//! closer's [`Asymmetric::heavy`] is the system call. The two together order like two `SeqCst`
//! fences: if the producer's load ran before the heavy barrier's IPI reached its CPU, that IPI's
//! barrier drained the producer's earlier store before the closer loads it; otherwise the
//! producer's load runs after the closer's store was made globally visible (the system call
//! entry is itself a full barrier). This is folly's `asymmetricLightBarrier` /
//! `asymmetricHeavyBarrier` and liburcu's `membarrier` flavor.
//!
//! Where the system call is missing (not Linux, an old kernel, a seccomp filter, Miri) or under
//! the model checkers (loom and shuttle cannot model an IPI), both halves are `fence(SeqCst)`:
//! the same guarantee at the old cost. The choice is made once per disruptor at build time and
//! kept in the sequencer, so the producer's branch on it is perfectly predicted.

use gearset_sync::atomic::{Ordering::SeqCst, fence};

/// Which barrier pair this disruptor uses (see the module docs).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Asymmetric {
    /// `true`: light = compiler fence, heavy = `membarrier`. `false`: both are `fence(SeqCst)`.
    expedited: bool,
}

impl Asymmetric {
    /// The cheapest correct pair on this machine.
    pub(crate) fn new() -> Self {
        Self {
            expedited: os::expedited_available(),
        }
    }

    /// The pair of two `SeqCst` fences (models, tests, and the fallback).
    #[cfg(test)]
    pub(crate) fn fences() -> Self {
        Self { expedited: false }
    }

    /// `true` if the light half is only a compiler fence.
    pub(crate) fn is_expedited(self) -> bool {
        self.expedited
    }

    /// The part of the producer's half that both pairs share, a compiler fence: all of it when
    /// expedited; otherwise [`light`](Self::light) must follow before the load it orders.
    #[inline(always)]
    pub(crate) fn compiler_half() {
        core::sync::atomic::compiler_fence(core::sync::atomic::Ordering::SeqCst);
    }

    /// The producer's half: orders its earlier store before its later load against a
    /// [`heavy`](Self::heavy) barrier on another thread.
    #[inline(always)]
    pub(crate) fn light(self) {
        if self.expedited {
            os::compiler_fence();
        } else {
            // SeqCst fence: the symmetric Dekker pair with the fence in `heavy`.
            fence(SeqCst);
        }
    }

    /// The closer's half: orders its earlier store before its later load against every
    /// [`light`](Self::light) barrier on other threads.
    pub(crate) fn heavy(self) {
        // SeqCst fence: the closer's own store→load order (and the whole pair when not expedited).
        fence(SeqCst);
        if self.expedited {
            os::membarrier();
        }
    }
}

#[cfg(all(target_os = "linux", not(any(gearset_loom, gearset_shuttle, miri))))]
mod os {
    use std::sync::OnceLock;

    const QUERY: libc::c_int = 0;
    const PRIVATE_EXPEDITED: libc::c_int = 1 << 3;
    const REGISTER_PRIVATE_EXPEDITED: libc::c_int = 1 << 4;

    fn membarrier_call(cmd: libc::c_int) -> libc::c_long {
        // SAFETY: `membarrier(cmd, flags = 0, cpu_id = 0)` takes no pointers; an unknown or
        // unsupported command returns -1 (ENOSYS/EINVAL/EPERM) and changes nothing.
        unsafe {
            libc::syscall(
                libc::SYS_membarrier,
                cmd,
                0 as libc::c_int,
                0 as libc::c_int,
            )
        }
    }

    /// Registers this process for expedited barriers once; `true` if they are available.
    pub(super) fn expedited_available() -> bool {
        static AVAILABLE: OnceLock<bool> = OnceLock::new();
        *AVAILABLE.get_or_init(|| {
            let supported = membarrier_call(QUERY);
            supported >= 0
                && supported & libc::c_long::from(PRIVATE_EXPEDITED) != 0
                && membarrier_call(REGISTER_PRIVATE_EXPEDITED) == 0
        })
    }

    #[inline(always)]
    pub(super) fn compiler_fence() {
        // Compiler-only: the CPU-level half is the heavy barrier's IPI (module docs).
        core::sync::atomic::compiler_fence(core::sync::atomic::Ordering::SeqCst);
    }

    /// A full barrier on every running thread of this process.
    ///
    /// # Panics
    /// If the kernel refuses an expedited barrier after accepting the registration, which it
    /// documents it does not do; continuing would silently break the handshake.
    pub(super) fn membarrier() {
        let rc = membarrier_call(PRIVATE_EXPEDITED);
        assert_eq!(
            rc,
            0,
            "membarrier(PRIVATE_EXPEDITED) failed after registration: {}",
            std::io::Error::last_os_error()
        );
    }
}

#[cfg(not(all(target_os = "linux", not(any(gearset_loom, gearset_shuttle, miri)))))]
mod os {
    pub(super) fn expedited_available() -> bool {
        false
    }

    pub(super) fn compiler_fence() {
        unreachable!("not expedited on this target")
    }

    pub(super) fn membarrier() {
        unreachable!("not expedited on this target")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_halves_run_on_either_pair() {
        for pair in [Asymmetric::new(), Asymmetric::fences()] {
            pair.light();
            pair.heavy();
        }
        assert!(!Asymmetric::fences().is_expedited());
    }

    #[cfg(all(target_os = "linux", not(miri)))]
    #[test]
    fn linux_registration_is_stable() {
        // Registration is process-wide and done once: asking again gives the same answer.
        assert_eq!(Asymmetric::new(), Asymmetric::new());
    }
}
