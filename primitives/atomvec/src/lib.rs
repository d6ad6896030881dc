//! A vector of atomics that resizes without locks and never loses a write.
//!
//! [`AtomicVec`] holds 62-bit counters (per-node state such as frame counters in a dataflow
//! runtime) in one contiguous buffer. Threads `get`, `store`, `swap`, `fetch_add`,
//! `compare_exchange` by index while others `grow_to`, `push` or `shrink_to`: the resize is
//! *double-buffered* (a current and a next buffer) and migrates cells by freezing each old cell
//! before copying it, so a write racing a resize lands either before the freeze (and is copied)
//! or after it (and is redone in the next buffer). None is lost.
//!
//! [`SegmentedAtomicVec`] is the never-move alternative: cells in power-of-two buckets that are
//! never copied, full 64-bit values, one hardware `fetch_add` per add, a stable `&AtomicU64`
//! per cell, and growth without reclamation; shrinking it takes `&mut self`. It is the default
//! when you never shrink concurrently: the benchmark finds it as fast or faster (see
//! "Trade-offs" and the README's measurements).
//!
//! **Progress.** `get` is a load of `current`, of the length and of the cell when no migration
//! runs; a write is a CAS loop on the cell (lock-free). Resizes are lock-free: every thread that
//! meets a frozen or not-yet-copied cell copies that cell itself and carries on; a thread that
//! meets a frozen length while resizing finishes the whole migration. Nothing ever waits for
//! another thread. **Allocation**: only resizes allocate (one buffer, at least doubling on
//! growth); element operations never do. Old buffers are retired, not freed, until a quiescent
//! point (see "Reclamation" below).
//!
//! # Examples
//!
//! Counters that keep counting while another thread grows the vector:
//!
//! ```
//! use gearset_atomvec::AtomicVec;
//! use gearset_sync::{Arc, thread};
//!
//! let counters = Arc::new(AtomicVec::with_len(4));
//! let adder = {
//!     let counters = Arc::clone(&counters);
//!     thread::spawn(move || {
//!         for _ in 0..1000 {
//!             counters.fetch_add(3, 1).unwrap();
//!         }
//!     })
//! };
//! counters.grow_to(64).unwrap();
//! counters.shrink_to(8).unwrap();
//! adder.join().unwrap();
//! assert_eq!(counters.get(3), Ok(1000));
//! ```
//!
//! # Trade-offs
//!
//! - **62-bit values.** Two bits of each 64-bit word encode the migration state (`FROZEN`, and
//!   `PENDING` for a destination cell not copied yet; both are needed so that a late copier can
//!   never overwrite a newer value). [`MAX_VALUE`] is `2^62 - 1`; `fetch_add` wraps modulo
//!   `2^62`; storing a larger value panics. No smaller widths: the same two bits would leave a
//!   32-bit cell 30 bits (`docs/design/atomvec.md`, "Smaller widths").
//! - **`fetch_add` is a CAS loop, not a hardware `xadd`.** An `xadd` cannot refuse a frozen cell:
//!   it would change the frozen value, and then only the thread that froze the cell would know
//!   the value to copy, so helpers would have to wait for it (papaya and Java's
//!   `ConcurrentHashMap` block briefly exactly there). We keep helping lock-free and pay a CAS
//!   retry under same-cell contention instead. Uncontended, it is one load plus one CAS.
//! - **Addresses move.** There is no `&AtomicU64` to a cell; use the by-index methods.
//! - **Per-cell, not whole-vector, atomicity.** [`AtomicVec::snapshot`] reads cell by cell.
//! - **Shrinking always migrates** (the cut cells must be frozen so that no racing write
//!   survives in them and reappears after a later grow), and so does growing past capacity.
//! - **Which type.** The freeze-and-copy [`AtomicVec`] keeps one contiguous buffer and can
//!   shrink under `&self`; the never-move [`SegmentedAtomicVec`] has no CAS loop and no 62-bit
//!   limit but only grows under `&self`. The benchmark finds the segmented layout as fast or
//!   faster (README, "Performance"): it is the default when nothing shrinks concurrently. A
//!   shrink of an `AtomicVec` takes effect when a helper fixes its new length (`CasSetLen`),
//!   before `current` swings: from then on a cut index returns [`IndexError`].
//! - **Reclamation.** A thread may still read a buffer after `current` moved past it, so
//!   retired buffers are freed only at a quiescent point: [`AtomicVec::reclaim`] (`&mut self`),
//!   the unsafe [`AtomicVec::reclaim_quiescent`] (a scheduler between frames) or drop. Memory
//!   stays bounded under endless resizes because a migration that would let retired buffers
//!   exceed twice the live capacity (floor 64 cells) fails with [`ResizeError::ReclaimNeeded`].
//! - **Errors, not panics, for indices**: every by-index method returns [`IndexError`] when the
//!   index is at or above the length it observed (a shrink can race any call). Growth beyond
//!   `isize::MAX` bytes returns [`ResizeError::CapacityOverflow`].
//!
//! # How it works
//!
//! State: `current: AtomicPtr<Buffer>`; each buffer has an encoded `len`, a `next` pointer and
//! its cells. A resize that fits the capacity is one CAS on `len`. Otherwise (numbers match the
//! cases in `buffer.rs` and `vec.rs`):
//!
//! 1. **Start** (`StartResize`): allocate `next` (cells below the old capacity `PENDING`, the
//!    rest 0) and CAS it into `old.next`. A loser frees its buffer and helps the winner.
//! 2. **Freeze the length** (`FetchOrFreezeLen`, `CasSetLen`): `fetch_or(FROZEN)` on `old.len`
//!    fixes the final old length `L`; `next.len` is CASed from `PENDING` to `plan(L)`
//!    (`max(L, n)` for a grow, `min(L, n)` for a shrink). Every helper computes the same value.
//! 3. **Freeze and copy each cell** (`FetchOrFreezeCell`, `CasCopyCell`): `fetch_or(FROZEN)`
//!    returns the final value, then `next.cells[i]` is CASed from `PENDING` to it (0 for a cut
//!    cell). Writers CAS cells and refuse frozen ones, so a frozen cell never changes.
//! 4. **Swing** (`CasSwingCurrent`): after its own sweep a helper CASes `current` from `old` to
//!    `next`; the winner retires `old`.
//!
//! An element operation that meets a frozen cell or length goes to `next`; one that meets a
//! `PENDING` cell there copies that cell from the predecessor (step 3 for one index) and retries.
//! This is the freeze-then-copy family of Click's NonBlockingHashMap, hatrack's `flexarray`
//! (<https://github.com/viega/hatrack>) and Feldman, Valera-Leon and Dechev, "An Efficient
//! Wait-Free Vector" (IEEE TPDS 2016). The protocol is specified in TLA+ in
//! `tla/atomvec/AtomicVec.tla` (invariants `NoLostUpdate`, `FrozenImmutable`, `LenCovered`,
//! `NoUseAfterFree`), with the naive copy-then-swap as a mutant that the checker rejects; the
//! action-to-function table is in `tla/atomvec/README.md`; the field, invariant and ordering
//! tables are in `docs/design/atomvec.md`. Under `--cfg gearset_trace` every atomic step the
//! spec names records itself, and `models/tests/conformance_atomvec.rs` checks shuttle runs
//! against the spec and replays spec behaviours on the code.
//!
//! # Feature flags
//!
//! None. Model checkers are selected with `--cfg gearset_loom` / `--cfg gearset_shuttle`
//! through `gearset-sync`.
#![deny(unsafe_op_in_unsafe_fn, missing_docs)]
#![warn(missing_debug_implementations, unreachable_pub, rust_2018_idioms)]
#![warn(clippy::undocumented_unsafe_blocks, clippy::unnecessary_safety_comment)]

mod buffer;
mod error;
mod segmented;
mod vec;

pub use error::{IndexError, ResizeError};
pub use segmented::SegmentedAtomicVec;
pub use vec::{AtomicVec, MAX_VALUE, Snapshot};

#[cfg(all(test, not(any(gearset_loom, gearset_shuttle))))]
mod tests {
    use super::*;

    #[test]
    fn migration_keeps_values() {
        let v = AtomicVec::with_len(3);
        for i in 0..3 {
            v.store(i, i as u64 + 10).unwrap();
        }
        v.grow_to(9).unwrap();
        assert_eq!(
            v.snapshot().collect::<Vec<_>>(),
            [10, 11, 12, 0, 0, 0, 0, 0, 0]
        );
        v.shrink_to(2).unwrap();
        assert_eq!(v.get(2), Err(IndexError { index: 2, len: 2 }));
        v.grow_to(3).unwrap();
        assert_eq!(v.snapshot().collect::<Vec<_>>(), [10, 11, 0]);
    }

    #[test]
    fn push_amortizes_capacity() {
        let mut v = AtomicVec::new();
        for i in 0..40 {
            assert_eq!(v.push(i), Ok(i as usize));
        }
        assert!(v.capacity() >= 40 && v.capacity() < 80);
        assert!(v.retired_cells() <= 2 * v.capacity());
        v.reclaim();
        assert_eq!(
            v.snapshot().collect::<Vec<_>>(),
            (0..40).collect::<Vec<_>>()
        );
    }

    #[test]
    fn garbage_bound_refuses_then_reclaim_allows() {
        let mut v = AtomicVec::with_len(64);
        let mut refused = false;
        for _ in 0..10 {
            match v.shrink_to(32).and_then(|_| v.grow_to(64)) {
                Ok(_) => {}
                Err(ResizeError::ReclaimNeeded { retired }) => {
                    assert!(retired <= 2 * 128);
                    refused = true;
                    break;
                }
                Err(e) => panic!("{e}"),
            }
        }
        assert!(refused);
        v.reclaim();
        assert_eq!(v.shrink_to(1), Ok(1));
    }

    #[test]
    #[should_panic(expected = "exceeds MAX_VALUE")]
    fn store_above_max_value_panics() {
        let _ = AtomicVec::with_len(1).store(0, MAX_VALUE + 1);
    }
}
