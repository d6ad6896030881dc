//! Graph-wide state shared by producers and consumers: gating cursors, the end of the stream,
//! the halt flag, and who to wake when something changes.
//!
//! # Fields and their writers
//!
//! - `gating`: the cursors of the *final* consumers (no consumer depends on them), fixed at
//!   build time. Producers read them (Acquire) to decide whether a slot is free.
//! - `end`: [`NO_END`] until the ring is closed; then the first sequence that will never be
//!   published. Written once by the closer (Release), read by consumers and by single-producer
//!   claims that raced with the close (Acquire).
//! - `halted`: set once, when a handler panics. Every wait loop checks it, so nothing hangs.
//! - `producers`: live producer handles. The last one to drop closes the ring.

use core::fmt;

use gearset_sync::{
    Arc, Backoff,
    atomic::{
        AtomicBool, AtomicU64, AtomicUsize,
        Ordering::{AcqRel, Acquire, Relaxed, Release},
    },
    wait::{TimedOut, WaitStrategy},
};

use crate::ring::Cursor;

/// `end` before the ring is closed.
pub(crate) const NO_END: u64 = u64::MAX;

/// An object-safe "wake whoever waits in this strategy", clonable behind a `Box` (loom's
/// `Arc` cannot coerce to `Arc<dyn Trait>`, so the `Arc<W>` lives inside a [`Waker`]).
pub(crate) trait Notify: Send + Sync {
    /// Calls the strategy's `notify_all`.
    fn notify(&self);
    /// Another handle on the same strategy.
    fn clone_box(&self) -> Box<dyn Notify>;
}

/// A shared wait strategy as a [`Notify`].
pub(crate) struct Waker<W>(pub(crate) Arc<W>);

impl<W: WaitStrategy + 'static> Notify for Waker<W> {
    fn notify(&self) {
        self.0.notify_all();
    }

    fn clone_box(&self) -> Box<dyn Notify> {
        Box::new(Waker(Arc::clone(&self.0)))
    }
}

/// An object-safe wait strategy, for the producer's full-ring wait.
pub(crate) trait DynWait: Send + Sync + fmt::Debug {
    /// Waits until `ready` returns `true` (or the strategy's timeout passes).
    fn wait(&self, ready: &mut dyn FnMut() -> bool) -> Result<(), TimedOut>;
    /// Calls the strategy's `notify_all`.
    fn notify(&self);
}

impl<W: WaitStrategy> DynWait for W {
    fn wait(&self, ready: &mut dyn FnMut() -> bool) -> Result<(), TimedOut> {
        self.wait_for(|| ready().then_some(()))
    }

    fn notify(&self) {
        self.notify_all();
    }
}

/// `true` if waiters in `W` can sleep, so progress must call `notify_all`. The spinning
/// strategies poll, and skipping them keeps the publish path free of calls that do nothing.
pub(crate) fn needs_notify<W: WaitStrategy>() -> bool {
    W::CAN_SLEEP
}

/// See the module docs.
pub(crate) struct Control {
    pub(crate) capacity: u64,
    pub(crate) gating: Box<[Arc<Cursor>]>,
    /// Every consumer's cursor, by [`ConsumerId`](crate::ConsumerId) index (for lag queries).
    pub(crate) cursors: Box<[Arc<Cursor>]>,
    pub(crate) end: AtomicU64,
    pub(crate) halted: AtomicBool,
    pub(crate) producers: AtomicUsize,
    /// Strategies of consumers that wait on the publisher (only those that can sleep).
    pub(crate) on_publish: Box<[Box<dyn Notify>]>,
    /// Strategies of every consumer that can sleep: woken on close and halt.
    pub(crate) everyone: Box<[Box<dyn Notify>]>,
    pub(crate) producer_wait: Box<dyn DynWait>,
}

impl Control {
    /// The smallest final-consumer cursor: every slot below `min + capacity` is free to write.
    #[inline]
    pub(crate) fn min_gating(&self) -> u64 {
        let mut min = u64::MAX;
        for cursor in self.gating.iter() {
            // Acquire: pairs with the Release cursor store in `Processor::release`/`EventPoller`,
            // so the consumer's reads of the slot happen before our overwrite. [TLA: ReadGate]
            min = min.min(cursor.load(Acquire));
        }
        min
    }

    /// `true` if sequences below `hi` may be written, refreshing `room_end` (a possibly stale
    /// lower bound of `min_gating`, plus the capacity) only when it does not already prove it.
    ///
    /// The steps are the spec's: `CheckRoomCached` (to "write" or "refresh"), `ReadGate`, and
    /// `CheckRoomCached` again. A `false` return records no last check: the spec is back at
    /// "room", and the caller's next call starts with its first check.
    #[inline(always)]
    pub(crate) fn has_room(&self, room_end: &mut u64, hi: u64) -> bool {
        self.fits(*room_end, hi) || self.refresh(room_end, hi)
    }

    /// The cache did not prove room: refresh it from the final consumers and check again.
    #[cold]
    #[inline(never)]
    fn refresh(&self, room_end: &mut u64, hi: u64) -> bool {
        gearset_sync::trace_action!(
            "CheckRoomCached",
            "ppc'[SELF] = \"refresh\" /\\ ppc'[SELF] # ppc[SELF]"
        );
        let gate = self.min_gating();
        // Saturating: with no final consumer the gate is `u64::MAX`, and nothing gates.
        *room_end = gate.saturating_add(self.capacity);
        gearset_sync::trace_action!(
            "ReadGate",
            "gate'[SELF] = {} /\\ ppc'[SELF] = \"room\" /\\ ppc'[SELF] # ppc[SELF]",
            gate
        );
        self.fits(*room_end, hi)
    }

    /// The cached half of the room check: `true` (and the spec's `CheckRoomCached` to
    /// "write") if the cached `room_end` proves room for `hi`.
    #[inline(always)]
    fn fits(&self, room_end: u64, hi: u64) -> bool {
        let fits = hi <= room_end || gearset_sync::mutant::on("disruptor_ignore_gating");
        if fits {
            gearset_sync::trace_action!(
                "CheckRoomCached",
                "ppc'[SELF] = \"write\" /\\ ppc'[SELF] # ppc[SELF]"
            );
        }
        fits
    }

    /// Waits until sequences below `hi` may be written. `Err` if the graph halted meanwhile.
    ///
    /// The cached check is inlined into the claim; refreshing and waiting are not.
    #[inline(always)]
    pub(crate) fn wait_for_room(&self, room_end: &mut u64, hi: u64) -> Result<(), Halted> {
        if self.fits(*room_end, hi) {
            return Ok(());
        }
        self.refresh_or_wait(room_end, hi)
    }

    /// [`wait_for_room`](Self::wait_for_room) once the cache ran out: refresh it, wait if the
    /// ring is really full.
    #[cold]
    #[inline(never)]
    fn refresh_or_wait(&self, room_end: &mut u64, hi: u64) -> Result<(), Halted> {
        if self.refresh(room_end, hi) {
            return Ok(());
        }
        let mut outcome = Ok(());
        let mut ready = || {
            if self.is_halted() {
                outcome = Err(Halted);
                return true;
            }
            self.has_room(room_end, hi)
        };
        while self.producer_wait.wait(&mut ready).is_err() {}
        outcome
    }

    /// `true` once a handler panicked.
    #[inline]
    pub(crate) fn is_halted(&self) -> bool {
        // Acquire: pairs with the Release store in `halt`; nothing else rides on it.
        self.halted.load(Acquire)
    }

    /// The end of the stream, or `NO_END`.
    #[inline]
    pub(crate) fn end(&self) -> u64 {
        // Acquire: pairs with the Release store in `set_end`. [TLA: ConsumerWait]
        self.end.load(Acquire)
    }

    /// Publishes the end of the stream (called once, by whoever closed the ring) and wakes
    /// every consumer so that they re-check it.
    pub(crate) fn set_end(&self, end: u64) {
        // Release: consumers that read `end` also see everything the closer did. [TLA: SetEnd]
        self.end.store(end, Release);
        gearset_sync::trace_action!("SetEnd", "endSeq' = {end} /\\ closePc' = \"closed\"");
        self.wake_everyone();
    }

    /// Waits until `set_end` ran (a closer is between its close step and `set_end`).
    pub(crate) fn wait_end(&self) -> u64 {
        let backoff = Backoff::new();
        loop {
            let end = self.end();
            if end != NO_END {
                return end;
            }
            backoff.snooze();
        }
    }

    /// Marks the graph halted and wakes everyone: consumers stop when they run out of work,
    /// producers waiting for room give up.
    pub(crate) fn halt(&self) {
        // Release: pairs with the Acquire in `is_halted`.
        self.halted.store(true, Release);
        self.wake_everyone();
    }

    /// Wakes every sleeping consumer and the producers.
    pub(crate) fn wake_everyone(&self) {
        for n in self.everyone.iter() {
            n.notify();
        }
        self.producer_wait.notify();
    }

    /// Wakes consumers gated on the publisher: called after every publish.
    #[inline]
    pub(crate) fn notify_published(&self) {
        for n in self.on_publish.iter() {
            n.notify();
        }
    }

    /// Registers one more producer handle.
    pub(crate) fn add_producer(&self) {
        // Relaxed: a plain reference count; the clone already holds a reference.
        self.producers.fetch_add(1, Relaxed);
    }

    /// Unregisters a producer handle; `true` if it was the last one.
    pub(crate) fn remove_producer(&self) -> bool {
        // AcqRel: the last dropper sees every other producer's writes before it closes.
        self.producers.fetch_sub(1, AcqRel) == 1
    }
}

impl fmt::Debug for Control {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Relaxed/Acquire loads here are a racy snapshot for debugging; nothing pairs with them.
        f.debug_struct("Control")
            .field("capacity", &self.capacity)
            .field("end", &self.end.load(Relaxed))
            .field("halted", &self.halted.load(Relaxed))
            .finish_non_exhaustive()
    }
}

/// The graph halted while a producer waited for room.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Halted;

#[cfg(test)]
impl Control {
    /// A control block with one final consumer cursor (returned) and no sleepers.
    pub(crate) fn for_test(capacity: u64) -> (Self, Arc<Cursor>) {
        let cursor = Arc::new(crate::ring::new_cursor());
        let ctl = Self {
            capacity,
            gating: Box::new([Arc::clone(&cursor)]),
            cursors: Box::new([Arc::clone(&cursor)]),
            end: AtomicU64::new(NO_END),
            halted: AtomicBool::new(false),
            producers: AtomicUsize::new(1),
            on_publish: Box::new([]),
            everyone: Box::new([]),
            producer_wait: Box::new(gearset_sync::wait::Yielding::new()),
        };
        (ctl, cursor)
    }
}
