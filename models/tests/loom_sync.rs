//! loom models of the event count and the blocking wait strategies: every interleaving and
//! every weak-memory outcome loom explores, with at most 3 threads.
//!
//! Run: `cargo xtask loom` (or `RUSTFLAGS="--cfg gearset_loom" cargo test -p gearset-models
//! --test loom_sync --profile models`). Expected: about 10 s in all on 2 cores.
//!
//! Preemption bound: 3 for the two-thread models (exhaustive in practice at this size), 2 for
//! the three-thread ones (the bound tokio and crossbeam use in CI; loom's docs: "2 or 3 is
//! enough to catch most bugs"). The TLA+ twin is `tla/sync/EventCount.tla` with 2 waiters.
#![cfg(gearset_loom)]

use gearset_sync::{
    Arc, EventCount,
    atomic::{
        AtomicBool, AtomicUsize,
        Ordering::{AcqRel, Acquire, Relaxed, Release},
    },
    cell::UnsafeCell,
    loom, thread,
    time::Instant,
    wait::{BusySpin, Phased, TimedOut, WaitStrategy, Yielding},
};

fn model(preemption_bound: usize, f: impl Fn() + Sync + Send + 'static) {
    let mut builder = loom::model::Builder::new();
    builder.preemption_bound = Some(preemption_bound);
    builder.check(f);
}

/// A flag, a plain value published with it, and the event count to wait on.
struct Flag {
    set: AtomicBool,
    value: UnsafeCell<u32>,
    ec: EventCount,
}

// SAFETY: `value` is written only before `set` is stored (Release) and read only after `set`
// was loaded as true (Acquire); loom checks exactly this.
unsafe impl Sync for Flag {}

impl Flag {
    fn new() -> Self {
        Self {
            set: AtomicBool::new(false),
            value: UnsafeCell::new(0),
            ec: EventCount::new(),
        }
    }

    fn publish(&self, value: u32, wake_all: bool) {
        // SAFETY: readers touch `value` only after seeing `set`, stored below.
        self.value.with_mut(|p| unsafe { *p = value });
        // Release: publishes `value`; pairs with the Acquire load in `ready`.
        self.set.store(true, Release);
        if wake_all {
            self.ec.notify_all()
        } else {
            self.ec.notify_one()
        }
    }

    fn ready(&self) -> Option<u32> {
        // Acquire: pairs with the Release store in `publish`.
        // SAFETY: `set` was seen true, so the writer is done with `value`.
        self.set
            .load(Acquire)
            .then(|| self.value.with(|p| unsafe { *p }))
    }
}

/// NoLostWakeup, one waiter, notify_one: the waiter always wakes and sees the value.
#[test]
fn no_lost_wakeup_notify_one() {
    model(3, || {
        let flag = Arc::new(Flag::new());
        let waiter = {
            let flag = Arc::clone(&flag);
            thread::spawn(move || flag.ec.wait_until(|| flag.ready()))
        };
        flag.publish(7, false);
        assert_eq!(waiter.join().unwrap(), 7);
    });
}

/// NoLostWakeup, two waiters, notify_all.
#[test]
fn notify_all_wakes_both_waiters() {
    model(2, || {
        let flag = Arc::new(Flag::new());
        let waiters: Vec<_> = (0..2)
            .map(|_| {
                let flag = Arc::clone(&flag);
                thread::spawn(move || flag.ec.wait_until(|| flag.ready()))
            })
            .collect();
        flag.publish(9, true);
        for waiter in waiters {
            assert_eq!(waiter.join().unwrap(), 9);
        }
    });
}

/// Two consumers each take one item; the producer adds two items with one notify_one each.
/// A waiter that registered after a notify must not absorb it (the sleeper queue picks the
/// oldest stale key), or one consumer would sleep forever and loom would report a deadlock.
#[test]
fn notify_one_per_item_wakes_enough_consumers() {
    model(2, || {
        let shared = Arc::new((AtomicUsize::new(0), EventCount::new()));
        // The condition must be exact: "an item exists" has to return Some. (A first version
        // gave up when its CAS lost to the other consumer, and loom found the consumer asleep
        // next to an item: a lost wake-up in the *condition*, not in the event count.)
        let take = |items: &AtomicUsize| {
            // AcqRel: claims one item, pairing with the producer's Release fetch_add; Acquire
            // on failure re-reads the count.
            items
                .fetch_update(AcqRel, Acquire, |n| n.checked_sub(1))
                .ok()
                .map(drop)
        };
        let consumers: Vec<_> = (0..2)
            .map(|_| {
                let shared = Arc::clone(&shared);
                thread::spawn(move || shared.1.wait_until(|| take(&shared.0)))
            })
            .collect();
        for _ in 0..2 {
            // Release: publishes the item to a consumer's Acquire load.
            shared.0.fetch_add(1, Release);
            shared.1.notify_one();
        }
        for consumer in consumers {
            consumer.join().unwrap();
        }
        assert_eq!(shared.0.load(Relaxed), 0);
    });
}

/// A timed wait with nobody to notify it ends with TimedOut (under loom a deadline expires at
/// its first check), and leaves the event count with no registered waiter.
#[test]
fn timed_wait_without_notifier_times_out() {
    model(3, || {
        let ec = EventCount::new();
        let got = ec.wait_until_deadline(|| None::<()>, Some(Instant::now()));
        assert_eq!(got, Err(TimedOut));
        assert!(format!("{ec:?}").ends_with("waiters: 0 }"));
    });
}

/// A timed wait racing a notify: it either sees the value or times out after a last check
/// that could not see it; either way it terminates and no waiter stays registered.
#[test]
fn timed_wait_racing_notify_terminates() {
    model(3, || {
        let flag = Arc::new(Flag::new());
        let waiter = {
            let flag = Arc::clone(&flag);
            thread::spawn(move || {
                flag.ec
                    .wait_until_deadline(|| flag.ready(), Some(Instant::now()))
            })
        };
        flag.publish(5, false);
        let got = waiter.join().unwrap();
        assert!(got == Ok(5) || got == Err(TimedOut), "{got:?}");
        assert!(format!("{:?}", flag.ec).ends_with("waiters: 0 }"));
    });
}

/// A strategy hands a published value over: the waiter sees the flag and the plain data
/// written before it (loom checks the `UnsafeCell` access against the orderings).
fn strategy_hands_over(strategy: impl WaitStrategy + 'static) {
    let shared = Arc::new((Flag::new(), strategy));
    let waiter = {
        let shared = Arc::clone(&shared);
        thread::spawn(move || shared.1.wait_for(|| shared.0.ready()))
    };
    shared.0.publish(3, true);
    shared.1.notify_all();
    assert_eq!(waiter.join().unwrap(), Ok(3));
}

/// The Phased strategy (spin phase skipped under models, then the event count) wakes.
#[test]
fn phased_strategy_hands_over() {
    model(3, || strategy_hands_over(Phased::new()));
}

/// BusySpin spins with `hint::spin_loop`, a yield to loom's scheduler.
#[test]
fn busy_spin_strategy_hands_over() {
    model(3, || strategy_hands_over(BusySpin::new()));
}

/// Yielding backs off with `Backoff::snooze`, a yield under loom.
#[test]
fn yielding_strategy_hands_over() {
    model(3, || strategy_hands_over(Yielding::new()));
}
