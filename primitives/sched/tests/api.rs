//! The public API on std: fork-join results and panics, scopes, spawns, builders, stats.

use std::panic::{AssertUnwindSafe, catch_unwind};

use gearset_hqueue::{LevelKind, Topology};
use gearset_sched::{BuildError, Context, Pool};
use gearset_sync::atomic::{AtomicUsize, Ordering::Relaxed};

fn fib(cx: &mut Context<'_>, n: u64) -> u64 {
    if n < 2 {
        return n;
    }
    let (a, b) = cx.join(|cx| fib(cx, n - 1), |cx| fib(cx, n - 2));
    a + b
}

#[test]
fn join_computes_fib_on_every_pool_size() {
    for workers in 1..=4 {
        let pool = Pool::new(workers);
        assert_eq!(pool.install(|cx| fib(cx, 22)), 17_711, "{workers} workers");
    }
}

#[test]
fn panic_in_first_closure_reaches_the_caller() {
    let pool = Pool::new(2);
    let got = catch_unwind(AssertUnwindSafe(|| {
        pool.join(|_| -> u8 { panic!("a fails") }, |_| 2u8)
    }));
    let payload = got.expect_err("the panic of `a` reaches the caller");
    assert_eq!(payload.downcast_ref::<&str>(), Some(&"a fails"));
}

#[test]
fn panic_in_second_closure_reaches_the_caller_deep_in_a_tree() {
    let pool = Pool::new(3);
    let got = catch_unwind(AssertUnwindSafe(|| {
        pool.install(|cx| {
            cx.par_for(0..10_000, 1, |i| assert!(i != 7_777, "index 7777"));
        })
    }));
    assert!(
        got.is_err(),
        "a panic in any task of the tree reaches install's caller"
    );
    // The pool still works afterwards.
    assert_eq!(pool.install(|cx| fib(cx, 15)), 610);
}

#[test]
fn scope_jobs_borrow_and_finish_before_the_scope_returns() {
    let pool = Pool::new(3);
    let mut cells = vec![0usize; 100];
    pool.scope(|s, _| {
        for (i, cell) in cells.iter_mut().enumerate() {
            s.spawn(move |_| *cell = i * 2);
        }
    });
    assert!(cells.iter().enumerate().all(|(i, &c)| c == i * 2));
}

#[test]
fn scope_reraises_a_job_panic_after_all_jobs_finished() {
    let pool = Pool::new(2);
    let ran = AtomicUsize::new(0);
    let got = catch_unwind(AssertUnwindSafe(|| {
        pool.scope(|s, _| {
            for i in 0..50 {
                let ran = &ran;
                s.spawn(move |_| {
                    ran.fetch_add(1, Relaxed);
                    assert!(i != 10, "job 10");
                });
            }
        })
    }));
    assert!(got.is_err());
    assert_eq!(ran.load(Relaxed), 50, "every job ran although one panicked");
}

#[test]
fn spawn_returns_results_and_panics() {
    let pool = Pool::new(2);
    let handles: Vec<_> = (0..20u64).map(|i| pool.spawn(move |_| i * i)).collect();
    let sum: u64 = handles.into_iter().map(|h| h.join().unwrap()).sum();
    assert_eq!(sum, (0..20u64).map(|i| i * i).sum());
    let bad = pool.spawn(|_| -> () { panic!("detached") });
    assert!(bad.join().is_err());
}

#[test]
fn install_from_a_worker_is_refused_with_a_message() {
    let pool = Pool::new(1);
    let got = catch_unwind(AssertUnwindSafe(|| {
        pool.install(|_| pool.install(|_| ()));
    }));
    let payload = got.expect_err("a nested install panics instead of hanging");
    let message = payload
        .downcast_ref::<String>()
        .cloned()
        .unwrap_or_default();
    assert!(message.contains("own workers"), "{message}");
}

#[test]
fn par_for_covers_every_index_once_for_any_grain() {
    let pool = Pool::new(2);
    for grain in [0, 1, 3, 64, 10_000] {
        let hits: Vec<AtomicUsize> = (0..1000).map(|_| AtomicUsize::new(0)).collect();
        pool.par_for(0..1000, grain, |i| {
            hits[i].fetch_add(1, Relaxed);
        });
        assert!(hits.iter().all(|h| h.load(Relaxed) == 1), "grain {grain}");
    }
    pool.par_for(5..5, 1, |_| panic!("an empty range calls nothing"));
}

#[test]
fn builder_confines_to_a_numa_node_and_rejects_bad_requests() {
    let topology = || Topology::synthetic("numa:2 l3:1 core:3").unwrap();
    let pool = Pool::builder()
        .topology(topology())
        .confine(LevelKind::Numa, 1)
        .build()
        .unwrap();
    assert_eq!(pool.workers(), 3);
    assert_eq!(pool.install(|cx| fib(cx, 18)), 2584);
    let none = Pool::builder()
        .topology(topology())
        .confine(LevelKind::Numa, 2)
        .build();
    assert_eq!(none.err(), Some(BuildError::NoWorkers));
    let pin = Pool::builder().topology(topology()).pin(true).build();
    assert_eq!(pin.err(), Some(BuildError::CannotPin));
}

#[test]
fn stats_count_jobs_and_the_pool_goes_quiet() {
    let pool = Pool::new(2);
    for _ in 0..100 {
        drop(pool.spawn(|_| ()));
    }
    pool.wait_idle();
    let stats = pool.stats();
    assert_eq!(stats.tasks_run(), 100);
    assert_eq!((stats.queued, stats.pending), (0, 0));
    let taken: u64 = stats.steals_by_distance().iter().map(|(_, n)| n).sum();
    assert!(taken <= 100);
}

#[test]
fn supersteps_run_one_body_per_worker_with_the_serial_section() {
    let pool = Pool::new(3);
    let got = pool
        .supersteps(0u64, |w: &mut gearset_sched::Participant<u64, u64>| {
            let me = w.id() as u64;
            w.send((w.id() + 1) % w.participants(), me).unwrap();
            w.sync().unwrap();
            w.messages().map(|(_, m)| m).sum::<u64>()
        })
        .unwrap();
    assert_eq!(got, vec![2, 0, 1]);
}

#[test]
// The pool cannot join its own workers from inside one of them, so after this panic they stay
// parked until the process exits (`Drop for Pool`): Miri reports threads alive at exit.
#[cfg_attr(
    miri,
    ignore = "leaves the pool's worker threads parked at exit, by design"
)]
fn dropping_the_pool_inside_its_own_job_panics_instead_of_hanging() {
    let pool = std::sync::Arc::new(std::sync::Mutex::new(Some(Pool::new(2))));
    let inner = std::sync::Arc::clone(&pool);
    let guard = pool.lock().unwrap();
    let handle = guard.as_ref().unwrap().spawn(move |_| {
        let taken = inner.lock().unwrap().take();
        drop(taken); // the last handle, dropped on a worker
    });
    drop(guard);
    let outcome = handle.join();
    let payload = outcome.expect_err("the drop inside the job panics");
    let message = payload
        .downcast_ref::<String>()
        .cloned()
        .unwrap_or_default();
    assert!(message.contains("own workers"), "{message}");
}
