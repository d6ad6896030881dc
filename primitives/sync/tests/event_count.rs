//! Public-API tests of `EventCount` on std threads: wake-ups, timeouts, a happens-before edge
//! (for Miri), a stress test that counts every item, and a proptest against a sequential model.

use std::time::Duration;

use gearset_sync::{
    Arc, EventCount,
    atomic::{
        AtomicBool, AtomicUsize,
        Ordering::{AcqRel, Acquire, Relaxed, Release},
    },
    cell::UnsafeCell,
    thread,
    time::deadline_after,
    wait::TimedOut,
};
use proptest::prelude::*;

/// A notify_all after every waiter's prepare_wait releases all of them.
#[test]
fn notify_all_wakes_every_waiter() {
    let shared = Arc::new((AtomicBool::new(false), EventCount::new()));
    let waiters: Vec<_> = (0..4)
        .map(|_| {
            let shared = Arc::clone(&shared);
            // Acquire: pairs with the Release store below.
            thread::spawn(move || shared.1.wait_until(|| shared.0.load(Acquire).then_some(())))
        })
        .collect();
    thread::park_timeout(Duration::from_millis(10)); // let some of them go to sleep
    shared.0.store(true, Release);
    shared.1.notify_all();
    for waiter in waiters {
        waiter.join().unwrap();
    }
}

/// The data written before the notify is visible after the wake-up: a happens-before edge Miri
/// checks (the write is non-atomic).
#[test]
fn hb_notify_publishes_plain_data() {
    struct Shared {
        data: UnsafeCell<u64>,
        ready: AtomicBool,
        ec: EventCount,
    }
    // SAFETY: `data` is written once by the producer before `ready` is set (Release) and read
    // by the consumer only after it saw `ready` (Acquire).
    unsafe impl Sync for Shared {}
    let shared = Arc::new(Shared {
        data: UnsafeCell::new(0),
        ready: AtomicBool::new(false),
        ec: EventCount::new(),
    });
    let consumer = {
        let shared = Arc::clone(&shared);
        thread::spawn(move || {
            // Acquire: pairs with the Release store of `ready`.
            shared
                .ec
                .wait_until(|| shared.ready.load(Acquire).then_some(()));
            // SAFETY: `ready` was observed with Acquire; the producer no longer writes.
            shared.data.with(|p| unsafe { *p })
        })
    };
    // SAFETY: the consumer reads `data` only after `ready`, which is set below.
    shared.data.with_mut(|p| unsafe { *p = 42 });
    // Release: publishes `data`; pairs with the Acquire load in the consumer.
    shared.ready.store(true, Release);
    shared.ec.notify_one();
    assert_eq!(consumer.join().unwrap(), 42);
}

#[test]
fn wait_until_deadline_times_out_and_reports_it() {
    let ec = EventCount::new();
    let deadline = deadline_after(Duration::from_millis(5));
    assert_eq!(
        ec.wait_until_deadline(|| None::<()>, deadline),
        Err(TimedOut)
    );
}

#[test]
fn wait_until_deadline_returns_a_value_that_arrives_in_time() {
    let shared = Arc::new((AtomicUsize::new(0), EventCount::new()));
    let producer = {
        let shared = Arc::clone(&shared);
        thread::spawn(move || {
            // Release: pairs with the consumer's Acquire load.
            shared.0.store(7, Release);
            shared.1.notify_all();
        })
    };
    let deadline = deadline_after(Duration::from_secs(60));
    let got = shared.1.wait_until_deadline(
        || Some(shared.0.load(Acquire)).filter(|&v| v != 0),
        deadline,
    );
    assert_eq!(got, Ok(7));
    producer.join().unwrap();
}

/// Producers add items one at a time with notify_one; consumers sleep on the event count and
/// take items with a CAS. Every item is taken exactly once and every consumer ends.
#[test]
fn stress_notify_one_loses_no_item() {
    const PRODUCERS: usize = 2;
    const CONSUMERS: usize = 3;
    let per_producer = if cfg!(miri) { 20 } else { 20_000 };
    let total = PRODUCERS * per_producer;

    struct Shared {
        available: AtomicUsize,
        produced_all: AtomicBool,
        ec: EventCount,
    }
    let shared = Arc::new(Shared {
        available: AtomicUsize::new(0),
        produced_all: AtomicBool::new(false),
        ec: EventCount::new(),
    });
    let take = |s: &Shared| -> Option<bool> {
        // Acquire: pairs with the producers' Release fetch_add.
        let n = s.available.load(Acquire);
        if n > 0 {
            // AcqRel: takes one item; failure just retries.
            let took = s
                .available
                .compare_exchange(n, n - 1, AcqRel, Relaxed)
                .is_ok();
            return took.then_some(true).or(Some(false));
        }
        // Acquire: pairs with the Release store after the last item.
        s.produced_all.load(Acquire).then_some(false)
    };
    let consumers: Vec<_> = (0..CONSUMERS)
        .map(|_| {
            let shared = Arc::clone(&shared);
            thread::spawn(move || {
                let mut taken = 0usize;
                loop {
                    match shared.ec.wait_until(|| take(&shared)) {
                        true => taken += 1,
                        false if shared.available.load(Acquire) == 0 => return taken,
                        false => {}
                    }
                }
            })
        })
        .collect();
    let producers: Vec<_> = (0..PRODUCERS)
        .map(|_| {
            let shared = Arc::clone(&shared);
            thread::spawn(move || {
                for _ in 0..per_producer {
                    // Release: publishes the item to a consumer's Acquire load.
                    shared.available.fetch_add(1, Release);
                    shared.ec.notify_one();
                }
            })
        })
        .collect();
    for p in producers {
        p.join().unwrap();
    }
    // Release: pairs with the consumers' Acquire load of `produced_all`.
    shared.produced_all.store(true, Release);
    shared.ec.notify_all();
    let taken: usize = consumers.into_iter().map(|c| c.join().unwrap()).sum();
    assert_eq!(taken, total);
    assert_eq!(shared.available.load(Relaxed), 0);
}

/// Sequential model: a key returns from a wait at once iff some notify came after its
/// prepare_wait. `Op` drives the real event count and the model side by side.
#[derive(Debug, Clone)]
enum Op {
    Prepare,
    NotifyOne,
    NotifyAll,
    /// Wait (with an expired deadline) on the key at this index, modulo the live keys.
    Wait(usize),
    Cancel(usize),
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        3 => Just(Op::Prepare),
        1 => Just(Op::NotifyOne),
        1 => Just(Op::NotifyAll),
        2 => any::<usize>().prop_map(Op::Wait),
        1 => any::<usize>().prop_map(Op::Cancel),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(if cfg!(miri) { 8 } else { 256 }))]
    #[test]
    fn matches_sequential_model(ops in proptest::collection::vec(op(), 1..40)) {
        let ec = EventCount::new();
        // Each live key with the number of notifies the model saw since its prepare.
        let mut keys: Vec<(gearset_sync::Key<'_>, usize)> = Vec::new();
        for op in ops {
            match op {
                Op::Prepare => keys.push((ec.prepare_wait(), 0)),
                Op::NotifyOne | Op::NotifyAll => {
                    if op_is_one(&op) { ec.notify_one() } else { ec.notify_all() }
                    keys.iter_mut().for_each(|(_, seen)| *seen += 1);
                }
                Op::Wait(i) if !keys.is_empty() => {
                    let (key, seen) = keys.remove(i % keys.len());
                    let woke = key.wait_deadline(std::time::Instant::now()).is_ok();
                    prop_assert_eq!(woke, seen > 0);
                }
                Op::Cancel(i) if !keys.is_empty() => drop(keys.remove(i % keys.len())),
                Op::Wait(_) | Op::Cancel(_) => {}
            }
            let expected = format!("waiters: {} }}", keys.len());
            let debug = format!("{ec:?}");
            prop_assert!(debug.ends_with(&expected), "{} does not end with {}", debug, expected);
        }
    }
}

fn op_is_one(op: &Op) -> bool {
    matches!(op, Op::NotifyOne)
}
