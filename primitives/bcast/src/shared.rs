//! The state every handle shares: the ring, the tail, the gate and the reader registry.
//!
//! # The gate (Backpressure mode)
//!
//! `gate` is a lower bound of every live reader's cursor (invariant `GateBelowCursors`). A
//! writer of `seq` may overwrite the slot only when `seq < gate + capacity`, i.e. when every
//! live reader has consumed `seq - capacity`, the message it replaces (`NoOverwriteUnread`).
//!
//! The gate only grows and is only written under the registry lock, by
//! [`Shared::advance_gate`]: the minimum of the registered cursors, or the tail when there is
//! no reader. A reader registers (also under the lock) at a cursor `>= gate`, so:
//! 1. a rescan that ran before the registration cannot have moved the gate past the new
//!    cursor (the registration reads the gate after it and takes the max);
//! 2. a rescan that runs after it sees the new cursor.
//!
//! Writers read the gate without the lock; a stale gate is lower, which is only more careful.

use core::fmt;

use gearset_sync::{
    Arc, CachePadded, Mutex,
    atomic::{
        AtomicU64, AtomicUsize,
        Ordering::{Acquire, Relaxed, Release},
    },
    trace_action,
    wait::WaitStrategy,
};

use crate::slot::Slot;

/// What a channel does when its slowest reader is a full ring behind.
///
/// ```
/// use gearset_bcast::{Policy, TryRecvError, channel};
///
/// // Backpressure: the third send would wait for the reader, so nothing is lost.
/// let (publisher, mut reader) = channel(2, Policy::Backpressure);
/// publisher.send(1).unwrap();
/// publisher.send(2).unwrap();
/// assert_eq!(reader.try_recv(), Ok(1));
/// publisher.send(3).unwrap(); // room again
/// assert_eq!((reader.try_recv(), reader.try_recv()), (Ok(2), Ok(3)));
///
/// // Overwrite: sends never wait; the reader learns what it lost.
/// let (publisher, mut reader) = channel(2, Policy::Overwrite);
/// (1..=3).for_each(|i| publisher.send(i).unwrap());
/// assert_eq!(reader.try_recv(), Err(TryRecvError::Lagged(1)));
/// assert_eq!(reader.try_recv(), Ok(2));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Policy {
    /// Writers wait for the slowest live reader: nothing is ever lost. Readers clone without
    /// a lock. A reader that stops reading stops every writer (until it is dropped). Readers
    /// publish their position every `capacity / 4` messages and whenever they run out of
    /// messages, so a reader that is still receiving may hold writers back by up to
    /// `capacity / 4 - 1` messages more than it has read.
    Backpressure,
    /// Writers never wait for readers: a reader a full ring behind loses the oldest messages
    /// and is told how many with `Lagged(n)`, then resumes at the oldest retained message.
    /// Readers clone under a per-slot read lock; a writer waits at most for clones already
    /// under way in the one slot it overwrites.
    Overwrite,
}

/// Where a new reader starts.
///
/// ```
/// use gearset_bcast::{Policy, StartAt, channel};
///
/// let (publisher, mut first) = channel(4, Policy::Backpressure);
/// publisher.send("a").unwrap();
/// let mut oldest = publisher.subscribe(StartAt::Oldest); // the slowest reader is at "a"
/// let mut next = publisher.subscribe(StartAt::Next);
/// publisher.send("b").unwrap();
/// assert_eq!(oldest.try_recv(), Ok("a"));
/// assert_eq!(next.try_recv(), Ok("b"));
/// # assert_eq!(first.try_recv(), Ok("a"));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum StartAt {
    /// At the next message sent after the subscription (the tail).
    Next,
    /// At the oldest message the channel still guarantees: in Backpressure mode the slowest
    /// live reader's position (the gate), in Overwrite mode `tail - capacity`.
    Oldest,
}

/// A reader's published cursor, owned by its `Subscriber`, read by gate rescans.
pub(crate) type Cursor = Arc<CachePadded<AtomicU64>>;

/// The registered readers. Only touched under `Shared::registry`.
#[derive(Default)]
pub(crate) struct Registry {
    next_id: u64,
    cursors: Vec<(u64, Cursor)>,
}

/// Everything the handles share.
pub(crate) struct Shared<T, W> {
    /// The next sequence number to claim. Written by writers (`fetch_add`), read by
    /// subscriptions, lag recovery and gate rescans. Never decreases.
    pub(crate) tail: CachePadded<AtomicU64>,
    /// Lower bound of every live reader's cursor (Backpressure). Written only under
    /// `registry`, read by writers. Never decreases.
    pub(crate) gate: CachePadded<AtomicU64>,
    /// Live `Publisher`s. 0 is final: readers then drain and get `Closed`.
    writers: CachePadded<AtomicUsize>,
    /// Live `Subscriber`s. Written under `registry`, read by writers (send fails at 0).
    readers: AtomicUsize,
    /// Padded: gate rescans lock it on the writers' slow path, and the fields next to it
    /// (`slots`, `mask`, `policy`) are read on every operation.
    registry: CachePadded<Mutex<Registry>>,
    slots: Box<[Slot<T>]>,
    /// `capacity - 1`; capacity is a power of two.
    mask: u64,
    /// A Backpressure reader publishes its cursor (and wakes writers) at least every this
    /// many messages, and whenever it runs out: `max(1, capacity / 4)`.
    pub(crate) publish_every: u64,
    pub(crate) policy: Policy,
    /// Readers wait here for messages; writers notify after publishing.
    pub(crate) reader_wait: W,
    /// Writers wait here for the gate (Backpressure); readers notify after advancing.
    pub(crate) writer_wait: W,
}

impl<T, W: WaitStrategy> Shared<T, W> {
    /// A channel with one writer and no reader yet.
    pub(crate) fn new(capacity: usize, policy: Policy, reader_wait: W, writer_wait: W) -> Self {
        assert!(
            capacity > 0,
            "a broadcast channel needs a capacity of at least 1"
        );
        let capacity = capacity.next_power_of_two();
        Self {
            tail: CachePadded::new(AtomicU64::new(0)),
            gate: CachePadded::new(AtomicU64::new(0)),
            writers: CachePadded::new(AtomicUsize::new(1)),
            readers: AtomicUsize::new(0),
            registry: CachePadded::new(Mutex::new(Registry::default())),
            slots: (0..capacity).map(|_| Slot::new()).collect(),
            mask: capacity as u64 - 1,
            publish_every: (capacity as u64 / 4).max(1),
            policy,
            reader_wait,
            writer_wait,
        }
    }

    /// The ring's capacity (a power of two).
    #[inline]
    pub(crate) fn capacity(&self) -> u64 {
        self.mask + 1
    }

    /// The slot of message `seq`.
    #[inline]
    pub(crate) fn slot(&self, seq: u64) -> &Slot<T> {
        // Masked index: always in bounds.
        &self.slots[(seq & self.mask) as usize]
    }

    /// Number of live readers. Acquire: pairs with the Release store in `register` /
    /// `unregister` (not needed for memory safety; keeps the answer fresh).
    pub(crate) fn reader_count(&self) -> usize {
        self.readers.load(Acquire)
    }

    /// Whether every writer is gone. Acquire: pairs with the AcqRel decrement in
    /// `writer_left`, so every message published before it is visible.
    /// [TLA: not modeled; shuttle checks the close]
    pub(crate) fn writers_gone(&self) -> bool {
        self.writers.load(Acquire) == 0
    }

    /// A writer handle was cloned.
    pub(crate) fn writer_joined(&self) {
        // Relaxed: the cloning handle is live, so the count cannot reach 0 meanwhile.
        self.writers.fetch_add(1, Relaxed);
    }

    /// A writer handle was dropped; the last one wakes every reader so they see `Closed`.
    pub(crate) fn writer_left(&self) {
        // AcqRel: Release publishes this writer's messages to readers that see 0; Acquire
        // makes the last writer carry the earlier writers' releases along.
        // [TLA: not modeled; shuttle checks the close]
        if self
            .writers
            .fetch_sub(1, gearset_sync::atomic::Ordering::AcqRel)
            == 1
        {
            self.reader_wait.notify_all();
        }
    }

    /// Waits until message `seq` may be written (Backpressure): `seq < gate + capacity`.
    #[inline]
    pub(crate) fn wait_for_room(&self, seq: u64) {
        // Acquire: pairs with the Release store in `advance_gate`, which follows the Acquire
        // loads of the readers' cursors: their clones happen before our overwrite. [TLA: CheckGate]
        if seq < self.gate.load(Acquire) + self.capacity() {
            trace_gated();
            return;
        }
        self.wait_for_room_slow(seq);
    }

    #[inline(never)]
    fn wait_for_room_slow(&self, seq: u64) {
        let room = || (seq < self.advance_gate() + self.capacity()).then_some(());
        // No deadline: a writer only waits for live readers, and a reader's drop advances
        // the gate and notifies us.
        let _ = self.writer_wait.wait_until(room, None);
        trace_gated();
    }

    /// Rescans the registered cursors and raises the gate to their minimum (or to the tail
    /// when there is no reader). Returns the new gate. [TLA: AdvanceGate]
    pub(crate) fn advance_gate(&self) -> u64 {
        let registry = self.registry.lock().unwrap_or_else(|e| e.into_inner());
        // Relaxed: the gate is only written under the lock we hold. (Trace builds only: a
        // rescan that leaves the gate as it was is no spec step.)
        #[cfg(gearset_trace)]
        let before = self.gate.load(Relaxed);
        let gate = self.advance_gate_locked(&registry);
        #[cfg(gearset_trace)]
        if gate != before {
            trace_action!("AdvanceGate", "gate' = {gate}");
        }
        gate
    }

    fn advance_gate_locked(&self, registry: &Registry) -> u64 {
        // Acquire on each cursor: pairs with the Release store in
        // `Publication::publish` (subscriber.rs), after the reader's clones. [TLA: AdvanceGate]
        let min = registry.cursors.iter().map(|(_, c)| c.load(Acquire)).min();
        // Relaxed: only used when there is no reader, where any value up to the tail is safe
        // (a new reader registers at or above the gate).
        let min = min.unwrap_or_else(|| self.tail.load(Relaxed));
        // Relaxed load: the gate is only written under the lock we hold.
        let gate = self.gate.load(Relaxed).max(min);
        // Release: pairs with the Acquire load in `wait_for_room`. [TLA: AdvanceGate]
        self.gate.store(gate, Release);
        gate
    }

    /// Registers a reader starting at `start` (or at `at`, for a clone). Returns its id,
    /// cursor and starting position. [TLA: Subscribe]
    pub(crate) fn register(&self, start: Start) -> (u64, Cursor, u64) {
        let mut registry = self.registry.lock().unwrap_or_else(|e| e.into_inner());
        // Relaxed: the gate is only written under the lock we hold.
        let gate = self.gate.load(Relaxed);
        // Acquire: the tail only bounds positions; no data is read through it. Loaded after
        // the gate, so the position below is the one at this instant. [TLA: Subscribe]
        let tail = self.tail.load(Acquire);
        let position = match (start, self.policy) {
            (Start::At(position), _) => position,
            (Start::New(StartAt::Next), _) => tail,
            (Start::New(StartAt::Oldest), Policy::Backpressure) => gate,
            (Start::New(StartAt::Oldest), Policy::Overwrite) => {
                tail.saturating_sub(self.capacity())
            }
        };
        // [TLA: GateBelowCursors] the gate never passes a registered cursor.
        let position = match self.policy {
            Policy::Backpressure => position.max(gate),
            Policy::Overwrite => position,
        };
        // The subscription takes effect here for the spec: gate rescans are excluded by the
        // lock until the cursor is registered below. (Writers read `readers`, stored last;
        // the conformance scenarios keep a reader live while anyone sends.)
        trace_action!(
            "Subscribe",
            "cursor'[SELF] = {position} /\\ live'[SELF] = TRUE /\\ started'[SELF] = TRUE /\\ started[SELF] = FALSE"
        );
        let id = registry.next_id;
        registry.next_id += 1;
        let cursor = Arc::new(CachePadded::new(AtomicU64::new(position)));
        registry.cursors.push((id, Arc::clone(&cursor)));
        // Release: pairs with the Acquire in `reader_count`.
        self.readers.store(registry.cursors.len(), Release);
        (id, cursor, position)
    }

    /// Removes reader `id`, then lets blocked writers re-check the gate. [TLA: Unsubscribe]
    pub(crate) fn unregister(&self, id: u64) {
        {
            let mut registry = self.registry.lock().unwrap_or_else(|e| e.into_inner());
            registry.cursors.retain(|(i, _)| *i != id);
            // Release: pairs with the Acquire in `reader_count`.
            self.readers.store(registry.cursors.len(), Release);
            // `gate` is read only by the trace point (`--cfg gearset_trace`).
            #[cfg_attr(not(gearset_trace), allow(unused_variables))]
            let gate = match self.policy {
                Policy::Backpressure => Some(self.advance_gate_locked(&registry)),
                Policy::Overwrite => None,
            };
            trace_action!(
                "Unsubscribe",
                "live'[SELF] = FALSE /\\ live[SELF] = TRUE /\\ gate' = {}",
                gate.map_or_else(|| "gate".to_owned(), |g| g.to_string())
            );
        }
        if self.policy == Policy::Backpressure {
            self.writer_wait.notify_all();
        }
    }
}

/// Records a writer passing the gate. [TLA: CheckGate]
#[inline(always)]
fn trace_gated() {
    trace_action!(
        "CheckGate",
        "wpc'[SELF] = \"gated\" /\\ wpc'[SELF] # wpc[SELF]"
    );
}

/// Where `register` puts a reader.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Start {
    New(StartAt),
    At(u64),
}

impl<T, W> Drop for Shared<T, W> {
    fn drop(&mut self) {
        for slot in self.slots.iter_mut() {
            slot.drop_value();
        }
    }
}

impl<T, W: fmt::Debug> fmt::Debug for Shared<T, W> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Shared")
            .field("capacity", &(self.mask + 1))
            .field("policy", &self.policy)
            // Relaxed: a diagnostic snapshot.
            .field("tail", &self.tail.load(Relaxed))
            .field("reader_wait", &self.reader_wait)
            .finish_non_exhaustive()
    }
}
