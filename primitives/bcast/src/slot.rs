//! One ring slot: a 64-bit sequence stamp, a reader/writer lock word and the value.
//!
//! The stamp says which message the slot holds: `seq + 1` of the last *published* message,
//! or 0 while the slot was never written. Per slot the stamps grow by exactly the capacity
//! each lap (`i + 1, i + 1 + cap, i + 1 + 2 cap, ...`), because the writer of `seq` first
//! waits until the slot holds `seq - cap` ([`Slot::publish`]). A reader at cursor `c` therefore
//! classifies a slot by one comparison, at any wrap count ([`Stamp::classify`]):
//!
//! | stamp        | meaning                                   | reader does            |
//! |--------------|-------------------------------------------|------------------------|
//! | `== c + 1`   | message `c` is published                  | clone it               |
//! | `<  c + 1`   | an older lap: `c` is not yet published    | wait (`Empty`)         |
//! | `>  c + 1`   | a newer lap: `c` was overwritten          | report `Lagged(n)`     |
//!
//! A 64-bit stamp cannot wrap in practice (2^64 messages at 10^10 per second is 58 years), so
//! "older" and "newer" never alias. The original atomic-bcast's 8-bit generation did alias
//! after 255 rows; the TLA+ mutant `tla/bcast/mutants/AtomicBcast_narrow_stamp.cfg` shows the
//! resulting wrong read.
//!
//! # The lock word (Overwrite mode only)
//!
//! In `Backpressure` mode a writer never touches a slot that a live reader has not read yet
//! (the gate, see `shared.rs`), so readers clone without any lock. In `Overwrite` mode a
//! writer may lap a reader that is in the middle of cloning the old value; `lock` makes that
//! impossible: `{ WRITER: bit 31, readers: bits 0..31 }`.
//!
//! - A reader increments `readers` (`fetch_add`), backs off at once if `WRITER` is set, and
//!   otherwise re-checks the stamp, clones and decrements.
//! - A writer sets `WRITER` (`fetch_or`) and waits until `readers` is 0. New readers see the
//!   bit and back off, so the writer waits only for clones already under way: a bounded wait
//!   (the cost of one `T::clone`), never for a slow reader's progress.
//!
//! Both sides' RMWs on `lock` are totally ordered, which gives the case analysis in
//! [`Slot::read_locked`].

use core::mem::MaybeUninit;

use gearset_sync::{
    Backoff,
    atomic::{
        AtomicU32, AtomicU64,
        Ordering::{Acquire, Relaxed, Release},
    },
    cell::UnsafeCell,
    mutant, trace_action,
};

/// The writer bit of [`Slot::lock`].
const WRITER: u32 = 1 << 31;
/// The reader-count bits of [`Slot::lock`].
const READERS: u32 = WRITER - 1;

/// What a reader found in the slot of its cursor.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Read<T> {
    /// The message the reader asked for, cloned.
    Value(T),
    /// That message is not yet published.
    Empty,
    /// That message was overwritten by a newer lap (Overwrite mode only).
    Overwritten,
}

/// How a stamp compares with the message a reader wants.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Stamp {
    /// The slot holds the wanted message.
    Ready,
    /// The slot holds an older lap.
    Older,
    /// The slot holds a newer lap.
    Newer,
}

impl Stamp {
    /// Compares `stamp` with the message `seq`. [TLA: Ready and Newer in LoadStampAcquire]
    #[inline]
    pub(crate) fn classify(stamp: u64, seq: u64) -> Self {
        match stamp.cmp(&(seq + 1)) {
            core::cmp::Ordering::Equal => Stamp::Ready,
            core::cmp::Ordering::Less => Stamp::Older,
            core::cmp::Ordering::Greater => Stamp::Newer,
        }
    }
}

/// One ring slot. See the module docs for the protocol.
pub(crate) struct Slot<T> {
    /// `seq + 1` of the message in `value`, 0 if never written. Written (Release) only by the
    /// writer that owns the slot for this lap, after the value; read (Acquire) by readers and
    /// by the next lap's writer. Grows by the capacity each lap.
    stamp: AtomicU64,
    /// `{ WRITER: bit 31, readers: bits 0..31 }`, used only in Overwrite mode. Written by
    /// readers (count) and by the writer of the current lap (bit).
    lock: AtomicU32,
    /// The message. Initialized iff `stamp != 0`. Written only by the writer that owns the
    /// slot; read (cloned) only by readers that saw `stamp == seq + 1` and either hold a read
    /// lock (Overwrite) or are covered by the gate (Backpressure).
    value: UnsafeCell<MaybeUninit<T>>,
}

// SAFETY: a `Slot` moves a `T` from a writer thread to reader threads (so `T: Send`), and
// several readers may clone the same `&T` at the same time (so `T: Sync`). All other fields
// are atomics.
unsafe impl<T: Send + Sync> Sync for Slot<T> {}
// SAFETY: sending a slot sends the `T` it may hold; `T: Send` suffices.
unsafe impl<T: Send> Send for Slot<T> {}

impl<T> Slot<T> {
    /// An empty slot (stamp 0).
    pub(crate) fn new() -> Self {
        Self {
            stamp: AtomicU64::new(0),
            lock: AtomicU32::new(0),
            value: UnsafeCell::new(MaybeUninit::uninit()),
        }
    }

    /// The current stamp. Acquire: pairs with the Release store in [`Slot::publish`], so a
    /// `Ready` answer makes the value visible. [TLA: LoadStampAcquire]
    #[inline]
    pub(crate) fn stamp(&self) -> u64 {
        self.stamp.load(Acquire)
    }

    /// Writes message `seq` into the slot. `capacity` is the ring's, `locked` is true in
    /// Overwrite mode.
    ///
    /// The caller owns sequence `seq` (claimed by `fetch_add` on the tail) and, in
    /// Backpressure mode, has passed the gate: every live reader's cursor is above
    /// `seq - capacity`.
    pub(crate) fn publish(&self, seq: u64, value: T, capacity: u64, locked: bool) {
        let previous = seq.checked_sub(capacity).map_or(0, |old| old + 1);
        let backoff = Backoff::new();
        // Acquire: pairs with the Release stamp store of the previous lap's writer below, so
        // its value write happens before our drop and overwrite. Waits only for that writer,
        // which claimed its sequence before us. [TLA: WaitPrevLap]
        while self.stamp.load(Acquire) != previous {
            backoff.snooze();
        }
        trace_action!(
            "WaitPrevLap",
            "wpc'[SELF] = \"{}\" /\\ wpc'[SELF] # wpc[SELF]",
            if locked { "locking" } else { "write" }
        );
        if locked {
            self.lock_write(seq & (capacity - 1));
        }
        trace_action!(
            "WriteBegin",
            "val'[{}] = -2 /\\ wpc'[SELF] = \"writing\" /\\ wpc'[SELF] # wpc[SELF]",
            seq & (capacity - 1)
        );
        // SAFETY: we own the slot for this lap: the previous lap's writer has published
        // (stamp == previous) and no other writer can own it until we publish `seq + 1`.
        // No reader accesses the value: in Overwrite mode we hold WRITER with zero readers;
        // in Backpressure mode the gate proves every live reader is past `seq - capacity`,
        // the message we replace, and readers of later laps wait for our stamp. The old value
        // is initialized iff `previous != 0`; we move it out (its bits are then overwritten,
        // never dropped in place).
        let old = self.value.with_mut(|p| unsafe {
            let old = (previous != 0).then(|| (*p).assume_init_read());
            (*p).write(value);
            old
        });
        // Release: publishes the value; pairs with Acquire in `Slot::stamp` (readers) and
        // in the wait above (next lap's writer). [TLA: StoreStampRelease]
        // (Mutant `bcast_stamp_relaxed`: the original's relaxed publication, bug 6a.)
        let publish = if mutant::on("bcast_stamp_relaxed") {
            Relaxed
        } else {
            Release
        };
        self.stamp.store(seq + 1, publish);
        trace_action!(
            "StoreStampRelease",
            "stamp'[{i}] = {} /\\ val'[{i}] = {seq} /\\ wpc'[SELF] = \"{}\" /\\ wpc'[SELF] # wpc[SELF]",
            seq + 1,
            if locked { "unlock" } else { "idle" },
            i = seq & (capacity - 1),
        );
        if locked {
            // Release: pairs with the Acquire `fetch_add` in `read_locked`, so a reader that
            // locks after us also sees our stamp. [TLA: UnlockWrite]
            self.lock.fetch_and(!WRITER, Release);
            trace_action!(
                "UnlockWrite",
                "wlock'[{}] = FALSE /\\ wpc'[SELF] = \"idle\" /\\ wpc'[SELF] # wpc[SELF]",
                seq & (capacity - 1)
            );
        }
        // The old value is dropped after the slot is consistent again, outside the critical
        // section: a panicking `Drop` cannot leave the slot locked or its value dropped twice.
        drop(old);
    }

    /// Takes the slot's write lock: sets WRITER, then waits for in-progress clones to end.
    /// `index` is the slot's position in the ring (for the trace only).
    #[cfg_attr(not(gearset_trace), allow(unused_variables))]
    fn lock_write(&self, index: u64) {
        let backoff = Backoff::new();
        // Acquire: pairs with the previous lap's writer's Release `fetch_and` (only it can
        // still hold WRITER: it stored its stamp and is about to unlock). [TLA: LockWrite]
        while self.lock.fetch_or(WRITER, Acquire) & WRITER != 0 {
            backoff.snooze();
        }
        trace_action!(
            "LockWrite",
            "wlock'[{index}] = TRUE /\\ wpc'[SELF] = \"draining\" /\\ wpc'[SELF] # wpc[SELF]"
        );
        backoff.reset();
        // Acquire: pairs with each reader's Release `fetch_sub` in `ReadGuard::drop`, so
        // their clones of the old value happen before we drop it. [TLA: WaitReadersZero]
        while self.lock.load(Acquire) & READERS != 0 {
            backoff.snooze();
        }
        trace_action!(
            "WaitReadersZero",
            "wpc'[SELF] = \"write\" /\\ wpc'[SELF] # wpc[SELF]"
        );
    }

    /// Reads message `seq` without a lock (Backpressure mode).
    ///
    /// # Safety
    ///
    /// The channel is in Backpressure mode and the caller is a live reader whose published
    /// cursor is `<= seq`, so the gate keeps every writer off message `seq` once published.
    pub(crate) unsafe fn read_gated(&self, seq: u64) -> Read<T>
    where
        T: Clone,
    {
        match Stamp::classify(self.stamp(), seq) {
            Stamp::Older => Read::Empty,
            Stamp::Newer => {
                trace_stamp_loaded(seq, "lagged");
                Read::Overwritten
            }
            Stamp::Ready => {
                trace_stamp_loaded(seq, "loaded");
                // SAFETY: the Acquire stamp load saw `seq + 1`, so the value of `seq` is
                // initialized and visible; by the caller's contract no writer replaces it
                // while we clone (the writer of `seq + capacity` waits at the gate for our
                // cursor).
                let value = self
                    .value
                    .with(|p| unsafe { (*p).assume_init_ref() }.clone());
                Read::Value(value)
            }
        }
    }

    /// Reads message `seq` under the slot's read lock (Overwrite mode).
    ///
    /// Cases, by the position of our `fetch_add` in the modification order of `lock`
    /// relative to the `fetch_or` of a writer `W` of a later lap (invariant
    /// `NoTornRead` in `tla/bcast/AtomicBcast.tla`):
    /// 1. ours first: `W` waits until our `fetch_sub`; our clone happens before its drop;
    /// 2. `W`'s first, before its unlock: we see WRITER and answer `Empty` (wait and look
    ///    again) without touching `value`;
    /// 3. after `W`'s unlock: our Acquire syncs with it, the re-check sees `W`'s newer stamp and
    ///    we report `Overwritten` without touching `value`.
    ///
    /// `index` is the slot's position in the ring (for the trace only).
    #[cfg_attr(not(gearset_trace), allow(unused_variables))]
    pub(crate) fn read_locked(&self, seq: u64, index: u64) -> Read<T>
    where
        T: Clone,
    {
        match Stamp::classify(self.stamp(), seq) {
            Stamp::Older => return Read::Empty,
            Stamp::Newer => {
                trace_stamp_loaded(seq, "lagged");
                return Read::Overwritten;
            }
            Stamp::Ready => trace_stamp_loaded(seq, "lock"),
        }
        // Acquire: pairs with the writer's Release unlock in `publish`. [TLA: LockRead]
        // (Mutant `bcast_no_read_lock`: ignore the writer bit.)
        let lock = self.lock.fetch_add(1, Acquire);
        if lock & WRITER != 0 && !mutant::on("bcast_no_read_lock") {
            trace_action!(
                "LockRead",
                "rpc'[SELF] = \"idle\" /\\ rpc'[SELF] # rpc[SELF]"
            );
            // Relaxed: we accessed nothing under this count; it only undoes our add.
            self.lock.fetch_sub(1, Relaxed);
            // A writer holds the slot: the writer of `seq` between its stamp store and its
            // unlock, or a later lap's writer. Either notifies readers after unlocking, so
            // answering "not yet" lets the reader wait instead of spinning; the next look
            // returns the message or `Overwritten`. [TLA: LockReadBusy]
            return Read::Empty;
        }
        // Relative: the count may include another reader's transient increment (its
        // `LockReadBusy` undoes it), which the spec does not model.
        trace_action!(
            "LockRead",
            "rcount'[{index}] = rcount[{index}] + 1 /\\ rpc'[SELF] = \"locked\" /\\ rpc'[SELF] # rpc[SELF]"
        );
        let _guard = ReadGuard(&self.lock);
        // Acquire: the lock's Acquire above already orders this load after the last writer's
        // unlock (case 3); Acquire also covers a writer that published between our first
        // load and the lock. [TLA: RecheckStamp]
        // (Mutant `bcast_no_stamp_recheck`: trust the first look.)
        if !mutant::on("bcast_no_stamp_recheck") && self.stamp.load(Acquire) != seq + 1 {
            // Recorded before the guard's `fetch_sub`: no writer can act on the count until
            // then, so the spec's earlier decrement is indistinguishable.
            trace_action!(
                "RecheckStamp",
                "rcount'[{index}] = rcount[{index}] - 1 /\\ rpc'[SELF] = \"lagged\" /\\ rpc'[SELF] # rpc[SELF]"
            );
            return Read::Overwritten;
        }
        // SAFETY: we hold a read lock with WRITER clear, so no writer touches `value` until
        // we release (case 1), and the stamp re-check under the lock proves the value is
        // message `seq`, initialized and visible (Acquire stamp load).
        let value = self
            .value
            .with(|p| unsafe { (*p).assume_init_ref() }.clone());
        // As above: recorded before the guard's `fetch_sub`.
        trace_action!(
            "RecheckStamp",
            "rcount'[{index}] = rcount[{index}] - 1 /\\ recv'[SELF] = {seq} /\\ cursor'[SELF] = {} /\\ rpc'[SELF] = \"idle\" /\\ rpc'[SELF] # rpc[SELF]",
            seq + 1
        );
        Read::Value(value)
    }

    /// Drops the value if the slot holds one. Needs `&mut self`: no other access exists.
    pub(crate) fn drop_value(&mut self) {
        // Relaxed: `&mut self` proves every other access happened before (Arc's drop).
        if self.stamp.load(Relaxed) != 0 {
            // SAFETY: stamp != 0 means the value was written and not dropped since (every
            // overwrite drops the old value and writes a new one); `&mut self` excludes all
            // other access.
            self.value.with_mut(|p| unsafe { (*p).assume_init_drop() });
        }
    }
}

/// Records the reader's stamp load at its cursor `seq`, leading to reader state `to`.
/// [TLA: LoadStampAcquire]
#[inline(always)]
#[cfg_attr(not(gearset_trace), allow(unused_variables))]
fn trace_stamp_loaded(seq: u64, to: &str) {
    trace_action!(
        "LoadStampAcquire",
        "cursor[SELF] = {seq} /\\ rpc'[SELF] = \"{to}\" /\\ rpc'[SELF] # rpc[SELF]"
    );
}

/// Releases a read lock, also when `T::clone` panics.
struct ReadGuard<'a>(&'a AtomicU32);

impl Drop for ReadGuard<'_> {
    fn drop(&mut self) {
        // Release: pairs with the Acquire load in `lock_write`: our clone happens before the
        // writer drops the value. [TLA: RecheckStamp]
        self.0.fetch_sub(1, Release);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classify_at_every_wrap() {
        // Capacity 4: the slot of `seq` holds `seq - 4` (older) or `seq + 4` (newer).
        for lap in [1u64, 63, 64, 255, 256, 257, u64::MAX / 8] {
            let seq = lap * 4 + 1;
            assert_eq!(Stamp::classify(seq + 1, seq), Stamp::Ready);
            assert_eq!(Stamp::classify(seq + 1 - 4, seq), Stamp::Older);
            assert_eq!(Stamp::classify(seq + 1 + 4, seq), Stamp::Newer);
            assert_eq!(Stamp::classify(0, seq), Stamp::Older);
        }
    }

    #[test]
    fn publish_then_read_both_modes() {
        let slot = Slot::new();
        slot.publish(0, String::from("a"), 2, true);
        assert_eq!(slot.read_locked(0, 0), Read::Value(String::from("a")));
        assert_eq!(slot.read_locked(2, 0), Read::Empty);
        slot.publish(2, String::from("b"), 2, true);
        assert_eq!(slot.read_locked(0, 0), Read::Overwritten);
        // SAFETY: single-threaded test; no writer is active.
        let gated = unsafe { slot.read_gated(2) };
        assert_eq!(gated, Read::Value(String::from("b")));
        let mut slot = slot;
        slot.drop_value();
    }
}
