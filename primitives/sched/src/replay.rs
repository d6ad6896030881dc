//! A step-by-step driver of the scheduler's protocol, for replaying `tla/sched/Sched.tla`
//! behaviours on one thread (`models/tests/conformance_sched.rs`). Only in `--cfg
//! gearset_trace` builds; not part of the API.
//!
//! Each method is one spec action (or the whole call a few spec actions make up, as
//! documented there) and calls the same functions the worker threads and the pool call.

use core::cell::{Cell, RefCell};
use std::{boxed::Box, vec::Vec};

use gearset_hqueue::{Config, Topology, Worker as QueueWorker};
use gearset_sync::Key;

use crate::{
    Context,
    job::{HeapJob, JobRef},
    registry::{Registry, is_shutdown, pending, queued},
    worker::Found,
};

/// The pool's shared state and its workers' queues, without threads.
#[allow(missing_debug_implementations)]
pub struct Driver {
    registry: Box<Registry>,
    queues: Vec<RefCell<QueueWorker<JobRef>>>,
    idle: Vec<Cell<bool>>,
    /// The job each worker popped and has not finished.
    running: Vec<Cell<Option<JobRef>>>,
}

/// What a worker's search found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SearchOutcome {
    /// It popped a job (spec: `pc' = "run"`).
    Run,
    /// Nothing, and no shutdown: it goes to sleep (`"prepare"`).
    Prepare,
    /// Nothing, and shutdown: it exits (`"exit"`).
    Exit,
}

impl Driver {
    /// A pool of `workers` on a flat topology, with no threads.
    pub fn new(workers: usize) -> Self {
        let topology = Topology::flat(workers, "replay driver");
        let (injector, queues) = gearset_hqueue::new::<JobRef>(topology, Config::default());
        Self {
            registry: Box::new(Registry::new(injector, workers)),
            idle: (0..workers).map(|_| Cell::new(false)).collect(),
            running: (0..workers).map(|_| Cell::new(None)).collect(),
            queues: queues.into_iter().map(RefCell::new).collect(),
        }
    }

    /// `(tasks, pending, shut)`: the spec's view of the `counts` word.
    pub fn counts(&self) -> (u64, u64, bool) {
        let c = self.registry.counts_snapshot();
        (queued(c), pending(c), is_shutdown(c))
    }

    /// Push: announce and push an empty job through the injector (no notify: `notify`).
    pub fn push(&self) {
        self.registry.announce();
        self.registry
            .injector
            .push(0, HeapJob::detached(|_: &mut Context<'_>| {}));
    }

    /// LoadWaiters (with BumpEpoch, ScanQueue, Unpark): the whole notify call.
    pub fn notify(&self, all: bool) {
        if all {
            self.registry.sleep.notify_all();
        } else {
            self.registry.sleep.notify_one();
        }
    }

    fn with_context<R>(&self, w: usize, f: impl FnOnce(&mut Context<'_>) -> R) -> R {
        let mut queue = self.queues[w].borrow_mut();
        let mut cx = Context::new(&self.registry, &mut queue, w, self.idle[w].get());
        let r = f(&mut cx);
        self.idle[w].set(cx.is_idle());
        r
    }

    /// Search(w): the worker's whole search (its backoff spin is stutter).
    pub fn search(&self, w: usize) -> SearchOutcome {
        match self.with_context(w, |cx| cx.search()) {
            Found::Job(job) => {
                self.running[w].set(Some(job));
                SearchOutcome::Run
            }
            Found::Nothing => SearchOutcome::Prepare,
            Found::Exit => SearchOutcome::Exit,
        }
    }

    /// Finish(w): run the popped job and count it finished.
    pub fn finish(&self, w: usize) {
        let job = self.running[w]
            .take()
            .expect("Finish after a Search that found a job");
        self.with_context(w, |cx| cx.execute(job));
    }

    /// PrepareWait(w): register as a waiter; the key is kept for `recheck` / `wait` / `cancel`.
    pub fn prepare_wait(&self) -> Key<'_> {
        self.registry.sleep.prepare_wait()
    }

    /// Recheck(w): whether the worker must cancel its sleep.
    pub fn recheck(&self, w: usize) -> bool {
        self.with_context(w, |cx| cx.recheck_finds_reason())
    }

    /// Quiesce: wait until nothing is pending.
    pub fn quiesce(&self) {
        self.registry.wait_quiet();
    }

    /// Shutdown: the shutdown bit (the notify_all is `notify(true)`).
    pub fn shutdown(&self) {
        self.registry.set_shutdown();
    }
}
