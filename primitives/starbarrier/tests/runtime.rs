//! Public API of the superstep runtime: delivery, serial section, leave, panics, timeouts.
// std only: under a model checker these would run outside any model (and `run` is absent).
#![cfg(not(any(gearset_loom, gearset_shuttle)))]

use std::panic::{AssertUnwindSafe, catch_unwind};

use gearset_starbarrier::{BarrierError, SendError, Worker, run, workers};
use gearset_sync::{
    thread,
    time::Duration,
    wait::{BusySpin, Phased, Yielding},
};

const STEPS: u64 = if cfg!(miri) { 4 } else { 200 };

#[test]
fn zero_participants_is_an_error() {
    let err = run(0, Yielding::new(), (), |_: &mut Worker<(), (), _>| ()).unwrap_err();
    assert_eq!(err, BarrierError::ZeroParticipants);
    assert!(workers::<(), (), _>(0, Yielding::new(), ()).is_err());
}

#[test]
fn messages_arrive_in_the_next_superstep_only() {
    let (_, ok) = run(3, Yielding::new(), (), |w| {
        for k in 0..STEPS {
            let me = w.id();
            // Messages of superstep k-1, one from every worker, tagged with k-1.
            let got: Vec<_> = w.messages().collect();
            if k > 0 {
                let want: Vec<_> = (0..3).map(|from| (from, (k - 1, from, me))).collect();
                assert_eq!(got, want, "superstep {k} of worker {me}");
            } else {
                assert!(got.is_empty());
            }
            for to in 0..3 {
                w.send(to, (k, me, to)).unwrap();
            }
            w.sync().unwrap();
        }
        true
    })
    .unwrap();
    assert_eq!(ok, vec![true; 3]);
}

#[test]
fn unread_messages_are_dropped_at_the_next_sync() {
    let (_, counts) = run(2, BusySpin::new(), (), |w| {
        let peer = 1 - w.id();
        w.send(peer, 1).unwrap();
        w.sync().unwrap(); // superstep 1: do not read
        w.send(peer, 2).unwrap();
        w.sync().unwrap(); // superstep 2: only the message of superstep 1
        w.messages().map(|(_, m)| m).collect::<Vec<i32>>()
    })
    .unwrap();
    assert_eq!(counts, vec![vec![2], vec![2]]);
}

#[test]
fn serial_section_rotates_and_is_exclusive() {
    let (state, _) = run(
        4,
        Yielding::new(),
        (0u64, Vec::new()),
        |w: &mut Worker<_, (), _>| {
            for k in 0..STEPS {
                let me = w.id();
                let held = w.serial(|(counter, owners): &mut (u64, Vec<usize>)| {
                    // Non-atomic read-modify-write: a second holder would lose updates.
                    let before = *counter;
                    thread::yield_now();
                    *counter = before + 1;
                    owners.push(me);
                });
                assert_eq!(held.is_some(), k % 4 == me as u64);
                w.sync().unwrap();
            }
        },
    )
    .unwrap();
    assert_eq!(state.0, STEPS);
    let expected: Vec<usize> = (0..STEPS as usize).map(|k| k % 4).collect();
    assert_eq!(state.1, expected);
}

#[test]
fn send_errors_give_the_message_back() {
    let (_, errs) = run(2, Yielding::new(), (), |w| {
        let out_of_range = w.send(9, String::from("x")).unwrap_err();
        if w.id() == 1 {
            w.leave().unwrap();
            let after_leave = w.send(0, String::from("y")).unwrap_err();
            return vec![out_of_range, after_leave];
        }
        // Wait until worker 1's departure is visible: sync no longer waits for it.
        w.sync().unwrap();
        let to_left = w.send(1, String::from("z")).unwrap_err();
        vec![out_of_range, to_left]
    })
    .unwrap();
    assert_eq!(
        errs,
        vec![
            vec![
                SendError::NoSuchParticipant("x".into()),
                SendError::ReceiverLeft("z".into())
            ],
            vec![
                SendError::NoSuchParticipant("x".into()),
                SendError::NotInSuperstep("y".into())
            ],
        ]
    );
    assert_eq!(SendError::ReceiverLeft(3).into_inner(), 3);
}

#[test]
fn worker_that_returns_early_leaves() {
    let (_, steps) = run(3, Phased::new(), (), |w: &mut Worker<_, u8, _>| {
        let stop_at = [STEPS, 3, 7][w.id()];
        while w.superstep() < stop_at {
            w.sync().unwrap();
        }
        w.superstep()
    })
    .unwrap();
    assert_eq!(steps, vec![STEPS, 3, 7]);
}

#[test]
fn panic_is_reraised_and_peers_get_broken() {
    let result = catch_unwind(AssertUnwindSafe(|| {
        run(3, Phased::new(), (), |w: &mut Worker<_, (), _>| {
            for _ in 0..5 {
                if w.id() == 2 && w.superstep() == 3 {
                    panic!("worker 2 failed in superstep 3");
                }
                w.sync()?;
            }
            Ok::<_, BarrierError>(())
        })
    }));
    let payload = result.unwrap_err();
    assert_eq!(
        payload.downcast_ref::<&str>(),
        Some(&"worker 2 failed in superstep 3")
    );
}

#[test]
fn original_panic_wins_over_peers_unwrapping_broken() {
    for _ in 0..if cfg!(miri) { 1 } else { 20 } {
        let result = catch_unwind(AssertUnwindSafe(|| {
            run(4, Yielding::new(), (), |w: &mut Worker<_, (), _>| {
                for _ in 0..4 {
                    if w.id() == 3 && w.superstep() == 2 {
                        panic!("the original");
                    }
                    w.sync().unwrap(); // peers panic too, on `Broken`
                }
            })
        }));
        let payload = result.unwrap_err();
        assert_eq!(payload.downcast_ref::<&str>(), Some(&"the original"));
    }
}

#[test]
fn peers_see_broken_with_the_panicker_index() {
    let result = catch_unwind(AssertUnwindSafe(|| {
        run(3, Phased::new(), (), |w: &mut Worker<_, (), _>| {
            if w.id() == 0 {
                panic!("boom");
            }
            w.sync()
        })
    }));
    // Re-raised; the peers' errors are not observable through `run`, so check `workers`.
    assert!(result.is_err());
    let mut ws = workers::<(), (), _>(2, Phased::new(), ()).unwrap();
    let doomed = ws.pop().unwrap();
    let peer = thread::spawn(move || {
        let synced = ws[0].sync();
        (synced, ws[0].send(0, ()), ws[0].serial(|()| ()))
    });
    let _ = thread::spawn(move || {
        let _doomed = doomed;
        panic!("boom");
    })
    .join();
    let (synced, sent, serial) = peer.join().unwrap();
    assert_eq!(synced, Err(BarrierError::Broken { participant: 1 }));
    // After a failed sync the worker is out of the superstep for good.
    assert_eq!(sent, Err(SendError::NotInSuperstep(())));
    assert_eq!(serial, None);
}

#[test]
fn timed_out_sync_keeps_the_arrival_and_refuses_sends() {
    let mut ws =
        workers::<(), u32, _>(2, BusySpin::with_timeout(Duration::from_millis(5)), ()).unwrap();
    let mut late = ws.pop().unwrap();
    let mut early = ws.pop().unwrap();
    early.send(1, 7).unwrap();
    assert_eq!(early.sync(), Err(BarrierError::TimedOut));
    assert_eq!(early.send(1, 8), Err(SendError::NotInSuperstep(8)));
    assert_eq!(early.serial(|()| ()), None);
    assert_eq!(early.superstep(), 0);
    // The late worker arrives; both pass superstep 0.
    let late = thread::spawn(move || {
        late.sync().unwrap();
        late.messages().collect::<Vec<_>>()
    });
    let mut synced = early.sync();
    while synced == Err(BarrierError::TimedOut) {
        synced = early.sync();
    }
    assert_eq!(synced, Ok(()));
    assert_eq!(early.superstep(), 1);
    assert_eq!(late.join().unwrap(), vec![(0, 7)]);
}

#[test]
fn fuzzy_sync_runs_idle_work_and_delivers() {
    let (_, out) = run(3, Yielding::new(), (), |w| {
        let me = w.id();
        let mut idle_calls = 0u64;
        for k in 0..STEPS {
            let got: Vec<_> = w.messages().collect();
            let want: Vec<_> = if k == 0 {
                vec![]
            } else {
                (0..3).map(|f| (f, k - 1)).collect()
            };
            assert_eq!(got, want, "worker {me}, superstep {k}");
            for to in 0..3 {
                w.send(to, k).unwrap();
            }
            // Worker 0 always has idle work; the others have none.
            w.sync_with(|| {
                idle_calls += 1;
                me == 0 && idle_calls < if cfg!(miri) { 100 } else { 1_000_000 }
            })
            .unwrap();
        }
        (w.superstep(), idle_calls)
    })
    .unwrap();
    assert!(out.iter().all(|&(steps, _)| steps == STEPS));
    // Workers without idle work call `idle` at most once per superstep, then block.
    assert!(out[1].1 <= STEPS && out[2].1 <= STEPS, "{out:?}");
}

/// Split sync from one thread: `arrive` ends the superstep for sending (the message comes
/// back), a second `arrive` is a no-op, and `try_sync` passes only once every worker arrived.
#[test]
fn split_sync_from_one_thread() {
    let mut ws = workers::<Vec<usize>, u32, _>(3, BusySpin::new(), Vec::new()).unwrap();
    ws[0].send(2, 1).unwrap();
    ws[0].serial(|log| log.push(0)).unwrap();
    ws[0].arrive().unwrap();
    ws[0].arrive().unwrap();
    assert_eq!(ws[0].send(1, 9), Err(SendError::NotInSuperstep(9)));
    assert_eq!(ws[0].try_sync(), Ok(false));
    ws[1].arrive().unwrap();
    assert_eq!(ws[1].try_sync(), Ok(false));
    assert_eq!(ws[2].try_sync(), Ok(true)); // arrives and passes: the last one
    assert_eq!(ws[2].messages().collect::<Vec<_>>(), vec![(0, 1)]);
    assert_eq!(ws[2].superstep(), 1);
    assert_eq!(ws[0].try_sync(), Ok(true));
    assert_eq!(ws[1].try_sync(), Ok(true));
    assert_eq!(ws[1].serial(|log| log.clone()), Some(vec![0]));
}

/// `try_sync` reports a break (and a leave) like `sync`.
#[test]
fn split_sync_sees_leave_and_break() {
    let mut ws = workers::<(), (), _>(3, BusySpin::new(), ()).unwrap();
    ws[2].leave().unwrap();
    assert_eq!(ws[2].try_sync(), Err(BarrierError::Left));
    ws[0].arrive().unwrap();
    let doomed = ws.remove(1);
    let crashed = catch_unwind(AssertUnwindSafe(move || {
        let _doomed = doomed;
        panic!("worker 1 fails");
    }));
    assert!(crashed.is_err());
    assert_eq!(
        ws[0].try_sync(),
        Err(BarrierError::Broken { participant: 1 })
    );
}

#[test]
fn handles_are_send() {
    fn is_send<T: Send>() {}
    is_send::<Worker<Vec<u8>, String, Phased>>();
    is_send::<gearset_starbarrier::Member<Phased>>();
    is_send::<gearset_starbarrier::ArrivalToken>();
}
