//! Stress: many supersteps of all-to-all messages, counting every message, every superstep and
//! every serial-section turn, with a checksum over all payloads.
//!
//! `STARBARRIER_STRESS_STEPS` overrides the superstep count (the 10^6:
//! `STARBARRIER_STRESS_STEPS=1000000 cargo test --release -p gearset-starbarrier --test stress`).
// std only: under a model checker these would run outside any model (and `run` is absent).
#![cfg(not(any(gearset_loom, gearset_shuttle)))]

use gearset_starbarrier::{Worker, run};
use gearset_sync::wait::{Phased, Yielding};

fn steps() -> u64 {
    if cfg!(miri) {
        return 20;
    }
    std::env::var("STARBARRIER_STRESS_STEPS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(100_000)
}

/// The payload worker `from` sends to `to` in superstep `k`: unique per (k, from, to).
fn payload(k: u64, from: usize, to: usize) -> u64 {
    (k << 16) | ((from as u64) << 8) | to as u64
}

#[derive(Debug, Default, PartialEq, Eq)]
struct Tally {
    messages: u64,
    checksum: u64,
    supersteps: u64,
}

/// Shared state of the serial section: turns taken and a running checksum of holders.
#[derive(Debug, Default)]
struct Turns {
    count: u64,
    holders: u64,
}

fn stress<W: gearset_sync::wait::WaitStrategy>(n: usize, wait: W) {
    let steps = steps();
    let (turns, tallies) = run(
        n,
        wait,
        Turns::default(),
        |w: &mut Worker<Turns, u64, _>| {
            let me = w.id();
            let mut tally = Tally::default();
            for k in 0..steps {
                let mut from_each = vec![0u32; n];
                for (from, msg) in w.messages() {
                    assert_eq!(msg, payload(k - 1, from, me), "wrong or duplicated message");
                    from_each[from] += 1;
                    tally.messages += 1;
                    tally.checksum = tally.checksum.wrapping_add(msg);
                }
                let want = u32::from(k > 0);
                assert!(
                    from_each.iter().all(|&c| c == want),
                    "superstep {k}: {from_each:?}"
                );
                for to in 0..n {
                    w.send(to, payload(k, me, to)).unwrap();
                }
                w.serial(|t| {
                    assert_eq!(t.count, k, "a turn was skipped or taken twice");
                    t.count += 1;
                    t.holders += me as u64;
                });
                w.sync().unwrap();
                tally.supersteps += 1;
            }
            tally
        },
    )
    .unwrap();
    let mut want_checksum = vec![0u64; n];
    for k in 0..steps - 1 {
        for (to, sum) in want_checksum.iter_mut().enumerate() {
            for from in 0..n {
                *sum = sum.wrapping_add(payload(k, from, to));
            }
        }
    }
    for (to, tally) in tallies.iter().enumerate() {
        let want = Tally {
            messages: (steps - 1) * n as u64,
            checksum: want_checksum[to],
            supersteps: steps,
        };
        assert_eq!(*tally, want, "worker {to}");
    }
    assert_eq!(turns.count, steps);
    assert_eq!(turns.holders, (0..steps).map(|k| k % n as u64).sum::<u64>());
}

#[test]
fn stress_two_workers_yielding() {
    stress(2, Yielding::new());
}

#[test]
fn stress_four_workers_phased() {
    stress(4, Phased::new());
}
