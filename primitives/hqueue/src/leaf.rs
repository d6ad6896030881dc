//! A leaf queue: a bounded lock-free ring that holds items of **one frame at a time** (the
//! leaf's current frame, as an OBIM thread holds one priority's chunk), with a two-phase atomic
//! claim for thieves (tokio's local run queue, `tokio/src/runtime/scheduler/multi_thread/queue.rs`).
//!
//! # Layout
//!
//! Slots `[head.real, tail)` hold items; `[head.steal, head.real)` were claimed by a thief that
//! is still copying them out. `tail` is written only by the owner; `head` changes only by
//! compare-and-swap, so every take (the owner's pop, a thief's claim, the owner's own spill) is
//! one atomic claim (`[TLA: ExactlyOnce]`; the `HQueue_copysteal` mutant is a claim that copies
//! without advancing `head`).
//!
//! # Invariants
//!
//! 1. `steal <= real <= tail` (in wrapping `u32` arithmetic) and `tail - steal <= capacity`:
//!    the owner never writes a slot a thief may still be reading (it counts free room from
//!    `steal`, not `real`).
//! 2. At most one thief copies at a time (`steal != real` makes others wait, with a
//!    [`Backoff`]: the copy is at most `max_batch` moves and runs no user code).
//! 3. Every item in `[real, tail)` has the frame `frame`: the owner changes `frame` only when it
//!    sees the ring empty (`real == tail`), and pushes only items of that frame. Each slot also
//!    keeps its item's frame, so a thief that claimed items before a re-tag returns their true
//!    frame. Within a leaf, frame order is therefore exact (`[TLA: FrameOrder]`, `LeafOneFrame`).
//!
//! The owner pops oldest first (FIFO within the frame, as tokio's local queue does): one
//! compare-and-swap per pop, the same cost class as crossbeam-deque's `SeqCst` fence.

use core::mem::MaybeUninit;

use gearset_sync::{
    Backoff, CachePadded, Mutex, MutexGuard,
    atomic::{
        AtomicU32, AtomicU64,
        Ordering::{AcqRel, Acquire, Relaxed, Release},
    },
    cell::UnsafeCell,
};

use crate::frames::Frame;

/// `{ steal, real }` packed into the `head` word.
fn pack(steal: u32, real: u32) -> u64 {
    (u64::from(steal) << 32) | u64::from(real)
}

/// The inverse of [`pack`]: `(steal, real)`.
fn unpack(head: u64) -> (u32, u32) {
    // Truncations are the packing: the high and low halves.
    ((head >> 32) as u32, head as u32)
}

/// One slot of the ring: an item and its frame, initialized exactly while in `[steal, tail)`.
type Slot<T> = UnsafeCell<MaybeUninit<(Frame, T)>>;

/// Why [`Leaf::push`] refused an item (the item is given back).
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Refused {
    /// `capacity` items (or claimed slots) are in the ring.
    Full,
    /// The ring holds items of a higher frame than the item's.
    LowerFrame,
    /// The ring holds items of a lower frame than the item's.
    HigherFrame,
}

/// What a thief's claim found.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Claim {
    /// Moved this many items (at least 1) into the buffer.
    Took(usize),
    /// The ring was empty when the claim was tried.
    Empty,
}

/// One leaf's ring. Shared by its owner(s) and every thief.
#[derive(Debug)]
pub(crate) struct Leaf<T> {
    /// `{ steal: u32, real: u32 }` (see [`pack`]). Changed only by compare-and-swap: by the
    /// owner's pop and spill (both halves advance together) and by a thief (first `real`, then
    /// `steal` once it has copied its items). Read by everyone.
    head: CachePadded<AtomicU64>,
    /// One past the newest item. Written only by the owner (under `owners` when several
    /// workers share the leaf); read by pops and thieves.
    tail: CachePadded<AtomicU32>,
    /// The frame of every item in `[real, tail)`. Written only by the owner, when it sees the
    /// ring empty; read by the priority check of other workers as a hint.
    frame: AtomicU64,
    /// `slots.len()` is a power of two, at least `capacity`.
    slots: Box<[Slot<T>]>,
    /// Items the ring holds before a push is refused with [`Refused::Full`].
    capacity: u32,
    /// Serializes the owners' side when several workers share the leaf
    /// ([`Placement::PerPu`](crate::Placement)): pushes (with their spill claims) and pops
    /// (from the claim to the read, see [`Leaf::pop_then`]); `None` with one owner (no lock on
    /// the owner's path). Thieves never take it. `[TLA: HQueueShared OwnersLocked]`
    owners: Option<Mutex<()>>,
}

// SAFETY: the ring moves `T`s between threads (needs `T: Send`) and never hands out shared
// references to them, so `T: Sync` is not needed. Slot accesses follow the invariants in the
// module docs: a slot is written only by the owner outside `[steal, tail)` and read only by
// the thread whose claim covered it.
unsafe impl<T: Send> Sync for Leaf<T> {}
// SAFETY: as above; the ring owns its items.
unsafe impl<T: Send> Send for Leaf<T> {}

impl<T> Leaf<T> {
    pub(crate) fn new(capacity: usize, shared_by_owners: bool) -> Self {
        let capacity = u32::try_from(capacity).expect("leaf_capacity fits in u32");
        assert!(capacity <= 1 << 30, "leaf_capacity is at most 2^30");
        let slots = (0..capacity.next_power_of_two())
            .map(|_| UnsafeCell::new(MaybeUninit::uninit()))
            .collect();
        Self {
            head: CachePadded::new(AtomicU64::new(0)),
            tail: CachePadded::new(AtomicU32::new(0)),
            frame: AtomicU64::new(0),
            slots,
            capacity,
            owners: shared_by_owners.then(|| Mutex::new(())),
        }
    }

    fn slot(&self, index: u32) -> &Slot<T> {
        // `slots.len()` is a power of two: the mask is the modulo.
        &self.slots[index as usize & (self.slots.len() - 1)]
    }

    /// Locks out the other owners of a shared leaf (nothing with one owner). Hold it across
    /// every owner-side operation: [`Leaf::push`], [`Leaf::claim_own`] and [`Leaf::pop_then`]
    /// (which frees its slot before reading it).
    pub(crate) fn lock_owners(&self) -> Option<MutexGuard<'_, ()>> {
        // A panic under this lock leaves the ring consistent (no step is half done): take over.
        self.owners
            .as_ref()
            .map(|m| m.lock().unwrap_or_else(|poisoned| poisoned.into_inner()))
    }

    /// Items in the ring (a snapshot: thieves and pops may change it at once).
    pub(crate) fn len(&self) -> usize {
        // Acquire: pairs with the AcqRel claims, so `real` is not older than the tail read
        // after it makes sense of. A hint: the count can change as soon as it is read.
        let (_, real) = unpack(self.head.load(Acquire));
        // Acquire: pairs with the owner's Release store in `push`.
        let tail = self.tail.load(Acquire);
        tail.wrapping_sub(real) as usize
    }

    /// The ring's frame, or `u64::MAX` when it looks empty (a hint, as [`Leaf::len`]).
    pub(crate) fn min_hint(&self) -> Frame {
        match self.len() {
            0 => u64::MAX,
            // Relaxed: a hint for the priority check; the items carry their own frames.
            _ => self.frame.load(Relaxed),
        }
    }

    /// The owner pushes `item` at `frame`. Refused (and given back) when the ring is full or
    /// holds another frame; an empty ring takes the item's frame. `[TLA: PushLocal]`
    ///
    /// The caller must hold [`Leaf::lock_owners`] and own the leaf.
    pub(crate) fn push(&self, frame: Frame, item: T) -> Result<(), (Refused, T)> {
        // Relaxed: only owners write `tail`, and they are serialized (one thread, or the
        // owners' lock, whose acquire orders this after the previous owner's store).
        let tail = self.tail.load(Relaxed);
        // Acquire: pairs with the AcqRel claims and a thief's releasing CAS: every read of a
        // slot below `steal` happened before this push may overwrite it. [TLA: PushLocal]
        let (steal, real) = unpack(self.head.load(Acquire));
        // Relaxed: written only by owners (serialized, as `tail`).
        let current = self.frame.load(Relaxed);
        if real == tail {
            if current != frame {
                // Relaxed: the ring is empty; a thief that claims the item below synchronizes
                // through `tail` (Release below, Acquire in `claim`), and reads the item's own
                // frame from its slot anyway.
                self.frame.store(frame, Relaxed);
            }
        } else if frame < current {
            return Err((Refused::LowerFrame, item));
        } else if frame > current {
            return Err((Refused::HigherFrame, item));
        }
        if tail.wrapping_sub(steal) >= self.capacity {
            return Err((Refused::Full, item));
        }
        // SAFETY: slot `tail` is outside `[steal, tail)` and `tail - steal < capacity <=
        // slots.len()`, so no claim covers it and no thief reads it (invariant 1); only this
        // owner writes slots.
        self.slot(tail)
            .with_mut(|p| unsafe { (*p).write((frame, item)) });
        // Release: publishes the slot; pairs with the Acquire tail loads in `pop` and `claim`.
        // (The `hqueue_relaxed_tail` mutant drops it: loom sees a thief read an unwritten slot.)
        let order = match gearset_sync::mutant::on("hqueue_relaxed_tail") {
            true => Relaxed,
            false => Release,
        };
        self.tail.store(tail.wrapping_add(1), order);
        Ok(())
    }

    /// Pops the oldest item (an owner of the leaf, holding [`Leaf::lock_owners`]).
    /// `[TLA: PopLocal]`
    pub(crate) fn pop(&self) -> Option<(Frame, T)> {
        self.pop_then(|_, _| {})
    }

    /// [`Leaf::pop`], calling `popped(frame, items left)` right after the claim (before any
    /// other atomic operation: the trace records it there).
    ///
    /// The caller must hold [`Leaf::lock_owners`] and own the leaf: the claim advances `steal`
    /// past slot `real` before the slot is read, so with a second owner (a shared leaf) its
    /// push could reuse the slot in between (a lost item and a duplicate; found by
    /// `tests/stress.rs` with `Placement::PerPu`). With one owner the popper is the only pusher.
    /// `[TLA: HQueueShared PopClaim, PopRead]`; the mutant `HQueueShared_unlockedpop` breaks
    /// `ExactlyOnce` in four steps.
    pub(crate) fn pop_then(&self, popped: impl FnOnce(Frame, u32)) -> Option<(Frame, T)> {
        // Acquire: pairs with the AcqRel claims (see `push`).
        let mut head = self.head.load(Acquire);
        let (real, left) = loop {
            let (steal, real) = unpack(head);
            // Acquire: pairs with the owner's Release store in `push`: the slot is written.
            let tail = self.tail.load(Acquire);
            if real == tail {
                return None;
            }
            let next_real = real.wrapping_add(1);
            // A thief copying (`steal != real`) keeps its `steal`; otherwise both advance.
            let next = if steal == real {
                pack(next_real, next_real)
            } else {
                pack(steal, next_real)
            };
            // AcqRel: the claim of slot `real`. Acquire pairs with the owner's push through
            // the tail read above; Release orders this pop's earlier reads before a push that
            // reuses slots below the new `steal`. [TLA: PopLocal]
            match self.head.compare_exchange(head, next, AcqRel, Acquire) {
                Ok(_) => break (real, tail.wrapping_sub(next_real)),
                Err(actual) => head = actual,
            }
        };
        // SAFETY: the CAS above claimed slot `real` for this thread alone; the owner does not
        // rewrite it until `steal` passes it (this pop advanced `steal` too, or a thief's
        // releasing CAS will, after this read: invariant 1 counts from `steal`).
        let item = self.slot(real).with(|p| unsafe { (*p).assume_init_read() });
        popped(item.0, left);
        Some(item)
    }

    /// A thief claims `min(ceil(len / 2), max)` of the oldest items and hands them to `out`,
    /// oldest first.
    /// Waits (with backoff) while another thief is copying. Calls `claimed(n, items left,
    /// frame of the first)` after the copy and before the releasing CAS (the trace records the
    /// claim there, before any other atomic operation). `[TLA: ClaimBatch, StealOne]`
    pub(crate) fn claim(
        &self,
        max: usize,
        mut out: impl FnMut((Frame, T)),
        claimed: impl FnOnce(u32, u32, Frame),
    ) -> Claim {
        let max = u32::try_from(max).unwrap_or(u32::MAX);
        let backoff = Backoff::new();
        // Acquire: pairs with the AcqRel claims of pops and other thieves.
        let mut head = self.head.load(Acquire);
        let (first, n, left) = loop {
            let (steal, real) = unpack(head);
            if steal != real {
                // Invariant 2: another thief is copying; it finishes in a bounded number of
                // steps.
                backoff.snooze();
                // Acquire: as above.
                head = self.head.load(Acquire);
                continue;
            }
            // Acquire: pairs with the owner's Release store in `push`: slots below `tail`
            // are written.
            let tail = self.tail.load(Acquire);
            let len = tail.wrapping_sub(real);
            if len == 0 || len > self.capacity {
                // `len > capacity`: `tail` was read after a newer `head` moved past it (a
                // stale pair); retry with fresh values.
                if len == 0 {
                    return Claim::Empty;
                }
                backoff.spin();
                // Acquire: as above.
                head = self.head.load(Acquire);
                continue;
            }
            let n = (len - len / 2).min(max);
            let mut next_real = real.wrapping_add(n);
            if gearset_sync::mutant::on("hqueue_copy_steal") {
                // The mutant: copy without claiming (HQueue_copysteal).
                next_real = real;
            }
            // AcqRel: the atomic claim of `[real, real + n)`. Acquire: the slots' writes
            // (through `tail` above). Release: nothing of ours to publish yet; the releasing
            // CAS below publishes the end of the copy. [TLA: ClaimBatch]
            match self
                .head
                .compare_exchange(head, pack(steal, next_real), AcqRel, Acquire)
            {
                Ok(_) => break (real, n, tail.wrapping_sub(next_real)),
                Err(actual) => head = actual,
            }
        };
        let mut first_frame = 0;
        for i in 0..n {
            // SAFETY: the claim above covers slot `first + i` for this thread alone, and the
            // owner does not rewrite it before `steal` passes it (invariant 1).
            let item = self
                .slot(first.wrapping_add(i))
                .with(|p| unsafe { (*p).assume_init_read() });
            if i == 0 {
                first_frame = item.0;
            }
            out(item);
        }
        claimed(n, left, first_frame);
        self.release();
        Claim::Took(n as usize)
    }

    /// The thief's second phase: `steal = real`, so the owner may reuse the copied slots.
    fn release(&self) {
        // Relaxed: the CAS below re-reads; a stale value only costs a retry.
        let mut head = self.head.load(Relaxed);
        loop {
            let (_, real) = unpack(head);
            // AcqRel: Release orders this thief's slot reads before the owner's next push
            // (its Acquire load of `head`); Acquire keeps the retry's view current. Pops may
            // have moved `real` meanwhile: keep theirs.
            match self
                .head
                .compare_exchange(head, pack(real, real), AcqRel, Acquire)
            {
                Ok(_) => return,
                Err(actual) => head = actual,
            }
        }
    }

    /// The owner takes `n(len)` of its own oldest items, handing them to `out` (to spill them). Returns
    /// how many; 0 while a thief is copying (the caller backs off and retries).
    /// `[TLA: SpillClaim]`
    ///
    /// The caller must hold [`Leaf::lock_owners`] and own the leaf.
    pub(crate) fn claim_own(
        &self,
        n: impl Fn(u32) -> u32,
        mut out: impl FnMut((Frame, T)),
    ) -> usize {
        // Acquire: pairs with the AcqRel claims (see `push`).
        let mut head = self.head.load(Acquire);
        let (first, n) = loop {
            let (steal, real) = unpack(head);
            // Relaxed: owners write `tail` (serialized, see `push`).
            let tail = self.tail.load(Relaxed);
            let take = n(tail.wrapping_sub(real));
            if steal != real || take == 0 {
                return 0;
            }
            let next = real.wrapping_add(take);
            // AcqRel: the atomic claim of `[real, next)` against pops and thieves.
            // [TLA: SpillClaim]
            match self
                .head
                .compare_exchange(head, pack(next, next), AcqRel, Acquire)
            {
                Ok(_) => break (real, take),
                Err(actual) => head = actual,
            }
        };
        for i in 0..n {
            // SAFETY: claimed above for this owner, which is the only slot writer and holds
            // the owners' lock: nobody rewrites the slot before this read.
            let item = self
                .slot(first.wrapping_add(i))
                .with(|p| unsafe { (*p).assume_init_read() });
            out(item);
        }
        n as usize
    }
}

impl<T> Drop for Leaf<T> {
    fn drop(&mut self) {
        // `&mut self`: no thief or owner is left; drop the items in `[real, tail)`. (A thief
        // always finishes its copy before its handle can be dropped.)
        while self.pop().is_some() {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use gearset_sync::{Arc, thread};

    #[test]
    fn one_frame_at_a_time_and_full_at_capacity() {
        let leaf = Leaf::new(2, false);
        assert_eq!(leaf.push(3, Box::new(30)), Ok(()));
        assert_eq!(
            leaf.push(4, Box::new(40)).unwrap_err().0,
            Refused::HigherFrame
        );
        assert_eq!(
            leaf.push(2, Box::new(20)).unwrap_err().0,
            Refused::LowerFrame
        );
        assert_eq!(leaf.push(3, Box::new(31)), Ok(()));
        assert_eq!(leaf.push(3, Box::new(32)).unwrap_err().0, Refused::Full);
        let mut spilled = Vec::new();
        assert_eq!(leaf.claim_own(|len| len / 2, |x| spilled.push(x)), 1);
        assert_eq!(spilled, [(3, Box::new(30))]);
        assert_eq!(leaf.push(3, Box::new(32)), Ok(()));
        // Left in the ring: dropped with it (Miri checks that nothing leaks).
    }

    #[test]
    fn owner_and_thief_take_each_item_once() {
        let n: u32 = if cfg!(miri) { 40 } else { 4000 };
        let leaf = Arc::new(Leaf::new(4, false));
        let thief = {
            let leaf = Arc::clone(&leaf);
            thread::spawn(move || {
                let mut got = Vec::new();
                for _ in 0..n {
                    leaf.claim(2, |x: (Frame, Box<u32>)| got.push(*x.1), |_, _, _| {});
                }
                got
            })
        };
        let mut got = Vec::new();
        for i in 0..n {
            let mut item = Box::new(i);
            while let Err((_, back)) = leaf.push(0, item) {
                item = back;
                got.extend(leaf.pop().map(|x| *x.1));
            }
        }
        got.extend(thief.join().unwrap());
        got.extend(core::iter::from_fn(|| leaf.pop()).map(|x| *x.1));
        got.sort_unstable();
        assert_eq!(got, (0..n).collect::<Vec<_>>());
    }
}
