//! shuttle tests of gearset-sched: fork-join trees, scoped spawns with a panic, BSP supersteps
//! and detached spawns on 3 and 4 workers, under random and PCT schedules.
//!
//! Run: `RUSTFLAGS="--cfg gearset_shuttle" SHUTTLE_SILENCE_WARNINGS=1 cargo test -p
//! gearset-models --profile models --test shuttle_sched`.
//!
//! shuttle runs atomics as `SeqCst` and does not track cells: these check the protocol (every
//! job runs exactly once, joins and scopes wait for their jobs, panics reach the waiter,
//! shutdown joins every worker, no lost wake-up as a deadlock), not orderings (loom_sched.rs).
//! The dataflow test runs a diamond with a failing node through 3 workers: every frame comes
//! back once, in order, with the failure as that frame's `NodeError` (no lost notification
//! shows up as a deadlock).
#![cfg(gearset_shuttle)]

use std::panic::{AssertUnwindSafe, catch_unwind};

use gearset_sched::{Context, Participant, Pool};
use gearset_sync::{
    Arc,
    atomic::{AtomicU64, Ordering::SeqCst},
    shuttle::{check_pct, check_random},
};

/// Iterations per scheduler run (`SHUTTLE_ITERATIONS` overrides).
fn iterations() -> usize {
    gearset_models::shuttle_iterations(300)
}
/// PCT depth 3: a lost wake-up needs a push between a search and its announcement (two
/// priority changes).
const PCT_DEPTH: usize = 3;

fn both(f: fn()) {
    check_random(f, iterations());
    check_pct(f, iterations(), PCT_DEPTH);
}

/// A binary tree of joins, depth `d`: counts its leaves.
fn tree(cx: &mut Context<'_>, d: u32) -> u64 {
    if d == 0 {
        return 1;
    }
    let (a, b) = cx.join(|cx| tree(cx, d - 1), |cx| tree(cx, d - 1));
    a + b
}

#[test]
fn fork_join_tree_on_3_workers() {
    both(|| {
        let pool = Pool::new(3);
        assert_eq!(pool.install(|cx| tree(cx, 4)), 16);
    });
}

#[test]
fn nested_scopes_count_every_job_and_reraise_a_panic() {
    both(|| {
        let pool = Pool::new(3);
        let ran = AtomicU64::new(0);
        let outcome = catch_unwind(AssertUnwindSafe(|| {
            pool.scope(|s, _| {
                for i in 0..3 {
                    let ran = &ran;
                    s.spawn(move |cx| {
                        cx.scope(|inner, _| {
                            inner.spawn(move |_| {
                                ran.fetch_add(1, SeqCst);
                            });
                        });
                        ran.fetch_add(1, SeqCst);
                        assert!(i != 1, "job 1 fails");
                    });
                }
            })
        }));
        assert!(
            outcome.is_err(),
            "the panic of job 1 reaches the scope's caller"
        );
        assert_eq!(
            ran.load(SeqCst),
            6,
            "every job ran before the scope returned"
        );
    });
}

#[test]
fn bsp_supersteps_on_4_workers() {
    both(|| {
        let pool = Pool::new(4);
        let got = pool
            .supersteps(0u64, |w: &mut Participant<u64, u64>| {
                let (me, n) = (w.id(), w.participants());
                let mut value = me as u64;
                for _ in 0..2 {
                    w.send((me + 1) % n, value).unwrap();
                    w.sync().unwrap();
                    value = w.messages().map(|(_, m)| m).sum();
                    w.serial(|total| *total += 1);
                }
                value
            })
            .unwrap();
        assert_eq!(got, vec![2, 3, 0, 1], "values rotated right twice");
    });
}

#[test]
fn detached_spawns_finish_before_shutdown() {
    both(|| {
        let pool = Pool::new(3);
        let ran = Arc::new(AtomicU64::new(0));
        for _ in 0..4 {
            let ran = Arc::clone(&ran);
            drop(pool.spawn(move |_| {
                ran.fetch_add(1, SeqCst);
            }));
        }
        drop(pool);
        assert_eq!(ran.load(SeqCst), 4);
    });
}

/// A diamond (two message nodes, one failing on frame 2, into a gather) on 3 workers, with a
/// window of 2 so that frames overlap: the sink's results equal the sequential ones.
#[test]
fn dataflow_diamond_on_3_workers() {
    both(|| {
        let pool = Pool::new(3);
        let mut graph = pool.dataflow::<u64>();
        let source = graph.source();
        let left = graph.node(source, |x| x + 1).unwrap();
        let right = graph
            .try_node(source, |x| {
                if *x == 2 {
                    Err("two".into())
                } else {
                    Ok(x * 10)
                }
            })
            .unwrap();
        let sink = graph.gather(&[left, right], |xs| xs[0] + xs[1]).unwrap();
        let mut flow = graph.build(sink, 2).unwrap();
        let out = flow.run(0..4);
        assert_eq!(out[0], Ok(1));
        assert_eq!(out[1], Ok(12));
        let error = out[2].as_ref().unwrap_err();
        assert_eq!((error.node, error.frame), (right, 2));
        assert_eq!(out[3], Ok(34));
        assert_eq!(pool.stats().frames_in_flight, 0);
    });
}
