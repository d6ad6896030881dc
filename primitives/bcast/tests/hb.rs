//! Happens-before regressions: each test crosses one synchronization edge and then touches
//! non-atomic heap data (a `String`'s buffer), so Miri (and TSan) report a data race if the
//! edge's ordering is weakened. Test names are the edges. Run under Miri:
//! `cargo +nightly miri test -p gearset-bcast --test hb`.
// std-only: under the model-checker cfgs the facade types need a model to run in.
#![cfg(not(any(gearset_loom, gearset_shuttle)))]

use std::thread;

use gearset_bcast::{Policy, RecvError, channel};

const ROUNDS: usize = if cfg!(miri) { 8 } else { 2_000 };

/// Edge: `Slot::publish` stamp `store(Release)` → reader stamp `load(Acquire)`: the value
/// written before the stamp is visible to the clone.
#[test]
fn stamp_release_publishes_value() {
    for policy in [Policy::Backpressure, Policy::Overwrite] {
        let (p, mut s) = channel::<String>(ROUNDS.next_power_of_two(), policy);
        let reader = thread::spawn(move || {
            let mut total = 0;
            while let Ok(v) = s.recv() {
                total += v.len();
            }
            total
        });
        for i in 0..ROUNDS {
            p.send(format!("message {i}")).unwrap();
        }
        drop(p);
        let expected: usize = (0..ROUNDS).map(|i| format!("message {i}").len()).sum();
        assert_eq!(reader.join().unwrap(), expected);
    }
}

/// Edge: reader cursor `store(Release)` → gate rescan `load(Acquire)` → gate
/// `store(Release)` → writer gate `load(Acquire)`: a Backpressure reader's clone of the old
/// value happens before the writer drops it (capacity 1: every send replaces a value a
/// reader just cloned).
#[test]
fn cursor_release_orders_clone_before_overwrite() {
    let (p, mut s) = channel::<String>(1, Policy::Backpressure);
    let reader = thread::spawn(move || {
        let mut n = 0;
        while let Ok(v) = s.recv() {
            assert!(v.starts_with('m'));
            n += 1;
        }
        n
    });
    for i in 0..ROUNDS {
        p.send(format!("m{i}")).unwrap();
    }
    drop(p);
    assert_eq!(reader.join().unwrap(), ROUNDS);
}

/// Edge: reader lock `fetch_sub(Release)` → writer `load(Acquire)` in `lock_write`: an
/// Overwrite reader's clone happens before a lapping writer drops the value.
#[test]
fn read_lock_release_orders_clone_before_drop() {
    let (p, mut s) = channel::<String>(1, Policy::Overwrite);
    let reader = thread::spawn(move || {
        let (mut received, mut lost) = (0, 0);
        loop {
            match s.recv() {
                Ok(v) => {
                    assert!(v.starts_with('m'));
                    received += 1;
                }
                Err(RecvError::Lagged(n)) => lost += n,
                Err(RecvError::Closed) => return received + lost,
            }
        }
    });
    for i in 0..ROUNDS {
        p.send(format!("m{i}")).unwrap();
    }
    drop(p);
    assert_eq!(reader.join().unwrap(), ROUNDS as u64);
}

/// Edge: last writer `fetch_sub(AcqRel)` → reader `writers.load(Acquire)`, then the stamp
/// re-read: a reader that sees no writers still drains every message sent before the drop.
#[test]
fn writers_gone_acquire_sees_last_messages() {
    for _ in 0..ROUNDS.min(64) {
        let (p, mut s) = channel::<String>(4, Policy::Backpressure);
        let writer = thread::spawn(move || {
            p.send("last".to_string()).unwrap();
        });
        let mut got = Vec::new();
        loop {
            match s.try_recv() {
                Ok(v) => got.push(v),
                Err(gearset_bcast::TryRecvError::Closed) => break,
                Err(_) => thread::yield_now(),
            }
        }
        writer.join().unwrap();
        assert_eq!(got, ["last"]);
    }
}
