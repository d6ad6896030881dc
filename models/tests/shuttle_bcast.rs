//! shuttle models of gearset-bcast: 3 writers -> 3 readers (one of them churning:
//! subscribe, receive, unsubscribe, again), capacity 2, both policies, random and PCT
//! schedules, plus capacity 8 for Backpressure's lazy cursor publication. shuttle runs atomics
//! as `SeqCst`, so these check the protocol (lost wake-ups, deadlocks at close and
//! unsubscribe, lag accounting), not orderings (loom's job).
//!
//! Run: `RUSTFLAGS="--cfg gearset_shuttle" cargo test -p gearset-models --test shuttle_bcast --profile models`
#![cfg(gearset_shuttle)]

use gearset_bcast::{Policy, RecvError, StartAt, Subscriber, channel};
use gearset_models::shuttle_iterations;
use gearset_sync::{shuttle, thread};

const WRITERS: u64 = 3;
const PER_WRITER: u64 = 3;

/// Receives until `Closed`: checks each writer's order and returns `(received, lost)`.
fn drain(mut s: Subscriber<u64>) -> (u64, u64) {
    let mut last = [None::<u64>; WRITERS as usize];
    let (mut received, mut lost) = (0, 0);
    loop {
        match s.recv() {
            Ok(v) => {
                let (w, i) = ((v / 100) as usize, v % 100);
                assert!(
                    last[w].is_none_or(|l| l < i),
                    "ReceivedIsExact: writer {w} reordered"
                );
                last[w] = Some(i);
                received += 1;
            }
            Err(RecvError::Lagged(n)) => lost += n,
            Err(RecvError::Closed) => return (received, lost),
        }
    }
}

/// Subscribes, receives one message, unsubscribes, resubscribes (alternating `Next` and
/// `Oldest`) until `Closed`. Returns the total reported loss.
fn churn(mut s: Subscriber<u64>) -> u64 {
    let mut lost = 0;
    for round in 0.. {
        match s.recv() {
            Ok(_) => {}
            Err(RecvError::Lagged(n)) => lost += n,
            Err(RecvError::Closed) => return lost,
        }
        let start = if round % 2 == 0 {
            StartAt::Next
        } else {
            StartAt::Oldest
        };
        let next = s.subscribe(start);
        drop(s);
        s = next;
    }
    unreachable!()
}

fn three_to_three(policy: Policy) {
    three_to_three_cap(policy, 2, PER_WRITER);
}

/// 3 writers sending `per_writer` each, 2 draining readers and a churning one.
fn three_to_three_cap(policy: Policy, capacity: usize, per_writer: u64) {
    let (publisher, a) = channel::<u64>(capacity, policy);
    let b = a.clone();
    let c = a.clone();
    let readers = [
        thread::spawn(move || drain(a)),
        thread::spawn(move || drain(b)),
    ];
    let churner = thread::spawn(move || churn(c));
    let writers: Vec<_> = (0..WRITERS)
        .map(|w| {
            let p = publisher.clone();
            thread::spawn(move || {
                for i in 0..per_writer {
                    p.send(w * 100 + i).unwrap();
                }
            })
        })
        .collect();
    drop(publisher);
    writers.into_iter().for_each(|w| w.join().unwrap());
    for r in readers {
        let (received, lost) = r.join().unwrap();
        assert_eq!(
            received + lost,
            WRITERS * per_writer,
            "ReceivedIsExact: lag accounting"
        );
        if policy == Policy::Backpressure {
            assert_eq!(lost, 0, "NoOverwriteUnread");
        }
    }
    let churn_lost = churner.join().unwrap();
    if policy == Policy::Backpressure {
        assert_eq!(churn_lost, 0, "NoOverwriteUnread (churning reader)");
    }
}

#[test]
fn backpressure_3w_3r_churn_random() {
    shuttle::check_random(
        || three_to_three(Policy::Backpressure),
        shuttle_iterations(1500),
    );
}

#[test]
fn backpressure_3w_3r_churn_pct() {
    shuttle::check_pct(
        || three_to_three(Policy::Backpressure),
        shuttle_iterations(1500),
        3,
    );
}

#[test]
fn overwrite_3w_3r_churn_random() {
    shuttle::check_random(
        || three_to_three(Policy::Overwrite),
        shuttle_iterations(1500),
    );
}

#[test]
fn overwrite_3w_3r_churn_pct() {
    shuttle::check_pct(
        || three_to_three(Policy::Overwrite),
        shuttle_iterations(1500),
        3,
    );
}

/// Capacity 8: Backpressure readers publish their cursors lazily (every 2 messages, or when
/// they run out), so this checks that a writer blocked on a lazily published cursor is
/// always woken (no deadlock) across two wraps.
#[test]
fn backpressure_lazy_publication_cap8_pct() {
    shuttle::check_pct(
        || three_to_three_cap(Policy::Backpressure, 8, 6),
        shuttle_iterations(1000),
        3,
    );
}

#[test]
fn backpressure_lazy_publication_cap8_random() {
    shuttle::check_random(
        || three_to_three_cap(Policy::Backpressure, 8, 6),
        shuttle_iterations(1000),
    );
}
