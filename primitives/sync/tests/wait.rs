//! Every wait strategy against the `WaitStrategy` contract: wakes on notify, returns the value
//! `ready` produced, times out only after a last check, and hands over data (Miri checks the
//! happens-before edge).

use std::time::Duration;

use gearset_sync::{
    Arc, Backoff,
    atomic::{
        AtomicU64,
        Ordering::{Acquire, Release},
    },
    thread,
    wait::{Blocking, BusySpin, Phased, TimedOut, WaitStrategy, Yielding},
};

/// A producer publishes 1..=n one at a time and notifies; the waiter must see every value's
/// successor eventually and the last one exactly.
fn hands_over_values<W: WaitStrategy + 'static>(strategy: W) {
    let n = if cfg!(miri) { 5 } else { 1_000 };
    let shared = Arc::new((AtomicU64::new(0), strategy));
    let waiter = {
        let shared = Arc::clone(&shared);
        thread::spawn(move || {
            let mut seen = 0;
            while seen < n {
                // Acquire: pairs with the producer's Release store.
                let next = shared
                    .1
                    .wait_for(|| Some(shared.0.load(Acquire)).filter(|&v| v > seen));
                seen = next.expect("no timeout configured");
            }
            seen
        })
    };
    for v in 1..=n {
        // Release: publishes `v`; pairs with the waiter's Acquire load.
        shared.0.store(v, Release);
        shared.1.notify_all();
    }
    assert_eq!(waiter.join().unwrap(), n);
}

fn times_out<W: WaitStrategy>(strategy: W) {
    let mut checks = 0;
    let got = strategy.wait_for(|| {
        checks += 1;
        None::<()>
    });
    assert_eq!(got, Err(TimedOut));
    assert!(
        checks >= 2,
        "a timeout must follow a last check of the condition"
    );
}

fn last_check_wins_at_the_deadline<W: WaitStrategy>(strategy: W) {
    // The condition turns true exactly at the last check after the deadline.
    let mut checks = 0;
    let got = strategy.wait_until(
        || {
            checks += 1;
            (checks == 2).then_some(checks)
        },
        Some(std::time::Instant::now()),
    );
    assert_eq!(got, Ok(2));
}

const SHORT: Duration = Duration::from_millis(2);

#[test]
fn busy_spin_contract() {
    hands_over_values(BusySpin::new());
    times_out(BusySpin::with_timeout(SHORT));
    last_check_wins_at_the_deadline(BusySpin::new());
}

#[test]
fn yielding_contract() {
    hands_over_values(Yielding::new());
    times_out(Yielding::with_timeout(SHORT));
    last_check_wins_at_the_deadline(Yielding::new());
}

#[test]
fn phased_contract() {
    hands_over_values(Phased::new());
    times_out(Phased::with_timeout(SHORT));
    last_check_wins_at_the_deadline(Phased::new());
}

#[test]
fn blocking_contract() {
    hands_over_values(Blocking::new());
    times_out(Blocking::with_timeout(SHORT));
    last_check_wins_at_the_deadline(Blocking::new());
}

#[test]
fn timeouts_are_reported() {
    assert_eq!(BusySpin::new().timeout(), None);
    assert_eq!(Blocking::with_timeout(SHORT).timeout(), Some(SHORT));
    assert_eq!(TimedOut.to_string(), "the wait timed out");
}

#[test]
fn backoff_completes_and_resets() {
    let backoff = Backoff::new();
    let mut steps = 0;
    while !backoff.is_completed() {
        backoff.snooze();
        steps += 1;
    }
    assert_eq!(steps, 11, "6 spin steps, then yields up to step 10");
    backoff.reset();
    assert!(!backoff.is_completed());
    backoff.spin();
    assert!(format!("{backoff:?}").contains("step: 1"));
}
