//! An event count: block on any condition without a lost wake-up.
//!
//! A waiter cannot sleep on "the queue is non-empty" directly: between its check and its sleep a
//! producer may push and notify, and the notify would find nobody to wake. The event count
//! splits waiting into three steps that close that window (Dmitry Vyukov's design, also
//! Folly's `EventCount`):
//!
//! 1. [`EventCount::prepare_wait`] registers the waiter and returns a [`Key`] holding the
//!    current *epoch*;
//! 2. the waiter re-checks its condition, and if it now holds, drops the key (cancel);
//! 3. otherwise [`Key::wait`] sleeps, unless the epoch has moved since step 1.
//!
//! A notifier first makes the condition true, then calls [`EventCount::notify_one`] or
//! [`EventCount::notify_all`], which bump the epoch when anybody is registered.
//!
//! # Invariants (names shared with `tla/sync/EventCount.tla`)
//!
//! - **NoLostWakeup**: a waiter whose `prepare_wait` precedes a `notify_all` does not stay
//!   asleep; if `notify_one` follows the `prepare_wait` of waiters that are still waiting, at
//!   least one of them returns.
//! - **SleepersRegistered**: every sleeper is counted in `waiters`, so the notifier's fast
//!   path (no waiters: one fence and one load, no lock) never skips a sleeper.
//!
//! # Why it works: the two races, case by case
//!
//! *Condition vs. registration* (the Dekker handshake). The waiter does
//! `RMW(state) ; fence(SeqCst) ; load(condition)`, the notifier
//! `store(condition) ; fence(SeqCst) ; load(state)`. The two fences are ordered in the single
//! total order of `SeqCst` operations:
//! 1. the notifier's fence first: the waiter's condition load sees the store, and it cancels;
//! 2. the waiter's fence first: the notifier's load sees the registration (or a later value in
//!    the modification order of `state`), so it bumps the epoch past the waiter's key.
//!
//! *Epoch vs. sleep.* The notifier bumps the epoch, then takes the sleeper-queue lock. The
//! waiter takes that lock, re-checks the epoch, and only then queues itself and parks:
//! 1. the waiter's critical section first: the notifier finds it queued and unparks it (an
//!    unpark before the park is kept as a token, so the park returns at once);
//! 2. the notifier's critical section first: it happens before the waiter's, so the waiter's
//!    re-check reads the new epoch and it does not sleep.
//!
//! `notify_one` wakes the *oldest* queued sleeper whose key is stale. Sleepers queue in lock
//! order, and a sleeper with a stale key queued before any sleeper that registered after the
//! bump (its re-check under the lock would otherwise have seen the new epoch), so a waiter that
//! came after the notify can never absorb it: the lost wake-up a futex `wake(1)` leaves to the
//! kernel's wake order.
//!
//! # Limits
//!
//! The epoch is 32 bits. A waiter that is descheduled between `prepare_wait` and its re-check
//! for exactly a multiple of 2^32 notifies would miss them; the waiter count is 32 bits and
//! bounded by the number of threads.

use core::fmt;
use std::collections::VecDeque;

use crate::{
    CachePadded, Mutex, MutexGuard,
    atomic::{
        AtomicU64,
        Ordering::{Acquire, Relaxed, Release, SeqCst},
        fence,
    },
    mutant,
    thread::{self, Thread},
    time::{self, Duration, Instant},
    wait::TimedOut,
};

/// `state` is `{ epoch: u32, waiters: u32 }`, packed as `epoch << 32 | waiters`.
const EPOCH_SHIFT: u32 = 32;
const ONE_WAITER: u64 = 1;
const ONE_EPOCH: u64 = 1 << EPOCH_SHIFT;
const WAITERS_MASK: u64 = ONE_EPOCH - 1;

fn epoch_of(state: u64) -> u32 {
    (state >> EPOCH_SHIFT) as u32
}

/// Blocks threads on an arbitrary condition without lost wake-ups.
///
/// `Send + Sync`: share it by reference or in an `Arc`. Waiters and notifiers may be any
/// threads; a notify with nobody registered costs one `SeqCst` fence and one load.
///
/// ```
/// use gearset_sync::{
///     Arc, EventCount,
///     atomic::{AtomicU32, Ordering::{Acquire, Release}},
///     thread,
/// };
///
/// let shared = Arc::new((AtomicU32::new(0), EventCount::new()));
/// let consumer = {
///     let shared = Arc::clone(&shared);
///     thread::spawn(move || {
///         // Acquire: pairs with the Release `fetch_add` of the producer.
///         shared.1.wait_until(|| (shared.0.load(Acquire) >= 3).then_some(()))
///     })
/// };
/// for _ in 0..3 {
///     // Release: publishes this item to the consumer's Acquire load.
///     shared.0.fetch_add(1, Release);
///     shared.1.notify_one();
/// }
/// consumer.join().unwrap();
/// ```
pub struct EventCount {
    /// `{ epoch, waiters }` (see `EPOCH_SHIFT`). `waiters` is incremented by `prepare_wait` and
    /// decremented when its `Key` is dropped; `epoch` is bumped by notifiers that saw
    /// `waiters > 0`. Written by both sides, hence its own cache line.
    state: CachePadded<AtomicU64>,
    /// Threads parked in `Key::wait`, oldest first. Only touched under this lock.
    sleepers: Mutex<SleeperQueue>,
}

#[derive(Default)]
struct SleeperQueue {
    next_ticket: u64,
    queue: VecDeque<Sleeper>,
}

struct Sleeper {
    ticket: u64,
    /// The epoch in the sleeper's key: it is stale once the epoch moved past it.
    key: u32,
    /// Set by a notifier that chose this sleeper; the sleeper removes its own entry.
    woken: bool,
    thread: Thread,
}

/// A registration made by [`EventCount::prepare_wait`]: wait on it, or drop it to cancel.
///
/// Dropping the key (also by a panic during the re-check) deregisters the waiter, so the
/// waiter count stays exact.
#[must_use = "a Key registers a waiter until it is dropped: wait on it or drop it"]
pub struct Key<'a> {
    event_count: &'a EventCount,
    epoch: u32,
}

impl EventCount {
    /// An event count with no waiters.
    pub fn new() -> Self {
        Self {
            state: CachePadded::new(AtomicU64::new(0)),
            sleepers: Mutex::new(SleeperQueue::default()),
        }
    }

    /// Registers the calling thread as a waiter. Re-check your condition after this, then
    /// [`Key::wait`] if it still does not hold (or drop the key if it does).
    ///
    /// ```
    /// let ec = gearset_sync::EventCount::new();
    /// let key = ec.prepare_wait();
    /// ec.notify_all();
    /// key.wait(); // returns at once: the notify came after prepare_wait
    /// ```
    pub fn prepare_wait(&self) -> Key<'_> {
        // SeqCst RMW: registers the waiter and reads the epoch in one step. [TLA: PrepareWait]
        let prev = self.state.fetch_add(ONE_WAITER, SeqCst);
        crate::trace_action!(
            "PrepareWait",
            "waiters' = {} /\\ key'[SELF] = {} /\\ pc'[SELF] # pc[SELF]",
            (prev & WAITERS_MASK) + 1,
            epoch_of(prev)
        );
        debug_assert!(
            prev & WAITERS_MASK < WAITERS_MASK,
            "EventCount waiter count overflow"
        );
        // SeqCst fence: orders the registration above before the caller's re-check of its
        // condition (a load), against the fence in `notify` that orders the notifier's
        // condition store before its load of `state`: the Dekker case analysis in the module
        // docs. loom reads SeqCst RMWs as AcqRel (loom#180) but models this fence.
        if !mutant::on("eventcount_no_prepare_fence") {
            fence(SeqCst);
        }
        Key {
            event_count: self,
            epoch: epoch_of(prev),
        }
    }

    /// Wakes one thread waiting on a key taken before this call, if there is one (and every
    /// waiter that has not gone to sleep yet, which will see the epoch move). Call it after
    /// making the condition true.
    pub fn notify_one(&self) {
        self.notify(Wake::One);
    }

    /// Wakes every thread waiting on a key taken before this call. Call it after making the
    /// condition true.
    pub fn notify_all(&self) {
        self.notify(Wake::All);
    }

    /// Blocks until `ready` returns `Some`, and returns its value: the classic
    /// check / prepare / re-check / wait loop.
    ///
    /// `ready` must read the condition with `Acquire` (or stronger) to see the data the
    /// notifier published.
    pub fn wait_until<T>(&self, ready: impl FnMut() -> Option<T>) -> T {
        match self.wait_until_deadline(ready, None) {
            Ok(value) => value,
            Err(TimedOut) => unreachable!("a wait without deadline timed out"),
        }
    }

    /// Like [`wait_until`](Self::wait_until), but gives up at `deadline` (if any) with
    /// [`TimedOut`], after one last check of `ready`.
    ///
    /// ```
    /// use gearset_sync::{EventCount, time::{Duration, deadline_after}, wait::TimedOut};
    ///
    /// let ec = EventCount::new();
    /// let never = ec.wait_until_deadline(|| None::<()>, deadline_after(Duration::from_millis(1)));
    /// assert_eq!(never, Err(TimedOut));
    /// ```
    pub fn wait_until_deadline<T>(
        &self,
        mut ready: impl FnMut() -> Option<T>,
        deadline: Option<Instant>,
    ) -> Result<T, TimedOut> {
        loop {
            if let Some(value) = ready() {
                return Ok(value);
            }
            let key = self.prepare_wait();
            // The re-check: a notify that ran before `prepare_wait` saw no waiter and bumped
            // nothing, so its condition must be visible here. [TLA: Recheck]
            // (`cargo xtask loom` runs the mutant without it and expects loom to fail.)
            if !mutant::on("eventcount_no_recheck")
                && let Some(value) = ready()
            {
                return Ok(value); // `key` drops: cancel. [TLA: Deregister]
            }
            match deadline {
                None => key.wait(),
                Some(deadline) => {
                    if key.wait_deadline(deadline).is_err() {
                        return ready().ok_or(TimedOut);
                    }
                }
            }
        }
    }

    fn notify(&self, wake: Wake) {
        // SeqCst fence: orders the caller's condition store before the load of `state`
        // below; pairs with the fence in `prepare_wait` (Dekker, module docs). [TLA: LoadWaiters]
        if !mutant::on("eventcount_no_notify_fence") {
            fence(SeqCst);
        }
        // Relaxed: the fence above gives this load its ordering; it only decides the fast path.
        if self.state.load(Relaxed) & WAITERS_MASK == 0 {
            crate::trace_action!("LoadWaiters", "npc' # \"bump\"");
            return;
        }
        crate::trace_action!("LoadWaiters", "npc' = \"bump\"");
        // Release: a waiter that reads the new epoch with Acquire (`EventCount::epoch`) also
        // sees the condition the caller made true. [TLA: BumpEpoch]
        // `prev` is read only by the trace below, compiled in under `--cfg gearset_trace`.
        #[cfg_attr(not(gearset_trace), allow(unused_variables))]
        let prev = self.state.fetch_add(ONE_EPOCH, Release);
        crate::trace_action!("BumpEpoch", "epoch' = {}", epoch_of(prev).wrapping_add(1));
        let epoch = self.epoch();
        // Mark under the lock, unpark outside it so a woken thread does not block on the lock
        // at once. An unpark that lands before the sleeper's park is kept as a token.
        // [TLA: ScanQueue, then Unpark]
        match wake {
            Wake::One => {
                let chosen = {
                    let mut sleepers = self.lock_sleepers();
                    let chosen = sleepers
                        .queue
                        .iter_mut()
                        .find_map(|s| s.mark_if_stale(epoch));
                    crate::trace_action!("ScanQueue", "toUnpark' = {}", trace_roles(chosen.iter()));
                    chosen
                };
                if let Some(thread) = chosen {
                    thread.unpark();
                }
            }
            Wake::All => {
                let chosen: Vec<Thread> = {
                    let mut sleepers = self.lock_sleepers();
                    let chosen: Vec<Thread> = sleepers
                        .queue
                        .iter_mut()
                        .filter_map(|s| s.mark_if_stale(epoch))
                        .collect();
                    crate::trace_action!("ScanQueue", "toUnpark' = {}", trace_roles(chosen.iter()));
                    chosen
                };
                chosen.into_iter().for_each(|thread| thread.unpark());
            }
        }
        crate::trace_action!("Unpark", "toUnpark' = {{}}");
    }

    /// Acquire: pairs with the Release epoch bump in `notify`.
    fn epoch(&self) -> u32 {
        epoch_of(self.state.load(Acquire))
    }

    fn lock_sleepers(&self) -> MutexGuard<'_, SleeperQueue> {
        // The queue holds no invariant a panicking holder could break half-way (each critical
        // section is one push, one flag write or one removal), so poisoning is ignored.
        self.sleepers
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Parks until woken, the epoch moves past `key`, or `deadline` passes.
    fn sleep(&self, key: u32, deadline: Option<Instant>) -> Result<(), TimedOut> {
        let ticket = {
            let mut sleepers = self.lock_sleepers();
            // The re-check under the lock: the epoch-vs-sleep case analysis in the module docs.
            // [TLA: Enqueue] (`cargo xtask loom` runs the mutant without it.)
            if self.epoch() != key && !mutant::on("eventcount_no_locked_recheck") {
                crate::trace_action!("Enqueue", "pc'[SELF] = \"dereg\" /\\ pc'[SELF] # pc[SELF]");
                return Ok(());
            }
            let ticket = sleepers.next_ticket;
            sleepers.next_ticket += 1;
            let thread = thread::current();
            sleepers.queue.push_back(Sleeper {
                ticket,
                key,
                woken: false,
                thread,
            });
            crate::trace_action!(
                "Enqueue",
                "pc'[SELF] = \"asleep\" /\\ pc'[SELF] # pc[SELF] /\\ queue' = {}",
                trace_queue(&sleepers.queue)
            );
            ticket
        };
        loop {
            if let Some(deadline) = deadline {
                if !time::expired(deadline) {
                    thread::park_timeout(time::remaining(deadline));
                }
            } else {
                thread::park(); // returns after `Unpark`. [TLA: Wake]
            }
            let mut sleepers = self.lock_sleepers();
            let index = sleepers.queue.iter().position(|s| s.ticket == ticket);
            let index = index.expect("a sleeper's queue entry is removed only by itself");
            // [TLA: Wake]
            let woken = sleepers.queue[index].woken || self.epoch() != key;
            let timed_out = deadline.is_some_and(time::expired);
            if woken || timed_out {
                sleepers.queue.remove(index);
                crate::trace_action!(
                    "Wake",
                    "pc'[SELF] = \"dereg\" /\\ pc'[SELF] # pc[SELF] /\\ queue' = {}",
                    trace_queue(&sleepers.queue)
                );
                return if woken { Ok(()) } else { Err(TimedOut) };
            }
            // Woken by a stale unpark token: the spec's Wake that consumes it and sleeps on.
            crate::trace_action!(
                "Wake",
                "pc[SELF] = \"asleep\" /\\ pc' = pc /\\ token' = [token EXCEPT ![SELF] = FALSE]"
            );
        }
    }
}

impl Sleeper {
    /// Chooses this sleeper for a wake-up if nobody chose it yet and its key is older than
    /// `epoch`; returns its thread to unpark.
    fn mark_if_stale(&mut self, epoch: u32) -> Option<Thread> {
        if self.woken || self.key == epoch {
            return None;
        }
        self.woken = true;
        Some(self.thread.clone())
    }
}

/// The spec's `queue`: the sleepers' roles, oldest first (`<<w1, w2>>`).
#[cfg(gearset_trace)]
fn trace_queue(queue: &VecDeque<Sleeper>) -> String {
    let roles: Vec<String> = queue
        .iter()
        .map(|s| crate::trace::role_of(s.thread.id()))
        .collect();
    format!("<<{}>>", roles.join(", "))
}

/// A set of threads as the spec's set of roles (`{w1}`).
#[cfg(gearset_trace)]
fn trace_roles<'a>(threads: impl Iterator<Item = &'a Thread>) -> String {
    let roles: Vec<String> = threads.map(|t| crate::trace::role_of(t.id())).collect();
    format!("{{{}}}", roles.join(", "))
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Wake {
    One,
    All,
}

impl Default for EventCount {
    fn default() -> Self {
        Self::new()
    }
}

impl fmt::Debug for EventCount {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Relaxed: a diagnostic snapshot, ordered with nothing.
        let state = self.state.load(Relaxed);
        f.debug_struct("EventCount")
            .field("epoch", &epoch_of(state))
            .field("waiters", &(state & WAITERS_MASK))
            .finish()
    }
}

impl Key<'_> {
    /// Blocks until a notify issued after this key's `prepare_wait` wakes this thread. It may
    /// also return spuriously (after any later notify); re-check the condition afterwards.
    pub fn wait(self) {
        let woken = self.event_count.sleep(self.epoch, None);
        debug_assert!(woken.is_ok(), "a wait without deadline timed out");
    }

    /// Like [`wait`](Self::wait), but gives up when `deadline` passes.
    pub fn wait_deadline(self, deadline: Instant) -> Result<(), TimedOut> {
        self.event_count.sleep(self.epoch, Some(deadline))
    }

    /// Like [`wait`](Self::wait), but gives up after `timeout`.
    pub fn wait_timeout(self, timeout: Duration) -> Result<(), TimedOut> {
        match time::deadline_after(timeout) {
            Some(deadline) => self.wait_deadline(deadline),
            None => {
                self.wait();
                Ok(())
            }
        }
    }

    /// Deregisters without waiting (what dropping the key does).
    pub fn cancel(self) {}
}

impl Drop for Key<'_> {
    fn drop(&mut self) {
        // Relaxed: deregistering hands no data over; it only lets notifiers take the fast
        // path again. [TLA: Deregister]
        // `prev` is read only by the trace below, compiled in under `--cfg gearset_trace`.
        #[cfg_attr(not(gearset_trace), allow(unused_variables))]
        let prev = self.event_count.state.fetch_sub(ONE_WAITER, Relaxed);
        crate::trace_action!(
            "Deregister",
            "waiters' = {} /\\ pc'[SELF] # pc[SELF]",
            (prev & WAITERS_MASK) - 1
        );
    }
}

impl fmt::Debug for Key<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Key")
            .field("epoch", &self.epoch)
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    //! Single-threaded: the orderings in these tests pair with nothing.
    use super::*;

    #[test]
    fn notify_without_waiters_leaves_the_epoch_alone() {
        let ec = EventCount::new();
        ec.notify_all();
        ec.notify_one();
        assert_eq!(ec.state.load(Relaxed), 0);
    }

    #[test]
    fn key_drop_deregisters() {
        let ec = EventCount::new();
        let a = ec.prepare_wait();
        let b = ec.prepare_wait();
        assert_eq!(ec.state.load(Relaxed) & WAITERS_MASK, 2);
        drop(a);
        b.cancel();
        assert_eq!(ec.state.load(Relaxed) & WAITERS_MASK, 0);
    }

    #[test]
    fn notify_after_prepare_makes_wait_return() {
        let ec = EventCount::new();
        let key = ec.prepare_wait();
        ec.notify_one();
        key.wait();
        assert_eq!(epoch_of(ec.state.load(Relaxed)), 1);
    }

    #[test]
    fn stale_key_never_sleeps_even_with_expired_deadline() {
        let ec = EventCount::new();
        let key = ec.prepare_wait();
        ec.notify_all();
        assert_eq!(key.wait_deadline(Instant::now()), Ok(()));
    }

    #[test]
    fn fresh_key_times_out() {
        let ec = EventCount::new();
        let key = ec.prepare_wait();
        assert_eq!(key.wait_timeout(Duration::from_millis(1)), Err(TimedOut));
        assert!(
            ec.lock_sleepers().queue.is_empty(),
            "a timed-out sleeper left its entry"
        );
    }

    #[test]
    fn debug_shows_epoch_and_waiters() {
        let ec = EventCount::new();
        let _key = ec.prepare_wait();
        assert_eq!(format!("{ec:?}"), "EventCount { epoch: 0, waiters: 1 }");
    }
}
