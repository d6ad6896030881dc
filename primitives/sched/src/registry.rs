//! The state every worker and every handle of one pool shares, and the two halves of the
//! sleep/wake protocol that do not belong to a worker: pushing work (and notifying) and
//! finishing it (and detecting quiescence).
//!
//! # The counts word
//!
//! `counts` packs `{ shutdown: 1 bit, pending: 31 bits, queued: 32 bits }` into one atomic,
//! so a worker reads "is there work, and are we shutting down" in one load (the spec's
//! `Search` and `Recheck` read `tasks` and `shut` in one step; two loads would let a push or
//! the shutdown slip in between and the spec would need a nondeterministic stale read):
//!
//! - `queued`: jobs pushed into the queue tree and not yet popped. Incremented *before* the
//!   push lands, decremented after a pop: `queued > 0` means a job is in the tree or about to
//!   be, so a worker that reads it keeps trying (the push lands, or another worker pops it and
//!   decrements). [TLA: `tasks`]
//! - `pending`: jobs pushed and not yet finished (queued or running). It reaches 0 only when no
//!   job exists anywhere: that is quiescence. [TLA: `pending`, invariant `QuiescenceIsReal`]
//! - `shutdown`: set once by the pool's drop, after quiescence. [TLA: `shut`]
//!
//! # Push, then notify (the notifier's half of the Dekker handshake)
//!
//! `push`: `counts.fetch_add` (the job is announced), the tree push (it lands), then
//! `EventCount::notify_one`, whose `SeqCst` fence orders the announcement before its load of the
//! waiter count. A worker going to sleep does `prepare_wait` (registration, `SeqCst` fence)
//! then re-loads `counts`. Either the worker's re-check sees the job, or the notifier sees the
//! registration and bumps the epoch so the worker's sleep returns at once: no lost wake-up
//! (`EventCount` module docs, and `tla/sched/Sched.tla` invariant `NoLostWakeup`).

use std::vec::Vec;

use gearset_hqueue::{Injector, Worker as QueueWorker};
use gearset_sync::{
    CachePadded, Condvar, EventCount, Mutex,
    atomic::{
        AtomicU64, AtomicUsize,
        Ordering::{AcqRel, Acquire, Relaxed},
    },
    thread::ThreadId,
};

use crate::{job::JobRef, stats::WorkerCounters};

/// `counts`: the shutdown bit.
pub(crate) const SHUTDOWN: u64 = 1 << 63;
/// `counts`: one pending job.
pub(crate) const ONE_PENDING: u64 = 1 << 32;
/// `counts`: one queued job.
pub(crate) const ONE_QUEUED: u64 = 1;
const QUEUED_MASK: u64 = ONE_PENDING - 1;
const PENDING_MASK: u64 = (SHUTDOWN - 1) & !QUEUED_MASK;

/// Jobs in the queue tree (or landing) in a `counts` value.
#[inline]
pub(crate) fn queued(counts: u64) -> u64 {
    counts & QUEUED_MASK
}

/// Jobs pushed and not finished in a `counts` value.
pub(crate) fn pending(counts: u64) -> u64 {
    (counts & PENDING_MASK) >> 32
}

/// Whether a `counts` value has the shutdown bit.
pub(crate) fn is_shutdown(counts: u64) -> bool {
    counts & SHUTDOWN != 0
}

/// Shared by the pool handle, its workers and every job.
pub(crate) struct Registry {
    /// `{ shutdown, pending, queued }` (module docs). Written by every pusher, popper and
    /// finisher; read by searching and re-checking workers. Its own cache line.
    pub(crate) counts: CachePadded<AtomicU64>,
    /// Workers that found no work and have not found any since (searching or asleep): the
    /// demand that makes `join` expose its second closure. Written by workers when they run
    /// dry and when they find work; read (Relaxed, a hint) by every `join`. Its own line, so
    /// that the hot `counts` line does not bounce into the join fast path.
    pub(crate) idle: CachePadded<AtomicUsize>,
    /// Where idle workers sleep: [TLA: PrepareWait ... Deregister, LoadWaiters ... Unpark].
    pub(crate) sleep: EventCount,
    /// Quiescence: `quiet_lock` is taken by the finisher that brings `pending` to 0 before it
    /// notifies `quiet`, so a waiter that checked `pending` under the lock cannot miss it.
    pub(crate) quiet_lock: Mutex<()>,
    pub(crate) quiet: Condvar,
    /// Pushes from outside the workers (and scoped / detached spawns) land at the root.
    pub(crate) injector: Injector<JobRef>,
    /// One set of counters per worker, written by that worker only (Relaxed).
    pub(crate) workers: Vec<CachePadded<WorkerCounters>>,
    /// The worker threads' ids, for refusing a blocking `install` from inside the pool.
    pub(crate) thread_ids: Mutex<Vec<ThreadId>>,
}

impl Registry {
    pub(crate) fn new(injector: Injector<JobRef>, workers: usize) -> Self {
        Self {
            counts: CachePadded::new(AtomicU64::new(0)),
            idle: CachePadded::new(AtomicUsize::new(0)),
            sleep: EventCount::new(),
            quiet_lock: Mutex::new(()),
            quiet: Condvar::new(),
            injector,
            workers: (0..workers)
                .map(|_| CachePadded::new(WorkerCounters::default()))
                .collect(),
            thread_ids: Mutex::new(Vec::new()),
        }
    }

    /// Announces one job: `pending` and `queued` go up together. Returns the new counts.
    /// [TLA: Push]
    pub(crate) fn announce(&self) -> u64 {
        // AcqRel: an RMW on the counts word; it needs no edge of its own (the job travels
        // through the queue tree's lock), but the Release half keeps the job's creation
        // before the count that a searching worker reads. [TLA: Push]
        let counts =
            self.counts.fetch_add(ONE_PENDING | ONE_QUEUED, AcqRel) + (ONE_PENDING | ONE_QUEUED);
        gearset_sync::trace_action!(
            "Push",
            "tasks' = {} /\\ pending' = {} /\\ npc' # npc",
            queued(counts),
            pending(counts)
        );
        counts
    }

    /// Pushes a job through the root (injector) and wakes a sleeper if there is one.
    pub(crate) fn inject(&self, job: JobRef) {
        self.announce();
        self.injector.push(0, job);
        // notify: SeqCst fence, then the waiter count (the notifier's half of the handshake).
        self.sleep.notify_one();
    }

    /// Pushes a job on a worker's own leaf and wakes a sleeper if there is one.
    pub(crate) fn push_local(&self, queue: &mut QueueWorker<JobRef>, job: JobRef) {
        self.announce();
        queue.push(0, job);
        self.sleep.notify_one();
    }

    /// Records that a popped job left the tree: `queued` goes down. Returns the new counts.
    /// [TLA: Search (the pop)]
    pub(crate) fn took(&self) -> u64 {
        // AcqRel: RMW; the job itself came through the tree's lock. Relaxed would do for the
        // count alone; AcqRel keeps it ordered after the pop for readers of `queued`.
        self.counts.fetch_sub(ONE_QUEUED, AcqRel) - ONE_QUEUED
    }

    /// Records that a job finished: `pending` goes down; the finisher of the last pending job
    /// wakes the quiescence waiters. [TLA: Finish]
    pub(crate) fn finished(&self) {
        // AcqRel: the Release half publishes the job's effects to the quiescence waiter, whose
        // Acquire load in `wait_quiet` pairs with it. [TLA: Finish]
        let counts = self.counts.fetch_sub(ONE_PENDING, AcqRel) - ONE_PENDING;
        gearset_sync::trace_action!(
            "Finish",
            "pending' = {} /\\ pc'[SELF] # pc[SELF]",
            pending(counts)
        );
        if pending(counts) == 0 {
            // Taking the lock orders this notify after a waiter's check under it (or the
            // waiter checks after our decrement): the condition-variable handshake.
            drop(self.quiet_lock.lock().unwrap_or_else(|e| e.into_inner()));
            self.quiet.notify_all();
        }
    }

    /// Blocks until no job is pending anywhere (quiescence). [TLA: Quiesce]
    pub(crate) fn wait_quiet(&self) {
        let mut guard = self.quiet_lock.lock().unwrap_or_else(|e| e.into_inner());
        // Acquire: pairs with the Release half of `finished`, so every job's effects are
        // visible to the caller once it sees 0.
        while pending(self.counts.load(Acquire)) != 0 {
            guard = self.quiet.wait(guard).unwrap_or_else(|e| e.into_inner());
        }
        gearset_sync::trace_action!("Quiesce", "npc' # npc");
    }

    /// Sets the shutdown bit and wakes every sleeper. [TLA: Shutdown, then the notify_all]
    pub(crate) fn shut_down(&self) {
        self.set_shutdown();
        self.sleep.notify_all();
    }

    /// The shutdown bit alone. [TLA: Shutdown]
    pub(crate) fn set_shutdown(&self) {
        // AcqRel: RMW; the sleepers' re-check (Acquire after their SeqCst fence) sees it, and
        // the notify_all's SeqCst fence orders it before the waiter count load.
        self.counts.fetch_or(SHUTDOWN, AcqRel);
        gearset_sync::trace_action!("Shutdown", "shut' = TRUE /\\ npc' # npc");
    }

    /// The counts word, for statistics and `join`'s demand hint (Relaxed: a snapshot, no edge
    /// needed). Inlined: `join` is generic, so it is compiled in the caller's crate.
    #[inline]
    pub(crate) fn counts_snapshot(&self) -> u64 {
        self.counts.load(Relaxed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_fields_do_not_overlap() {
        let c = SHUTDOWN | (3 * ONE_PENDING) | (2 * ONE_QUEUED);
        assert_eq!((queued(c), pending(c), is_shutdown(c)), (2, 3, true));
        let c = (PENDING_MASK >> 32) * ONE_PENDING + QUEUED_MASK;
        assert_eq!(
            (queued(c), pending(c), is_shutdown(c)),
            (QUEUED_MASK, PENDING_MASK >> 32, false)
        );
    }
}
