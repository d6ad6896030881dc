//! One buffer of the double-buffered vector, the cell encoding, and the two migration steps
//! every thread may help with: [`advance`] (freeze the old length, publish the new one) and
//! [`copy_cell`] (freeze one old cell, copy it into the next buffer).
//!
//! # Cell encoding
//!
//! Every cell and every buffer's length is one `AtomicU64`:
//!
//! | bits 63..62 | meaning                                                              |
//! |-------------|----------------------------------------------------------------------|
//! | `00`        | a live value `v` in `0..=MAX_VALUE` (62 bits)                        |
//! | `10`        | `FROZEN | v`: the value `v` has moved (or is moving) to `next`; immutable |
//! | `01`, rest 0 | `PENDING`: a cell of a `next` buffer not yet copied from its predecessor |
//!
//! `PENDING` is never equal to a value (bit 62) nor to a frozen value (bit 63), so a copier's
//! `compare_exchange(PENDING, v)` that arrives late always fails: a destination cell never
//! returns to "empty" (hatrack's resurrection hazard). That needs both bits, hence 62-bit values.

use core::{alloc::Layout, ptr};

use gearset_sync::atomic::{
    AtomicPtr, AtomicU64,
    Ordering::{AcqRel, Acquire, Relaxed},
};

/// Set on an old cell (or old length) once its value has been frozen for migration.
pub(crate) const FROZEN: u64 = 1 << 63;
/// The content of a destination cell (or length) that no migrator has written yet.
pub(crate) const PENDING: u64 = 1 << 62;
/// The largest value a cell holds: values are 62-bit.
pub(crate) const MASK: u64 = PENDING - 1;

/// How a buffer's length follows from its predecessor's final (frozen) length.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Plan {
    /// The first buffer: its length is set at construction.
    Initial,
    /// `grow_to(n)` / `push`: the new length is `max(old, n)`.
    AtLeast(u64),
    /// `shrink_to(n)`: the new length is `min(old, n)`; cells at or above it are dropped.
    AtMost(u64),
}

impl Plan {
    /// The new length for a predecessor whose frozen length is `old`.
    pub(crate) fn apply(self, old: u64) -> u64 {
        match self {
            Plan::Initial => old,
            Plan::AtLeast(n) => old.max(n),
            Plan::AtMost(n) => old.min(n),
        }
    }
}

/// A fixed-capacity array of cells plus its logical length, in one allocation: the header
/// fields, then the cells. `Buffer` is the unsized `BufferOf<[AtomicU64]>`; a `&Buffer` covers
/// the whole allocation, so cell `i` is at a constant offset from the buffer's address and the
/// element fast path loads no separate cell pointer (`docs/design/atomvec.md`, "The cost of the
/// fast path"). The vector's atomics hold thin pointers to the allocation ([`Buffer::from_raw`]
/// rebuilds the reference from one).
///
/// Ownership: allocated by a resizer, published by its `next` CAS on the predecessor, made
/// current by the thread whose `current` CAS wins, retired by that same thread, freed only at a
/// quiescent point (`AtomicVec::reclaim`, `reclaim_quiescent`, drop).
#[repr(C)]
pub(crate) struct BufferOf<C: ?Sized> {
    /// Encoded length. Written by `grow_to` in place (CAS, below the capacity), frozen by the
    /// migration that replaces this buffer, set from `PENDING` by the migration that fills it.
    pub(crate) len: AtomicU64,
    /// The buffer this one migrates into (a thin pointer, see [`Buffer::from_raw`]); null while
    /// no resize runs. Written once (CAS from null) by the resizer that wins; read by every
    /// helper.
    pub(crate) next: AtomicPtr<u8>,
    /// How `len` is derived from the predecessor's frozen length. Immutable.
    pub(crate) plan: Plan,
    /// 1 for the first buffer, the predecessor's plus 1 for a migration's: the buffer id of the
    /// TLA+ spec (one resizer allocates ids in chain order), used by the trace records of
    /// `--cfg gearset_trace`. Immutable.
    pub(crate) generation: u64,
    /// Link in the owner's retired stack (thin). Written by the retiring thread before its
    /// push CAS.
    pub(crate) retired_next: AtomicPtr<u8>,
    /// The number of cells. Immutable; read only to rebuild a `&Buffer` from a thin pointer.
    capacity: usize,
    /// The cells. Cells below the predecessor's capacity start `PENDING`, the others at 0.
    pub(crate) cells: C,
}

/// A buffer: the header and its cells.
pub(crate) type Buffer = BufferOf<[AtomicU64]>;

/// The header alone, for the allocation's layout (same `repr(C)` prefix as [`Buffer`]).
type Header = BufferOf<[AtomicU64; 0]>;

impl Buffer {
    /// The allocation of a buffer of `capacity` cells, or `None` if it overflows `isize`.
    pub(crate) fn layout(capacity: usize) -> Option<Layout> {
        let cells = Layout::array::<AtomicU64>(capacity).ok()?;
        let (layout, _) = Layout::new::<Header>().extend(cells).ok()?;
        Some(layout.pad_to_align())
    }

    /// Allocates a buffer of `capacity` cells, the first `pending` of them `PENDING`, and
    /// returns the thin pointer that owns it (free it with [`Buffer::free`]). `None` if the
    /// size overflows or the allocator refuses.
    pub(crate) fn try_new(
        capacity: usize,
        pending: usize,
        len: u64,
        plan: Plan,
        generation: u64,
    ) -> Option<*mut u8> {
        let layout = Self::layout(capacity)?;
        // SAFETY: the layout has a non-zero size (the header).
        let base = unsafe { std::alloc::alloc(layout) };
        if base.is_null() {
            return None;
        }
        let fat = ptr::slice_from_raw_parts_mut(base.cast::<AtomicU64>(), capacity) as *mut Buffer;
        // SAFETY: `fat` spans the fresh allocation of `layout` (asserted below: the layout the
        // compiler derives for a `Buffer` of `capacity` cells); each field and cell is written
        // exactly once, before any reference to the buffer exists.
        unsafe {
            (&raw mut (*fat).len).write(AtomicU64::new(len));
            (&raw mut (*fat).next).write(AtomicPtr::new(ptr::null_mut()));
            (&raw mut (*fat).plan).write(plan);
            (&raw mut (*fat).generation).write(generation);
            (&raw mut (*fat).retired_next).write(AtomicPtr::new(ptr::null_mut()));
            (&raw mut (*fat).capacity).write(capacity);
            let cells = (&raw mut (*fat).cells).cast::<AtomicU64>();
            for i in 0..capacity {
                let value = if i < pending { PENDING } else { 0 };
                cells.add(i).write(AtomicU64::new(value));
            }
            debug_assert_eq!(Layout::for_value(&*fat), layout);
        }
        Some(base)
    }

    /// The buffer that the thin pointer `raw` (from [`Buffer::try_new`], or loaded from an
    /// atomic that stores one) owns.
    ///
    /// # Safety
    ///
    /// `raw` came from [`Buffer::try_new`] and is not freed for `'a`.
    pub(crate) unsafe fn from_raw<'a>(raw: *mut u8) -> &'a Buffer {
        // SAFETY: delegated to the caller (a live buffer); the header is read through a pointer
        // with no cells, then the reference is rebuilt with the capacity it holds, keeping the
        // provenance of the whole allocation.
        unsafe {
            let header = ptr::slice_from_raw_parts_mut(raw.cast::<AtomicU64>(), 0) as *mut Buffer;
            let capacity = (*header).capacity;
            &*(ptr::slice_from_raw_parts_mut(raw.cast::<AtomicU64>(), capacity) as *mut Buffer)
        }
    }

    /// Frees the buffer `raw` owns and returns its `retired_next` and `next` links.
    ///
    /// # Safety
    ///
    /// `raw` came from [`Buffer::try_new`], is freed exactly once, and no reference to it is
    /// used afterwards.
    pub(crate) unsafe fn free(raw: *mut u8) -> (*mut u8, *mut u8) {
        // SAFETY: delegated to the caller; `try_new` allocated exactly `Layout::for_value` of
        // this `Buffer` with the global allocator, as `Box` frees it.
        let buffer = unsafe {
            let capacity = Buffer::from_raw(raw).capacity;
            Box::from_raw(
                ptr::slice_from_raw_parts_mut(raw.cast::<AtomicU64>(), capacity) as *mut Buffer,
            )
        };
        // Relaxed: the caller excludes every other access (a quiescent point or `&mut`).
        (buffer.retired_next.load(Relaxed), buffer.next.load(Relaxed))
    }

    /// The capacity (number of cells).
    pub(crate) fn capacity(&self) -> usize {
        self.cells.len()
    }
}

/// Migration step 1, run by every thread that finds anything of `old` frozen (or that wins or
/// helps a resize): freeze `old.len` and publish `next.len = plan(frozen len)`. Returns `next`.
///
/// Cases (TLA+ `FetchOrFreezeLen`, `CasSetLen`):
/// 1. `old.len` not yet frozen: this `fetch_or` freezes it; from now on no in-place `grow_to`
///    can change it, so every helper computes the same new length.
/// 2. already frozen: the `fetch_or` changes nothing and returns the same frozen length.
/// 3. `next.len` already set (by another helper, or raised in place after the migration):
///    the CAS from `PENDING` fails and is ignored.
///
/// # Safety
///
/// `old.next` must be non-null (some resizer published it), and both buffers must stay
/// allocated for the borrow of `old` (the caller is inside an `AtomicVec` method: no
/// quiescent point can pass).
pub(crate) unsafe fn advance(old: &Buffer) -> &Buffer {
    // Acquire: pairs with the AcqRel CAS that published `next` in `AtomicVec::resize`, so
    // the new buffer's initial cells are visible. [TLA: FetchOrFreezeLen]
    let next = old.next.load(Acquire);
    debug_assert!(!next.is_null(), "advance on a buffer with no migration");
    // SAFETY: non-null by the caller's contract and from `Buffer::try_new`; freed only at a
    // quiescent point, and the caller is inside an `AtomicVec` method.
    let next = unsafe { Buffer::from_raw(next) };
    // AcqRel: the Release half orders this freeze after our read of `next` (a thread that
    // sees the frozen length also sees `next`); the Acquire half reads the final length
    // written by in-place `grow_to` CASes. Pairs with those CASes and with the Acquire loads
    // of `len` in every operation. [TLA: FetchOrFreezeLen]
    let seen = old.len.fetch_or(freeze_bit(), AcqRel);
    gearset_sync::trace_action!(
        "FetchOrFreezeLen",
        "pc[SELF] = \"adv1\" /\\ pc'[SELF] = \"adv2\" /\\ prev[SELF] = {} /\\ tmp'[SELF] = {} /\\ len'[{}] = {}",
        old.generation,
        seen & MASK,
        old.generation,
        spec_word(seen | freeze_bit())
    );
    let new_len = next.plan.apply(seen & MASK);
    // AcqRel: Release publishes the new length to threads that read it with Acquire;
    // failure (already set) needs no ordering beyond Acquire. [TLA: CasSetLen]
    // `set` is read only by the trace below, compiled in under `--cfg gearset_trace`.
    #[cfg_attr(not(gearset_trace), allow(unused_variables))]
    let set = next.len.compare_exchange(PENDING, new_len, AcqRel, Acquire);
    gearset_sync::trace_action!(
        "CasSetLen",
        "pc[SELF] = \"adv2\" /\\ pc'[SELF] # pc[SELF] /\\ buf'[SELF] = {} /\\ len'[{}] = {}",
        next.generation,
        next.generation,
        spec_word(set.map_or_else(|actual| actual, |_| new_len))
    );
    next
}

/// Migration step 2 for cell `i`: freeze `old.cells[i]` and copy its value into `next`.
///
/// Cases (TLA+ `FetchOrFreezeCell`, `CasCopyCell`; invariants `FrozenImmutable`, `NoLostUpdate`):
/// 1. The cell is live: the `fetch_or` freezes it and returns the value every completed write
///    left there. Writers are CAS loops that refuse frozen cells, so no write lands after this
///    point: the frozen value is final.
/// 2. The cell is already frozen: the `fetch_or` is a no-op and returns the same final value.
/// 3. `next.cells[i]` is still `PENDING`: the CAS installs the value (or 0 for a cell that a
///    shrink cuts off, so a later grow re-exposes 0, never a stale value).
/// 4. `next.cells[i]` was already copied, written after the copy, or even frozen by a later
///    migration: the CAS from `PENDING` fails, and this late copier overwrites nothing.
///
/// # Safety
///
/// As for [`advance`], and `advance(old)` must have returned (`next.len` is set).
pub(crate) unsafe fn copy_cell(old: &Buffer, next: &Buffer, i: usize) {
    let Some(cell) = old.cells.get(i) else { return };
    // AcqRel: Acquire reads the last completed write (pairs with the AcqRel CAS in
    // `AtomicVec::rmw`); Release makes the freeze carry that write on to whoever copies or
    // reads the frozen value. [TLA: FetchOrFreezeCell]
    let seen = cell.fetch_or(freeze_bit(), AcqRel);
    let value = seen & MASK;
    gearset_sync::trace_action!(
        "FetchOrFreezeCell",
        "pc[SELF] = \"copy1\" /\\ pc'[SELF] = \"copy2\" /\\ CopyIdx(SELF) = {i} /\\ tmp'[SELF] = {value} /\\ cell'[{}][{i}] = {}",
        old.generation,
        spec_word(seen | freeze_bit())
    );
    let Some(dest) = next.cells.get(i) else {
        // A cell a shrink cuts off: nothing to copy. [TLA: CasCopyCell, `i >= cap[n]`]
        gearset_sync::trace_action!(
            "CasCopyCell",
            "pc[SELF] = \"copy2\" /\\ pc'[SELF] # pc[SELF] /\\ cell' = cell"
        );
        return;
    };
    // Acquire: pairs with the AcqRel `fetch_or` that froze the length in `advance`.
    let kept = next.plan.apply(old.len.load(Acquire) & MASK);
    let value = if (i as u64) < kept { value } else { 0 };
    // AcqRel: Release publishes the copied value (and, transitively, the writes it carries)
    // to readers of `dest`, pairing with their Acquire loads. [TLA: CasCopyCell]
    // `copied` is read only by the trace below, compiled in under `--cfg gearset_trace`.
    #[cfg_attr(not(gearset_trace), allow(unused_variables))]
    let copied = dest.compare_exchange(PENDING, value, AcqRel, Acquire);
    gearset_sync::trace_action!(
        "CasCopyCell",
        "pc[SELF] = \"copy2\" /\\ pc'[SELF] # pc[SELF] /\\ cell'[{}][{i}] = {}",
        next.generation,
        spec_word(copied.map_or_else(|actual| actual, |_| value))
    );
}

/// The length a live length word encodes, or 0 for a frozen one, without a branch (a frozen
/// word has bit 63 set: its arithmetic shift is all ones). The fast paths compare an index with
/// it once instead of testing the state bit and the bound separately. Not for `PENDING` words,
/// which never occur in a buffer reached through `current` (`CurrentComplete`).
#[inline(always)]
pub(crate) fn live_len(word: u64) -> u64 {
    word & !(((word as i64) >> 63) as u64)
}

/// The bit a migration sets to freeze an old length or cell: [`FROZEN`], except under the
/// loom/conformance mutants `atomvec_naive_copy` (the anchor's copy-then-swap: copy the value,
/// freeze nothing) and `atomvec_flag_check` (no freezing either; writers check a "resizing"
/// flag instead, see `AtomicVec::access_slow`). A constant `FROZEN` outside model builds.
#[inline(always)]
pub(crate) fn freeze_bit() -> u64 {
    let mutated = gearset_sync::mutant::on("atomvec_naive_copy")
        || gearset_sync::mutant::on("atomvec_flag_check");
    if mutated { 0 } else { FROZEN }
}

/// An encoded length or cell word as the spec's record `[st |-> state, v |-> value]`, for the
/// trace predicates of `--cfg gearset_trace`.
#[cfg(gearset_trace)]
pub(crate) fn spec_word(raw: u64) -> String {
    let state = if raw & FROZEN != 0 {
        "frozen"
    } else if raw == PENDING {
        "pending"
    } else {
        "live"
    };
    format!("[st |-> \"{state}\", v |-> {}]", raw & MASK)
}

#[cfg(all(test, not(any(gearset_loom, gearset_shuttle))))]
mod tests {
    use super::*;

    #[test]
    fn live_len_is_zero_for_a_frozen_word() {
        assert_eq!(live_len(5), 5);
        assert_eq!(live_len(MASK), MASK);
        assert_eq!(live_len(0), 0);
        assert_eq!(live_len(FROZEN | 5), 0);
        assert_eq!(live_len(FROZEN | MASK), 0);
    }
}
