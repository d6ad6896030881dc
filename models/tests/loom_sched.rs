//! loom models of gearset-sched: every interleaving (to a preemption bound) and every
//! weak-memory outcome loom explores of the sleep/wake protocol and of `join`'s hand-off.
//!
//! Run: `RUSTFLAGS="--cfg gearset_loom" LOOM_MAX_BRANCHES=10000 cargo test -p gearset-models
//! --profile models --test loom_sched`. A lost wake-up shows as a loom deadlock (the owner
//! waits for quiescence while the worker sleeps with a job queued).
//!
//! Preemption bounds: 2 for the one-worker model (the bound tokio and crossbeam use in CI;
//! under 0.1 s, and bound 1 already finds the `sched_no_recheck` deadlock); 1 for the join
//! model (owner and two workers, each climbing the queue tree through its locks: about 7 s at
//! bound 1, still running after 3 minutes at bound 2 on the shared 2-core box). The
//! TLA+ twin is `tla/sched/Sched.tla` (`Sched_w2_t2.cfg`). Under loom the queue tree has
//! capacity 2 and batches of 2 (`gearset_hqueue::Config::default`), and workers go to sleep
//! without the backoff spin.
#![cfg(gearset_loom)]

use gearset_sched::Pool;
use gearset_sync::{
    Arc,
    atomic::{AtomicUsize, Ordering::Relaxed},
    loom,
};

fn model(preemption_bound: usize, f: impl Fn() + Sync + Send + 'static) {
    let mut builder = loom::model::Builder::new();
    builder.preemption_bound = Some(preemption_bound);
    builder.check(f);
}

/// One worker, one job pushed from outside while the worker searches, announces, re-checks
/// or sleeps; then quiescence and shutdown. The mutant `sched_no_recheck` deadlocks here.
#[test]
fn push_races_park_one_worker() {
    model(2, || {
        let ran = Arc::new(AtomicUsize::new(0));
        let pool = Pool::new(1);
        let counter = Arc::clone(&ran);
        drop(pool.spawn(move |_| {
            // Relaxed: read after the pool's drop, which joined the worker.
            counter.fetch_add(1, Relaxed);
        }));
        drop(pool);
        assert_eq!(ran.load(Relaxed), 1, "the job ran before shutdown");
    });
}

/// Two workers, a `join` entered from outside: `b` runs inline or on the other worker
/// (exposed when that one is idle); its result crosses threads through the stack job's cell,
/// which loom checks for races.
#[test]
fn join_with_two_workers() {
    model(1, || {
        let pool = Pool::new(2);
        let (a, b) = pool.join(|_| 1u32, |cx| 10 + cx.index() as u32 * 0);
        assert_eq!((a, b), (1, 10));
        drop(pool);
    });
}
