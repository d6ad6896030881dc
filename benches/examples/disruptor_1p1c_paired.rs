//! 1P→1C throughput of gearset-disruptor against the `disruptor` crate, *paired*: 40 rounds of
//! 4,000,000 `u64` events each, alternating which crate goes first, and the ratio of the two
//! times taken per round. On a noisy or migrating VM (the 2-vCPU dev box's cross-core latency
//! changes by 4-8× with the hypervisor's placement) back-to-back pairs share the placement,
//! where criterion's per-function runs, seconds apart, often do not.
//!
//! Both rings hold 1,024 slots; both consumers busy-spin and count into a padded sink; the
//! producer publishes one event at a time. Prints the median and quartiles of
//! `disruptor time / gearset time` (above 1 favours gearset) and each side's median ns/event.
//! Run: `cargo run --release -p gearset-benches --example disruptor_1p1c_paired`.
#![allow(clippy::disallowed_types, clippy::disallowed_methods)]

use std::time::{Duration, Instant};

use gearset_benches::bursts::{
    publish_disruptor_crate, publish_gearset, sink, spinning_1p1c, spinning_1p1c_disruptor_crate,
    wait_for,
};

const EVENTS: u64 = 4_000_000;
const RING: usize = 1024;
const ROUNDS: usize = 40;

/// One round through a fresh gearset disruptor.
fn gearset_round() -> Duration {
    let sink = sink();
    let (mut producer, disruptor) = spinning_1p1c(RING, &sink);
    let start = Instant::now();
    publish_gearset(&mut producer, EVENTS, 1);
    wait_for(std::slice::from_ref(&sink), EVENTS);
    let took = start.elapsed();
    drop(producer);
    disruptor.join().unwrap();
    took
}

/// One round through a fresh `disruptor` crate ring.
fn disruptor_round() -> Duration {
    let sink = sink();
    let mut producer = spinning_1p1c_disruptor_crate(RING, &sink);
    let start = Instant::now();
    publish_disruptor_crate(&mut producer, EVENTS, 1);
    wait_for(std::slice::from_ref(&sink), EVENTS);
    start.elapsed()
}

fn median(v: &mut [f64]) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

fn main() {
    let (mut ratios, mut ours, mut theirs) = (vec![], vec![], vec![]);
    for round in 0..ROUNDS {
        let (g, d) = if round % 2 == 0 {
            let g = gearset_round();
            (g, disruptor_round())
        } else {
            let d = disruptor_round();
            (gearset_round(), d)
        };
        ratios.push(d.as_secs_f64() / g.as_secs_f64());
        ours.push(g.as_nanos() as f64 / EVENTS as f64);
        theirs.push(d.as_nanos() as f64 / EVENTS as f64);
    }
    let (g, d) = (median(&mut ours), median(&mut theirs));
    let mid = median(&mut ratios);
    let (q1, q3) = (ratios[ROUNDS / 4], ratios[3 * ROUNDS / 4]);
    println!(
        "1P->1C paired, {ROUNDS} rounds x {EVENTS} events: disruptor/gearset time ratio median {mid:.3} (quartiles {q1:.3}..{q3:.3}); gearset {g:.2} ns/event, disruptor {d:.2} ns/event (medians)"
    );
}
