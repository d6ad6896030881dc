//! A worker thread: its [`Context`], its main loop, and its half of the sleep/wake protocol.
//!
//! # The loop (names are `tla/sched/Sched.tla` actions)
//!
//! 1. **Search**: load `counts`. If `queued > 0`, pop from the queue tree (own leaf first,
//!    then climbing nearest first, `gearset-hqueue`), decrement `queued`, run the job
//!    (**Finish** decrements `pending`). A pop can miss a job that is still landing or that
//!    another worker took first; the worker retries, because `queued` says the job exists.
//!    If `queued == 0`, spin a little (`Backoff`), then: shutdown set → **exit**; otherwise
//!    go to sleep.
//! 2. **PrepareWait** (`EventCount::prepare_wait`): announce "I am going to sleep" and read
//!    the epoch.
//! 3. **Recheck**: load `counts` again. Work or shutdown → cancel (drop the key) and search
//!    again. Nothing → sleep (`Key::wait`: **Enqueue**, **Wake**, **Deregister**).
//!
//! Why no wake-up is lost, in cases (invariant `NoLostWakeup`). A job is announced in
//! `counts` before its pusher calls `notify_one`, whose `SeqCst` fence precedes its load of the
//! waiter count; `prepare_wait`'s `SeqCst` fence follows the registration and precedes the
//! re-check's load of `counts`. In the total order of the two fences:
//! 1. the pusher's fence first: the re-check sees `queued > 0` and cancels;
//! 2. the sleeper's fence first: the pusher sees the registration and bumps the epoch; the
//!    sleeper either has not enqueued yet (its locked epoch re-check sees the bump and it does
//!    not sleep) or is queued and gets unparked (`EventCount` module docs).
//!
//! Skipping step 3 is the mutant `sched_no_recheck`: a push that lands between the search
//! and `prepare_wait` finds no registered waiter, and the worker sleeps with a job queued.

use gearset_hqueue::Worker as QueueWorker;
use gearset_sync::{
    Arc, Backoff, MODEL_CHECKED,
    atomic::Ordering::{Acquire, Relaxed},
    mutant,
};

use crate::{
    expose::Throttle,
    job::JobRef,
    registry::{Registry, is_shutdown, queued},
    stats::{SNAPSHOT_EVERY, WorkerCounters},
};

/// The handle of the worker thread running the current job: fork-join goes through it.
///
/// Every job receives one (`|cx| ...`). It is the worker's own queue and its view of the pool,
/// so `join` costs no thread-local lookup. Not `Send`: it belongs to the thread that runs the
/// job, and a closure that moves to another worker receives that worker's `Context`.
///
/// ```
/// let pool = gearset_sched::Pool::new(2);
/// let n = pool.install(|cx| {
///     let (a, b) = cx.join(|_| 1, |_| 2);
///     a + b + cx.index() * 0
/// });
/// assert_eq!(n, 3);
/// ```
pub struct Context<'w> {
    pub(crate) registry: &'w Registry,
    pub(crate) queue: &'w mut QueueWorker<JobRef>,
    pub(crate) counters: &'w WorkerCounters,
    index: usize,
    /// Whether this worker counts itself in `registry.idle` (it found no work and has not
    /// found any since). Owned by this worker.
    idle: bool,
    /// Whether `join` may expose now, given how this worker's recent exposures fared
    /// (`expose.rs`). Owned by this worker.
    pub(crate) throttle: Throttle,
}

/// What a search found.
pub(crate) enum Found {
    Job(JobRef),
    Nothing,
    Exit,
}

impl<'w> Context<'w> {
    /// This worker's index in the pool, `0..pool.workers()`, in leaf order.
    pub fn index(&self) -> usize {
        self.index
    }

    /// The number of workers in the pool.
    pub fn workers(&self) -> usize {
        self.registry.workers.len()
    }

    pub(crate) fn new(
        registry: &'w Registry,
        queue: &'w mut QueueWorker<JobRef>,
        index: usize,
        idle: bool,
    ) -> Self {
        Self {
            registry,
            queue,
            counters: &registry.workers[index],
            index,
            idle,
            throttle: Throttle::default(),
        }
    }

    /// Whether this worker counts itself idle (for a driver that rebuilds contexts).
    #[cfg(gearset_trace)]
    pub(crate) fn is_idle(&self) -> bool {
        self.idle
    }

    /// Runs a job this worker popped and records that it finished. [TLA: Finish]
    pub(crate) fn execute(&mut self, job: JobRef) {
        // SAFETY: the job was popped from the queue tree just now (RunOnce, job alive: a stack
        // job's owner is waiting for it, a heap job is owned by its `JobRef`).
        unsafe { job.run(self) };
        // Count before `finished`: its Release publishes the count to a quiescence waiter,
        // so `wait_idle` then `stats` sees every job it waited for.
        let run = WorkerCounters::bump(&self.counters.tasks_run);
        if run.is_multiple_of(SNAPSHOT_EVERY) {
            self.counters.snapshot_queue(self.queue.stats());
        }
        self.registry.finished();
    }

    /// Pops one job if the tree has one (no sleeping), accounting for it in `counts`.
    pub(crate) fn try_take(&mut self) -> Option<JobRef> {
        // Acquire: pairs with the AcqRel announce of a pusher (`Registry::announce`).
        if queued(self.registry.counts.load(Acquire)) == 0 {
            return None;
        }
        let (_, job) = self.queue.pop()?;
        self.registry.took();
        self.leave_idle();
        Some(job)
    }

    /// Step 1 of the loop: find a job, or decide to sleep or exit. [TLA: Search]
    pub(crate) fn search(&mut self) -> Found {
        let backoff = Backoff::new();
        loop {
            // Acquire: pairs with the AcqRel announce of a pusher. [TLA: Search]
            let counts = self.registry.counts.load(Acquire);
            if queued(counts) > 0 {
                if let Some((_, job)) = self.queue.pop() {
                    let _after = self.registry.took();
                    gearset_sync::trace_action!(
                        "Search",
                        "tasks' = {} /\\ pc'[SELF] = \"run\" /\\ pc'[SELF] # pc[SELF]",
                        queued(_after)
                    );
                    self.leave_idle();
                    return Found::Job(job);
                }
                // Landing, or taken by another worker first: `queued` will move.
                backoff.snooze();
                continue;
            }
            if !self.idle {
                // Announce demand (for `join`), then look again.
                self.enter_idle();
                continue;
            }
            // Spin a little before sleeping; under a model checker, sleep at once (the spin
            // only multiplies interleavings of the same protocol).
            if !MODEL_CHECKED && !backoff.is_completed() {
                backoff.snooze();
                continue;
            }
            // No atomic operation between the load above and this record: the decision is
            // the load's (shuttle switches threads only at atomics and locks).
            let exit = is_shutdown(counts);
            gearset_sync::trace_action!(
                "Search",
                "pc'[SELF] = \"{}\" /\\ pc'[SELF] # pc[SELF]",
                if exit { "exit" } else { "prepare" }
            );
            return if exit { Found::Exit } else { Found::Nothing };
        }
    }

    /// Steps 2 and 3: announce, re-check, sleep. Returns when woken or when the re-check
    /// found work or shutdown. [TLA: PrepareWait, Recheck, Enqueue, Wake, Deregister]
    pub(crate) fn sleep(&mut self) {
        let key = self.registry.sleep.prepare_wait();
        if !mutant::on("sched_no_recheck") && self.recheck_finds_reason() {
            key.cancel();
            return;
        }
        WorkerCounters::bump(&self.counters.parks);
        self.counters.snapshot_queue(self.queue.stats());
        key.wait();
    }

    /// Step 3, the re-check after `prepare_wait`: whether a job is queued or shutdown is set,
    /// so the worker must not sleep. [TLA: Recheck]
    pub(crate) fn recheck_finds_reason(&self) -> bool {
        // Acquire: pairs with the AcqRel announce of a pusher; ordered after the
        // registration by prepare_wait's SeqCst fence (module docs, case analysis).
        let counts = self.registry.counts.load(Acquire);
        let cancel = queued(counts) > 0 || is_shutdown(counts);
        gearset_sync::trace_action!(
            "Recheck",
            "pc'[SELF] = \"{}\" /\\ pc'[SELF] # pc[SELF]",
            if cancel { "cancel" } else { "lock" }
        );
        cancel
    }

    fn enter_idle(&mut self) {
        if !self.idle {
            self.idle = true;
            // Relaxed: the idle count is a hint for `join` (expose or not); a stale value
            // costs a missed or a needless exposure, never a lost job.
            self.registry.idle.fetch_add(1, Relaxed);
        }
    }

    fn leave_idle(&mut self) {
        if self.idle {
            self.idle = false;
            // Relaxed: as in `enter_idle`.
            self.registry.idle.fetch_sub(1, Relaxed);
        }
    }
}

impl core::fmt::Debug for Context<'_> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Context")
            .field("index", &self.index)
            .field("workers", &self.workers())
            .finish_non_exhaustive()
    }
}

/// The body of worker thread `index`: search, run, sleep, until shutdown.
pub(crate) fn main_loop(registry: Arc<Registry>, mut queue: QueueWorker<JobRef>, index: usize) {
    #[cfg(gearset_trace)]
    gearset_sync::trace::set_role(&std::format!("w{}", index + 1));
    let counters = &registry.workers[index];
    let mut cx = Context::new(&registry, &mut queue, index, false);
    loop {
        match cx.search() {
            Found::Job(job) => {
                // A new job: its first joins are its biggest (`expose.rs`).
                cx.throttle.reopen();
                cx.execute(job);
            }
            Found::Nothing => cx.sleep(),
            Found::Exit => break,
        }
    }
    cx.leave_idle();
    counters.snapshot_queue(queue.stats());
}
