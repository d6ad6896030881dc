//! Fork-join on a worker: `join`, `par_for`, and the helping wait they share with `scope`.
//!
//! # The join fast path
//!
//! `join(a, b)` exposes `b` to other workers only when some worker is idle and the tree holds
//! fewer jobs than there are idle workers (`idle > queued`, two relaxed loads), and the
//! worker's reclaim throttle is open (`expose.rs`: after exposed jobs keep coming back
//! unstolen, joins that find demand run inline for a while). Otherwise it calls `a` then `b`
//! inline: no allocation, no atomic read-modify-write, no fence — the cost of two calls and
//! two loads. This is demand-driven splitting: the work is divided when a thief exists, at the
//! join that happens to be running then (Lazy Binary Splitting, Tzannes et al., PPoPP 2010;
//! chili/Spice split on a heartbeat instead of on demand).
//!
//! When `b` is exposed, it lives in the joiner's stack frame ([`StackJob`]) and a two-word
//! [`JobRef`] goes onto the worker's own leaf queue, announced in `counts`, with a
//! `notify_one` so a sleeping worker wakes. After `a`, the joiner pops its own leaf (where `b`
//! is, unless a thief took it) and runs what it finds, or climbs the tree to help others,
//! until `b` is done. It never leaves the frame before `b` is done: the pointer cannot dangle.
//! Whether it ran `b` itself (reclaimed) or a thief did (stolen) feeds the throttle.
//!
//! Trade-off: a worker deep in a long sequential stretch without joins cannot share work (the
//! same limit as chili); put joins or a `par_for` grain in the long stretches.

use core::ops::Range;
use std::panic;

use gearset_sync::{Backoff, atomic::Ordering::Relaxed};

use crate::{
    Context,
    job::{JobRef, Panic, StackJob},
    registry::queued,
    stats::WorkerCounters,
};

impl Context<'_> {
    /// Runs `a` and `b`, potentially in parallel, and returns both results.
    ///
    /// `b` runs on another worker only if one is idle at this moment; otherwise both run here,
    /// `a` first, at the cost of two plain loads (no allocation). A panic in either closure
    /// reaches the caller, after both have finished (if `a` panics and `b` was not exposed,
    /// `b` does not run, as in sequential code).
    ///
    /// ```
    /// fn fib(cx: &mut gearset_sched::Context<'_>, n: u64) -> u64 {
    ///     if n < 2 {
    ///         return n;
    ///     }
    ///     let (a, b) = cx.join(|cx| fib(cx, n - 1), |cx| fib(cx, n - 2));
    ///     a + b
    /// }
    /// let pool = gearset_sched::Pool::new(2);
    /// assert_eq!(pool.install(|cx| fib(cx, 20)), 6765);
    /// ```
    #[inline]
    pub fn join<A, B, RA, RB>(&mut self, a: A, b: B) -> (RA, RB)
    where
        A: FnOnce(&mut Context<'_>) -> RA + Send,
        B: FnOnce(&mut Context<'_>) -> RB + Send,
        RA: Send,
        RB: Send,
    {
        if !self.demand() || self.throttle.holds() {
            let ra = a(self);
            return (ra, b(self));
        }
        self.join_exposed(a, b)
    }

    /// Whether an idle worker would take an exposed job: more idle workers than queued jobs.
    #[inline]
    fn demand(&self) -> bool {
        // Relaxed: a hint (see `Context::enter_idle`); a stale read only changes where `b`
        // runs, never whether it runs.
        let idle = self.registry.idle.load(Relaxed);
        idle != 0 && idle as u64 > queued(self.registry.counts_snapshot())
    }

    #[inline(never)]
    fn join_exposed<A, B, RA, RB>(&mut self, a: A, b: B) -> (RA, RB)
    where
        A: FnOnce(&mut Context<'_>) -> RA + Send,
        B: FnOnce(&mut Context<'_>) -> RB + Send,
        RA: Send,
        RB: Send,
    {
        let job = StackJob::new(b);
        // SAFETY: `job` lives in this frame, and this function does not return or unwind
        // before `job.is_done()` (the wait below runs even when `a` panics).
        let job_ref = unsafe { job.as_job_ref() };
        WorkerCounters::bump(&self.counters.exposed);
        self.registry.push_local(self.queue, job_ref);
        let ra = panic::catch_unwind(panic::AssertUnwindSafe(|| a(self)));
        if self.wait_exposed(&job, job_ref) {
            self.throttle.reclaimed();
        } else {
            self.throttle.reopen();
        }
        let rb = job.into_result();
        match (ra, rb) {
            (Ok(ra), Ok(rb)) => (ra, rb),
            (Err(p), _) | (_, Err(p)) => panic::resume_unwind(p),
        }
    }

    /// `help_until` the exposed `job` is done; returns whether this worker ran it itself (it
    /// came back unstolen) rather than a thief.
    fn wait_exposed<F, R>(&mut self, job: &StackJob<F, R>, job_ref: JobRef) -> bool
    where
        F: FnOnce(&mut Context<'_>) -> R + Send,
        R: Send,
    {
        let mut reclaimed = false;
        self.help_watching(|| job.is_done(), |taken| reclaimed |= taken.is(job_ref));
        reclaimed
    }

    /// Runs jobs from the tree (own leaf first, then climbing) until `done()` holds. Used by
    /// `scope` to wait without blocking the worker.
    pub(crate) fn help_until(&mut self, done: impl Fn() -> bool) {
        self.help_watching(done, |_| {});
    }

    /// [`help_until`](Self::help_until), showing `taken` every job before it runs.
    fn help_watching(&mut self, done: impl Fn() -> bool, mut taken: impl FnMut(JobRef)) {
        let backoff = Backoff::new();
        while !done() {
            match self.try_take() {
                Some(job) => {
                    taken(job);
                    self.execute(job);
                    backoff.reset();
                }
                None => backoff.snooze(),
            }
        }
    }

    /// Calls `f(i)` for every `i` in `range`, splitting the range in halves with
    /// [`join`](Self::join) down to pieces of at most `grain` indices, which run sequentially
    /// (the sequential cutoff). A `grain` of 0 counts as 1.
    ///
    /// ```
    /// use gearset_sync::atomic::{AtomicU64, Ordering::Relaxed};
    /// let pool = gearset_sched::Pool::new(2);
    /// let sum = AtomicU64::new(0);
    /// pool.install(|cx| cx.par_for(0..1000, 64, |i| {
    ///     sum.fetch_add(i as u64, Relaxed);
    /// }));
    /// assert_eq!(sum.load(Relaxed), 499_500);
    /// ```
    pub fn par_for<F>(&mut self, range: Range<usize>, grain: usize, f: F)
    where
        F: Fn(usize) + Sync,
    {
        par_for_split(self, range, grain.max(1), &f);
    }
}

fn par_for_split<F: Fn(usize) + Sync>(
    cx: &mut Context<'_>,
    range: Range<usize>,
    grain: usize,
    f: &F,
) {
    if range.len() <= grain {
        range.for_each(f);
        return;
    }
    let mid = range.start + range.len() / 2;
    cx.join(
        |cx| par_for_split(cx, range.start..mid, grain, f),
        |cx| par_for_split(cx, mid..range.end, grain, f),
    );
}

/// Re-raises a caught panic.
pub(crate) fn resume(payload: Panic) -> ! {
    panic::resume_unwind(payload)
}
