//! The pool handle: building it on a topology, entering it from outside, spawning, waiting for
//! quiescence, and shutting down.

use core::fmt;
use std::{boxed::Box, panic, vec::Vec};

use gearset_hqueue::{Config, LevelKind, Source, Topology};
use gearset_sync::{
    Arc, Condvar, Mutex,
    atomic::{AtomicU64, Ordering::Relaxed},
    thread::{self, JoinHandle as ThreadHandle},
};

use crate::{
    Context, Scope, Stats,
    job::{HeapJob, JobRef, Panic},
    join::resume,
    registry::Registry,
    worker,
};

/// Why a pool could not be built.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BuildError {
    /// The confinement left no leaf of the topology to run a worker on (an `index` beyond
    /// the number of nodes of that level).
    NoWorkers,
    /// Pinning was asked for on a topology that is not this machine's (synthetic or flat).
    CannotPin,
}

impl fmt::Display for BuildError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::NoWorkers => f.write_str("the confinement leaves no worker"),
            Self::CannotPin => f.write_str("cannot pin threads on a synthetic or flat topology"),
        }
    }
}

impl std::error::Error for BuildError {}

/// Configures a [`Pool`]: the topology, pinning, and confinement to part of the machine.
///
/// ```
/// use gearset_hqueue::{LevelKind, Topology};
/// let topology = Topology::synthetic("numa:2 core:2")?;
/// let pool = gearset_sched::Pool::builder()
///     .topology(topology)
///     .confine(LevelKind::Numa, 1) // only the second NUMA node's cores
///     .build()?;
/// assert_eq!(pool.workers(), 2);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, Default)]
pub struct Builder {
    topology: Option<Topology>,
    config: Option<Config>,
    pin: bool,
    confine: Option<(LevelKind, usize)>,
}

impl Builder {
    /// The machine to follow: one worker per leaf (core). Default: this machine, read from
    /// sysfs (`Topology::discover`).
    pub fn topology(mut self, topology: Topology) -> Self {
        self.topology = Some(topology);
        self
    }

    /// A flat machine of `workers` cores (at least 1): the topology for a plain thread pool.
    pub fn workers(self, workers: usize) -> Self {
        self.topology(Topology::flat(
            workers.max(1),
            "gearset-sched Builder::workers",
        ))
    }

    /// The queue tree's sizes (`gearset_hqueue::Config`). Default: `Config::default()`.
    pub fn queue_config(mut self, config: Config) -> Self {
        self.config = Some(config);
        self
    }

    /// Pins each worker to its leaf's CPUs. Needs a topology read from this machine.
    pub fn pin(mut self, pin: bool) -> Self {
        self.pin = pin;
        self
    }

    /// Runs workers only on the leaves under the `index`-th node of kind `level` (a NUMA node,
    /// an L3 group, a package), counted in leaf order: a pool confined to part of the machine.
    /// The other leaves' queues stay empty.
    pub fn confine(mut self, level: LevelKind, index: usize) -> Self {
        self.confine = Some((level, index));
        self
    }

    /// Starts the workers.
    pub fn build(self) -> Result<Pool, BuildError> {
        let topology = self.topology.unwrap_or_else(Topology::discover);
        if self.pin && !matches!(topology.source(), Source::Sysfs(_)) {
            return Err(BuildError::CannotPin);
        }
        let leaves = confined_leaves(&topology, self.confine)?;
        let config = self.config.unwrap_or_default();
        Ok(Pool::start(topology, config, &leaves, self.pin))
    }
}

/// The leaves a confinement keeps: those whose `level` ancestor is the `index`-th one.
fn confined_leaves(
    topology: &Topology,
    confine: Option<(LevelKind, usize)>,
) -> Result<Vec<usize>, BuildError> {
    let all = 0..topology.leaf_count();
    let Some((level, index)) = confine else {
        return Ok(all.collect());
    };
    let groups = topology.count(level).max(1);
    let per_group = topology.leaf_count() / groups;
    let leaves: Vec<usize> = all
        .filter(|&leaf| per_group > 0 && leaf / per_group == index)
        .collect();
    if leaves.is_empty() {
        return Err(BuildError::NoWorkers);
    }
    Ok(leaves)
}

/// A pool of worker threads, one per leaf of a `gearset-hqueue` topology.
///
/// Enter it from outside with [`install`](Self::install), [`join`](Self::join),
/// [`scope`](Self::scope), [`par_for`](Self::par_for), [`spawn`](Self::spawn) or
/// [`supersteps`](Self::supersteps); inside a job, fork through the [`Context`] the job gets.
/// Idle workers sleep on an event count. Dropping the pool waits until no job is pending
/// (detached spawns included), then wakes and joins every worker; drop it outside its own
/// jobs (dropping it inside one panics, see `Drop`).
///
/// `Send + Sync`: share it by reference or in an `Arc`.
///
/// ```
/// let pool = gearset_sched::Pool::new(2);
/// let (a, b) = pool.join(|_| 1 + 1, |_| 2 + 2);
/// assert_eq!((a, b), (2, 4));
/// ```
pub struct Pool {
    registry: Arc<Registry>,
    threads: Vec<ThreadHandle<()>>,
    /// Serializes `supersteps` runs: each needs every worker.
    bsp: Mutex<()>,
    /// Dataflow frames sent and not yet received back, over all graphs (a statistic).
    frames_in_flight: Arc<AtomicU64>,
}

impl Pool {
    /// A pool of `workers` threads on a flat topology (at least 1).
    pub fn new(workers: usize) -> Self {
        Self::builder()
            .workers(workers)
            .build()
            .expect("a flat topology without pinning always builds")
    }

    /// A [`Builder`] for a pool on a topology, pinned or confined.
    pub fn builder() -> Builder {
        Builder::default()
    }

    fn start(topology: Topology, config: Config, leaves: &[usize], pin: bool) -> Self {
        let (injector, queues) = gearset_hqueue::new::<JobRef>(topology, config);
        let queues: Vec<_> = queues
            .into_iter()
            .filter(|q| leaves.contains(&q.leaf()))
            .collect();
        let registry = Arc::new(Registry::new(injector, queues.len()));
        let threads = queues
            .into_iter()
            .enumerate()
            .map(|(index, queue)| {
                let registry = Arc::clone(&registry);
                thread::spawn(move || {
                    if pin {
                        // Best effort: a failure leaves the thread unpinned.
                        let _ = queue.pin();
                    }
                    registry
                        .thread_ids
                        .lock()
                        .unwrap_or_else(|e| e.into_inner())
                        .push(thread::current().id());
                    worker::main_loop(registry, queue, index);
                })
            })
            .collect();
        Self {
            registry,
            threads,
            bsp: Mutex::new(()),
            frames_in_flight: Arc::new(AtomicU64::new(0)),
        }
    }

    /// The number of worker threads.
    pub fn workers(&self) -> usize {
        self.registry.workers.len()
    }

    /// Runs `f` on a worker and returns its result, blocking the calling thread; a panic in
    /// `f` is re-raised here.
    ///
    /// Panics if called from one of this pool's own workers (it would block the worker that
    /// has to run `f`): inside a job, use the `Context` you were given.
    ///
    /// ```
    /// let pool = gearset_sched::Pool::new(2);
    /// let v = vec![1, 2, 3];
    /// assert_eq!(pool.install(|_| v.iter().sum::<i32>()), 6);
    /// ```
    pub fn install<F, R>(&self, f: F) -> R
    where
        F: FnOnce(&mut Context<'_>) -> R + Send,
        R: Send,
    {
        self.assert_outside("install");
        // `wait` may return (and this frame, with what `f` borrows from it, be freed) as soon as
        // `fill` unlocks: the packet is shared, not borrowed, and `fill` runs after `f` has
        // returned (`packet_job`; NoLiveBorrowAtRelease in `job.rs`).
        let packet = Arc::new(Packet::<R>::default());
        self.registry.inject(packet_job(f, &packet));
        match packet.wait() {
            Ok(r) => r,
            Err(p) => resume(p),
        }
    }

    /// `join` from outside the pool: [`install`](Self::install) then
    /// [`Context::join`].
    ///
    /// ```
    /// let pool = gearset_sched::Pool::new(2);
    /// assert_eq!(pool.join(|_| "a", |_| "b"), ("a", "b"));
    /// ```
    pub fn join<A, B, RA, RB>(&self, a: A, b: B) -> (RA, RB)
    where
        A: FnOnce(&mut Context<'_>) -> RA + Send,
        B: FnOnce(&mut Context<'_>) -> RB + Send,
        RA: Send,
        RB: Send,
    {
        self.install(|cx| cx.join(a, b))
    }

    /// `scope` from outside the pool: [`install`](Self::install) then
    /// [`Context::scope`].
    ///
    /// ```
    /// let pool = gearset_sched::Pool::new(2);
    /// let mut v = vec![0; 3];
    /// pool.scope(|s, _| {
    ///     for (i, x) in v.iter_mut().enumerate() {
    ///         s.spawn(move |_| *x = i);
    ///     }
    /// });
    /// assert_eq!(v, [0, 1, 2]);
    /// ```
    pub fn scope<'env, F, R>(&self, f: F) -> R
    where
        F: for<'scope> FnOnce(&'scope Scope<'scope, 'env>, &mut Context<'_>) -> R + Send,
        R: Send,
    {
        self.install(|cx| cx.scope(f))
    }

    /// `par_for` from outside the pool: [`install`](Self::install) then
    /// [`Context::par_for`].
    ///
    /// ```
    /// use gearset_sync::atomic::{AtomicUsize, Ordering::Relaxed};
    /// let pool = gearset_sched::Pool::new(2);
    /// let hits = AtomicUsize::new(0);
    /// pool.par_for(0..100, 8, |_| {
    ///     hits.fetch_add(1, Relaxed);
    /// });
    /// assert_eq!(hits.into_inner(), 100);
    /// ```
    pub fn par_for<F>(&self, range: core::ops::Range<usize>, grain: usize, f: F)
    where
        F: Fn(usize) + Sync + Send,
    {
        self.install(|cx| cx.par_for(range, grain, f))
    }

    /// Spawns a detached job; the returned handle gives its result (or its panic) back.
    /// Dropping the handle detaches the job for good (a panic is then dropped). The pool's
    /// drop waits for every spawned job.
    ///
    /// ```
    /// let pool = gearset_sched::Pool::new(2);
    /// let handle = pool.spawn(|_| 6 * 7);
    /// assert_eq!(handle.join().unwrap(), 42);
    /// let failing = pool.spawn(|_| -> u8 { panic!("boom") });
    /// assert!(failing.join().is_err());
    /// ```
    pub fn spawn<F, R>(&self, f: F) -> JoinHandle<R>
    where
        F: FnOnce(&mut Context<'_>) -> R + Send + 'static,
        R: Send + 'static,
    {
        let packet = Arc::new(Packet::<R>::default());
        self.registry.inject(packet_job(f, &packet));
        JoinHandle {
            packet,
            registry: Arc::clone(&self.registry),
        }
    }

    /// Blocks until no job is pending anywhere (queued or running): the pool is quiescent.
    /// Jobs pushed after this returns are not waited for.
    ///
    /// ```
    /// let pool = gearset_sched::Pool::new(2);
    /// for _ in 0..10 {
    ///     drop(pool.spawn(|_| ()));
    /// }
    /// pool.wait_idle();
    /// assert_eq!(pool.stats().pending, 0);
    /// ```
    pub fn wait_idle(&self) {
        self.assert_outside("wait_idle");
        self.registry.wait_quiet();
    }

    /// A snapshot of the pool's counters: see [`Stats`].
    pub fn stats(&self) -> Stats {
        // Relaxed: a snapshot for display.
        let idle = self.registry.idle.load(Relaxed);
        let mut stats = Stats::collect(
            &self.registry.workers,
            self.registry.counts_snapshot(),
            idle,
        );
        // Relaxed: a statistic, written with Relaxed RMWs by `Flow::{try_send, recv}`.
        stats.frames_in_flight = self.frames_in_flight.load(Relaxed);
        stats
    }

    /// Starts a dataflow graph whose nodes run as this pool's jobs: see the
    /// [`dataflow`](crate::dataflow) module.
    ///
    /// ```
    /// let pool = gearset_sched::Pool::new(2);
    /// let mut graph = pool.dataflow::<u8>();
    /// let next = graph.node(graph.source(), |x| x + 1)?;
    /// assert_eq!(graph.build(next, 1)?.run([1]), [Ok(2)]);
    /// # Ok::<(), gearset_sched::GraphError>(())
    /// ```
    pub fn dataflow<T: Clone + Send + Sync + 'static>(&self) -> crate::Graph<'_, T> {
        crate::Graph::new(
            Arc::clone(&self.registry),
            Arc::clone(&self.frames_in_flight),
        )
    }

    /// Runs `f` with exclusive use of the BSP lock: one superstep run at a time.
    pub(crate) fn bsp_lock(&self) -> gearset_sync::MutexGuard<'_, ()> {
        self.bsp.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn assert_outside(&self, what: &str) {
        assert!(
            !on_worker(&self.registry),
            "Pool::{what} called from one of the pool's own workers: use the job's Context"
        );
    }
}

/// `true` if the calling thread is one of the pool's workers (a blocking call there could
/// wait for the very worker it blocks).
pub(crate) fn on_worker(registry: &Registry) -> bool {
    let me = thread::current().id();
    registry
        .thread_ids
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .contains(&me)
}

impl Drop for Pool {
    /// Waits for quiescence, sets the shutdown bit, wakes every worker and joins them.
    ///
    /// Panics if the last handle is dropped by one of the pool's own workers (inside a job):
    /// that worker would wait for its own job to finish. The job's panic is caught like any
    /// other; the pool's threads then stay parked until the process exits.
    fn drop(&mut self) {
        self.assert_outside("drop");
        self.registry.wait_quiet();
        self.registry.shut_down();
        for thread in self.threads.drain(..) {
            // Workers catch every job's panic; a worker thread cannot end in one.
            let _ = thread.join();
        }
        gearset_sync::trace_action!("Joined", "npc' # npc");
    }
}

impl fmt::Debug for Pool {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Pool")
            .field("workers", &self.workers())
            .finish_non_exhaustive()
    }
}

/// A job that runs `f` and leaves its outcome (or panic) in `packet`, for `install` and
/// `spawn`. The packet is filled by the job's `complete`, after `f` has returned, through the
/// job's own `Arc`: the waiter may free its frame and drop its `Arc` as soon as `fill` unlocks.
fn packet_job<F, R>(f: F, packet: &Arc<Packet<R>>) -> JobRef
where
    F: FnOnce(&mut Context<'_>) -> R + Send,
    R: Send,
{
    let packet = Arc::clone(packet);
    HeapJob::into_job_ref(
        move |cx: &mut Context<'_>| panic::catch_unwind(panic::AssertUnwindSafe(|| f(cx))),
        move |outcome: &mut Option<Result<R, Panic>>| packet.fill(outcome),
    )
}

/// Where a job leaves its outcome for a blocked thread.
struct Packet<R> {
    outcome: Mutex<Option<Result<R, Panic>>>,
    ready: Condvar,
}

impl<R> Default for Packet<R> {
    fn default() -> Self {
        Self {
            outcome: Mutex::new(None),
            ready: Condvar::new(),
        }
    }
}

impl<R> Packet<R> {
    /// Moves `outcome` in and wakes the waiter. Takes the outcome behind a `&mut`, not by
    /// value: borrows inside `R` must not be arguments of this call, which outlasts the unlock
    /// that lets the waiter return (NoLiveBorrowAtRelease in `job.rs`).
    fn fill(&self, outcome: &mut Option<Result<R, Panic>>) {
        let mut slot = self.outcome.lock().unwrap_or_else(|e| e.into_inner());
        *slot = outcome.take();
        // Notify while holding the lock: the waiter cannot miss it. (The waiter may free its
        // reference as soon as the lock is released; every filler holds an `Arc` of its own.)
        self.ready.notify_all();
        drop(slot);
    }

    fn wait(&self) -> Result<R, Panic> {
        let mut slot = self.outcome.lock().unwrap_or_else(|e| e.into_inner());
        loop {
            if let Some(outcome) = slot.take() {
                return outcome;
            }
            slot = self.ready.wait(slot).unwrap_or_else(|e| e.into_inner());
        }
    }

    fn is_filled(&self) -> bool {
        self.outcome
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .is_some()
    }
}

/// The result of a [`Pool::spawn`]ed job, when it is done.
///
/// `Send` (when `R` is); dropping it detaches the job.
pub struct JoinHandle<R> {
    packet: Arc<Packet<R>>,
    registry: Arc<Registry>,
}

impl<R> JoinHandle<R> {
    /// Blocks until the job is done; `Err` holds its panic payload.
    ///
    /// Panics if called from one of the pool's own workers (it would block a worker the job
    /// may need).
    pub fn join(self) -> Result<R, Box<dyn core::any::Any + Send + 'static>> {
        let me = thread::current().id();
        let inside = self
            .registry
            .thread_ids
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .contains(&me);
        assert!(
            !inside,
            "JoinHandle::join called from one of the pool's own workers"
        );
        self.packet.wait()
    }

    /// Whether the job is done (monotone: once true, stays true until `join`).
    ///
    /// ```
    /// let pool = gearset_sched::Pool::new(1);
    /// let h = pool.spawn(|_| ());
    /// pool.wait_idle();
    /// assert!(h.is_finished());
    /// ```
    pub fn is_finished(&self) -> bool {
        self.packet.is_filled()
    }
}

impl<R> fmt::Debug for JoinHandle<R> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("JoinHandle")
            .field("finished", &self.is_finished())
            .finish()
    }
}

#[cfg(test)]
mod tests {
    //! Small enough for Miri: the hand-offs of `join`, `scope` and `spawn` between threads,
    //! reading plain data after each (happens-before regressions).
    use super::*;

    #[test]
    fn join_result_written_by_another_worker_is_visible() {
        let pool = Pool::new(2);
        for _ in 0..4 {
            let (a, b) = pool.join(|_| vec![1u8; 3], |_| vec![2u8; 5]);
            assert_eq!((a.len(), b.len()), (3, 5));
        }
    }

    #[test]
    fn scope_writes_are_visible_after_the_scope() {
        let pool = Pool::new(2);
        let mut data = [0u32; 4];
        pool.scope(|s, _| {
            for (i, d) in data.iter_mut().enumerate() {
                s.spawn(move |_| *d = i as u32 + 1);
            }
        });
        assert_eq!(data, [1, 2, 3, 4]);
    }

    /// `install` with a closure that borrows `local` and returns a borrow of it: the frame is
    /// freed as soon as `install` returns.
    fn install_borrowing_the_frame(pool: &Pool, i: usize) -> usize {
        let local = [i, i + 1];
        let second: &usize = pool.install(|_| &local[1]);
        *second
    }

    /// Regression (Stacked Borrows, found by Miri): the worker released the waiter while the
    /// job's closure (whose captures are protected until it returns) and the packet's `fill`
    /// (whose argument held the returned borrow) were still running, so the waiter could free
    /// borrowed memory that was still protected. [NoLiveBorrowAtRelease]
    #[test]
    fn install_may_free_what_its_job_borrowed_as_soon_as_it_returns() {
        let pool = Pool::new(2);
        for i in 0..8 {
            assert_eq!(install_borrowing_the_frame(&pool, i), i + 1);
        }
    }

    /// A scope whose jobs borrow `hits` from this frame; the scope (in the install job's frame)
    /// and `hits` are freed once the last job's decrement lets the owner return.
    fn scope_counting(pool: &Pool, jobs: usize) -> usize {
        let hits = AtomicU64::new(0);
        pool.scope(|s, _| {
            for _ in 0..jobs {
                s.spawn(|_| {
                    // Relaxed: read after the scope, which waited for every job (Acquire).
                    hits.fetch_add(1, Relaxed);
                });
            }
        });
        hits.into_inner() as usize
    }

    /// Regression (Stacked Borrows, found by Miri): a scoped job decremented the scope's count
    /// from inside its closure, which still held the scope (and the user's borrows) as
    /// protected captures when the owner returned and freed them. [ScopeOutlivesJobs]
    #[test]
    fn scope_may_free_itself_as_soon_as_the_last_job_decrements() {
        let pool = Pool::new(2);
        for jobs in 1..6 {
            assert_eq!(scope_counting(&pool, jobs), jobs);
        }
    }

    #[test]
    fn spawned_result_and_shutdown() {
        let pool = Pool::new(2);
        let h = pool.spawn(|_| String::from("done"));
        assert_eq!(h.join().unwrap(), "done");
        drop(pool);
    }
}
