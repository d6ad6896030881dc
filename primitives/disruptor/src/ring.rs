//! The ring of preallocated slots and the cursor type every participant publishes.
//!
//! Slot `seq` lives at index `seq & mask`. Who may touch it is decided entirely by the
//! sequencer and the gating cursors (see the crate docs, "How it works"): a producer writes
//! slot `seq` only after every final consumer has finished `seq - capacity` (**NoOverwriteUnread**),
//! and a consumer reads it only after the producer published `seq` (**NoReadUnpublished**).

use core::fmt;

use gearset_sync::{CachePadded, atomic::AtomicU64, cell::UnsafeCell};

/// A sequence counter on its own cache line: "every sequence below this value is done".
///
/// Consumer cursors are written only by their consumer (Release, once per batch) and read by
/// downstream consumers and producers (Acquire).
pub(crate) type Cursor = CachePadded<AtomicU64>;

/// Makes a cursor at zero (nothing done yet).
pub(crate) fn new_cursor() -> Cursor {
    CachePadded::new(AtomicU64::new(0))
}

/// The slots. `capacity` is a power of two, so `seq & mask` is the index.
pub(crate) struct Ring<E> {
    /// Written by the producer that claimed the sequence, read by consumers after it is published.
    slots: Box<[UnsafeCell<E>]>,
    /// `capacity - 1`.
    mask: u64,
}

// SAFETY: slots are only accessed under the claim/publish/gating protocol: one writer per slot
// at a time (a claimed sequence), readers only after publication and before the slot is
// reclaimed. Readers on several threads share `&E` (needs `E: Sync`); events are written on
// producer threads and read on consumer threads (needs `E: Send`).
unsafe impl<E: Send + Sync> Sync for Ring<E> {}
// SAFETY: owning the ring owns every `E`; moving it moves them (needs `E: Send`).
unsafe impl<E: Send> Send for Ring<E> {}

impl<E> Ring<E> {
    /// Fills `capacity` slots from `factory`. The caller checked that `capacity` is a power of two.
    pub(crate) fn new(capacity: usize, mut factory: impl FnMut() -> E) -> Self {
        debug_assert!(capacity.is_power_of_two());
        let slots = (0..capacity).map(|_| UnsafeCell::new(factory())).collect();
        Self {
            slots,
            mask: capacity as u64 - 1,
        }
    }

    /// Number of slots.
    pub(crate) fn capacity(&self) -> u64 {
        self.mask + 1
    }

    /// Index of `seq` in `slots`.
    #[inline]
    pub(crate) fn index(&self, seq: u64) -> usize {
        (seq & self.mask) as usize
    }

    /// Slot `seq`, without a bounds check on the hot path.
    #[inline(always)]
    fn slot(&self, seq: u64) -> &UnsafeCell<E> {
        let index = self.index(seq);
        debug_assert!(index < self.slots.len());
        // SAFETY: `index = seq & mask` and `slots.len() == mask + 1` (a power of two, fixed in
        // `new`), so `index < slots.len()`.
        unsafe { self.slots.get_unchecked(index) }
    }

    /// Runs `f` on slot `seq` for writing.
    ///
    /// # Safety
    /// The caller claimed `seq` and the gating check passed for it: no other thread reads or
    /// writes this slot until the caller publishes `seq`.
    #[inline]
    pub(crate) unsafe fn write<R>(&self, seq: u64, f: impl FnOnce(&mut E) -> R) -> R {
        let slot = self.slot(seq);
        // SAFETY: delegated to the caller (exclusive access to a claimed, gated slot).
        slot.with_mut(|p| f(unsafe { &mut *p }))
    }

    /// Runs `f` on slot `seq` for reading.
    ///
    /// # Safety
    /// `seq` is published (observed with Acquire) and the caller's cursor is still at or below
    /// `seq`, so no producer can reclaim the slot while `f` runs.
    #[inline]
    pub(crate) unsafe fn read<R>(&self, seq: u64, f: impl FnOnce(&E) -> R) -> R {
        let slot = self.slot(seq);
        // SAFETY: delegated to the caller (published slot, not yet released by this reader).
        slot.with(|p| f(unsafe { &*p }))
    }
}

impl<E> fmt::Debug for Ring<E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Ring")
            .field("capacity", &self.capacity())
            .finish_non_exhaustive()
    }
}
