//! shuttle tests of the event count and the wait strategies: more threads than loom can take,
//! under random and PCT schedules, thousands of iterations each.
//!
//! shuttle runs every atomic as SeqCst, so these check the protocol (lost wake-ups, sleeper
//! queue bookkeeping, shutdown), not the orderings: loom and Miri own those.
//! Run: `cargo xtask shuttle`. Expected: about 10 s in all on 2 cores.
#![cfg(gearset_shuttle)]

use gearset_models::shuttle_iterations;
use gearset_sync::{
    Arc, EventCount,
    atomic::{
        AtomicBool, AtomicUsize,
        Ordering::{AcqRel, Acquire, Release},
    },
    shuttle, thread,
    time::Instant,
    wait::{Blocking, Phased, WaitStrategy, Yielding},
};

const PRODUCERS: usize = 2;
const CONSUMERS: usize = 3;
const ITEMS_EACH: usize = 3;

/// Producers add items with notify_one; consumers take one item per wait; when all items are
/// produced a shutdown flag is raised with notify_all. Every item is taken exactly once and
/// every consumer ends: a lost wake-up shows up as a shuttle deadlock.
fn items_and_shutdown(strategy: impl WaitStrategy + 'static) {
    struct Shared<W> {
        items: AtomicUsize,
        closed: AtomicBool,
        wait: W,
    }
    let shared = Arc::new(Shared {
        items: AtomicUsize::new(0),
        closed: AtomicBool::new(false),
        wait: strategy,
    });
    let consumers: Vec<_> = (0..CONSUMERS)
        .map(|_| {
            let shared = Arc::clone(&shared);
            thread::spawn(move || {
                let mut taken = 0;
                loop {
                    let got = shared.wait.wait_for(|| {
                        // AcqRel: claims an item, pairing with the producers' Release add.
                        if shared
                            .items
                            .fetch_update(AcqRel, Acquire, |n| n.checked_sub(1))
                            .is_ok()
                        {
                            return Some(true);
                        }
                        // Acquire: pairs with the Release store of `closed`.
                        shared.closed.load(Acquire).then_some(false)
                    });
                    match got.expect("no timeout configured") {
                        true => taken += 1,
                        false => return taken,
                    }
                }
            })
        })
        .collect();
    let producers: Vec<_> = (0..PRODUCERS)
        .map(|_| {
            let shared = Arc::clone(&shared);
            thread::spawn(move || {
                for _ in 0..ITEMS_EACH {
                    // Release: publishes the item.
                    shared.items.fetch_add(1, Release);
                    shared.wait.notify_one();
                }
            })
        })
        .collect();
    for p in producers {
        p.join().unwrap();
    }
    // Closing only after every item is in: consumers drain, then see `closed` with 0 items.
    shared.closed.store(true, Release);
    shared.wait.notify_all();
    let taken: usize = consumers.into_iter().map(|c| c.join().unwrap()).sum();
    assert_eq!(taken + shared.items.load(Acquire), PRODUCERS * ITEMS_EACH);
}

/// Five waiters, two of them with deadlines, and a notify_all: the untimed ones always wake,
/// the timed ones wake or time out, and no waiter stays registered.
fn mixed_timed_and_untimed_waiters() {
    let shared = Arc::new((AtomicBool::new(false), EventCount::new()));
    let waiters: Vec<_> = (0..5)
        .map(|i| {
            let shared = Arc::clone(&shared);
            thread::spawn(move || {
                // Acquire: pairs with the Release store below.
                let ready = || shared.0.load(Acquire).then_some(());
                let deadline = (i % 2 == 1).then(Instant::now);
                (
                    deadline.is_none(),
                    shared.1.wait_until_deadline(ready, deadline),
                )
            })
        })
        .collect();
    shared.0.store(true, Release);
    shared.1.notify_all();
    for waiter in waiters {
        let (untimed, got) = waiter.join().unwrap();
        assert!(got.is_ok() || !untimed, "an untimed waiter gave up");
    }
    assert!(format!("{:?}", shared.1).ends_with("waiters: 0 }"));
}

#[test]
fn blocking_items_and_shutdown_random() {
    shuttle::check_random(
        || items_and_shutdown(Blocking::new()),
        shuttle_iterations(10_000),
    );
}

#[test]
fn blocking_items_and_shutdown_pct() {
    shuttle::check_pct(
        || items_and_shutdown(Blocking::new()),
        shuttle_iterations(10_000),
        3,
    );
}

#[test]
fn phased_items_and_shutdown_pct() {
    shuttle::check_pct(
        || items_and_shutdown(Phased::new()),
        shuttle_iterations(5_000),
        3,
    );
}

#[test]
fn yielding_items_and_shutdown_random() {
    shuttle::check_random(
        || items_and_shutdown(Yielding::new()),
        shuttle_iterations(5_000),
    );
}

#[test]
fn mixed_timed_and_untimed_waiters_random() {
    shuttle::check_random(mixed_timed_and_untimed_waiters, shuttle_iterations(10_000));
}

#[test]
fn mixed_timed_and_untimed_waiters_pct() {
    shuttle::check_pct(
        mixed_timed_and_untimed_waiters,
        shuttle_iterations(10_000),
        3,
    );
}
