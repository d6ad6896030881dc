//! shuttle tests of gearset-starbarrier: random and PCT schedules of 4 to 8 participants.
//!
//! Run: `RUSTFLAGS="--cfg gearset_shuttle" cargo test -p gearset-models --test
//! shuttle_starbarrier --profile models`.
//!
//! shuttle runs atomics as `SeqCst` and does not track cells, so these check the protocol
//! (lockstep, exactly-once delivery, serial rotation, leave, the broken barrier, lost
//! wake-ups with the parking strategies), not orderings: loom owns those.
#![cfg(gearset_shuttle)]

use std::panic::{AssertUnwindSafe, catch_unwind};

use gearset_starbarrier::{BarrierError, WaitError, Worker, barrier, workers};
use gearset_sync::{
    Arc,
    atomic::{AtomicU64, Ordering::SeqCst},
    shuttle::{check_pct, check_random},
    thread,
    wait::{Blocking, BusySpin, Phased, WaitStrategy},
};

/// Iterations per scheduler run (`SHUTTLE_ITERATIONS` overrides): the whole file takes about
/// 3 s at 2,000 on the shared 2-core box.
fn iterations() -> usize {
    gearset_models::shuttle_iterations(2_000)
}
/// PCT depth 3: the bugs targeted (a pass before the last arrival, a lost wake-up between
/// an arrival and a park) need at most two priority changes.
const PCT_DEPTH: usize = 3;

/// `n` members, `rounds` phases: a member passing phase k sees every arrival of phase k and
/// none of phase k+2.
fn lockstep<W: WaitStrategy + 'static>(n: usize, rounds: u64, wait: impl Fn() -> W) {
    let arrivals = Arc::new(AtomicU64::new(0));
    let handles: Vec<_> = barrier(n, wait())
        .unwrap()
        .into_iter()
        .map(|mut member| {
            let arrivals = Arc::clone(&arrivals);
            thread::spawn(move || {
                for phase in 1..=rounds {
                    arrivals.fetch_add(1, SeqCst);
                    assert_eq!(member.wait(), Ok(phase));
                    let seen = arrivals.load(SeqCst);
                    assert!(seen >= phase * n as u64 && seen <= (phase + 1) * n as u64);
                }
            })
        })
        .collect();
    for handle in handles {
        handle.join().unwrap();
    }
}

#[test]
fn lockstep_six_members_random() {
    check_random(|| lockstep(6, 3, BusySpin::new), iterations());
}

#[test]
fn lockstep_six_members_pct_phased() {
    check_pct(|| lockstep(6, 3, Phased::new), iterations(), PCT_DEPTH);
}

/// The runtime with `n` workers and `steps` supersteps of all-to-all messages and the serial
/// section: every message exactly once in the next superstep, every turn taken in order.
/// With `fuzzy`, even-numbered workers end supersteps with `sync_with` (a few idle calls,
/// then block) instead of `sync`.
fn runtime<W: WaitStrategy + 'static>(n: usize, steps: u64, wait: W, fuzzy: bool) {
    let handles: Vec<_> = workers::<Vec<usize>, (u64, usize), _>(n, wait, Vec::new())
        .unwrap()
        .into_iter()
        .map(|mut w| {
            thread::spawn(move || {
                let me = w.id();
                for k in 0..steps {
                    let got: Vec<_> = w.messages().collect();
                    let want: Vec<_> = if k == 0 {
                        Vec::new()
                    } else {
                        (0..n).map(|from| (from, (k - 1, from))).collect()
                    };
                    assert_eq!(got, want, "worker {me}, superstep {k}");
                    for to in 0..n {
                        w.send(to, (k, me)).unwrap();
                    }
                    w.serial(|log: &mut Vec<usize>| {
                        assert_eq!(log.len() as u64, k, "a turn was skipped or repeated");
                        log.push(me);
                    });
                    if fuzzy && me % 2 == 0 {
                        let mut idle = 0;
                        w.sync_with(|| {
                            idle += 1;
                            idle < 3
                        })
                        .unwrap();
                    } else {
                        w.sync().unwrap();
                    }
                }
                assert_eq!(w.messages().count(), n);
            })
        })
        .collect();
    for handle in handles {
        handle.join().unwrap();
    }
}

#[test]
fn runtime_six_workers_random() {
    check_random(|| runtime(6, 3, BusySpin::new(), false), iterations());
}

#[test]
fn runtime_six_workers_fuzzy_random() {
    check_random(|| runtime(6, 3, BusySpin::new(), true), iterations());
}

#[test]
fn runtime_eight_workers_pct_blocking() {
    check_pct(
        || runtime(8, 2, Blocking::new(), true),
        iterations(),
        PCT_DEPTH,
    );
}

/// Worker `doomed` panics in superstep 1 (inside `catch_unwind`, so shuttle sees a clean
/// thread exit); every other worker's `sync` must return `Broken { participant: doomed }`
/// within at most two supersteps, never hang.
fn broken(n: usize, doomed: usize) {
    let handles: Vec<_> = workers::<(), (), _>(n, Phased::new(), ())
        .unwrap()
        .into_iter()
        .map(|w| {
            thread::spawn(move || {
                let me = w.id();
                let mut w: Worker<(), (), Phased> = w;
                let outcome = catch_unwind(AssertUnwindSafe(move || {
                    for _ in 0..3 {
                        if me == doomed && w.superstep() == 1 {
                            panic!("worker {me} fails");
                        }
                        w.sync()?;
                    }
                    Ok::<_, BarrierError>(())
                }));
                (me, outcome.map_err(|_| ()))
            })
        })
        .collect();
    for handle in handles {
        let (me, outcome) = handle.join().unwrap();
        if me == doomed {
            assert!(outcome.is_err(), "the doomed worker panicked");
        } else {
            assert_eq!(
                outcome,
                Ok(Err(BarrierError::Broken {
                    participant: doomed
                }))
            );
        }
    }
}

#[test]
fn panicking_worker_breaks_the_run_random() {
    check_random(|| broken(4, 2), iterations());
}

#[test]
fn panicking_worker_breaks_the_run_pct() {
    check_pct(|| broken(5, 0), iterations(), PCT_DEPTH);
}

/// Members leave at random points while others keep passing phases on a parking strategy:
/// nobody waits for a leaver (no lost wake-up on `leave`).
#[test]
fn leavers_release_parked_waiters_pct() {
    check_pct(
        || {
            let handles: Vec<_> = barrier(4, Blocking::new())
                .unwrap()
                .into_iter()
                .map(|mut member| {
                    thread::spawn(move || {
                        let stay = member.index() as u64; // member i passes i phases
                        for phase in 1..=stay {
                            assert_eq!(member.wait(), Ok(phase));
                        }
                        member.leave().unwrap();
                        assert_eq!(member.wait(), Err(WaitError::Failed(BarrierError::Left)));
                    })
                })
                .collect();
            for handle in handles {
                handle.join().unwrap();
            }
        },
        iterations(),
        PCT_DEPTH,
    );
}
