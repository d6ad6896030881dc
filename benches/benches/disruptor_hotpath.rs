//! The single-producer hot path without a second thread: publish 512 events one at a time (or
//! in batches of 64), then drain them with a pull-style poller, on one thread. gearset-disruptor
//! against the `disruptor` crate (4.x, its `EventPoller`). With no cache line crossing cores,
//! this isolates the instructions of claim, write, publish and consume, and it stays meaningful
//! on a busy machine, unlike the spinning 2-thread benches (`disruptor_1p1c`). 1 thread.
//! Run: `cargo bench -p gearset-benches --bench disruptor_hotpath`.
#![allow(clippy::disallowed_types, clippy::disallowed_methods)]

use std::hint;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use gearset_benches::bursts::{publish_disruptor_crate, publish_gearset};

const RING: usize = 1024;
const ROUND: u64 = 512;

fn gearset(c: &mut Criterion, scenario: &str, batch: usize) {
    use gearset_disruptor::{Disruptor, PollState};
    let mut builder = Disruptor::single_producer(RING, || 0u64).unwrap();
    let id = builder.poller(&[]);
    let (mut producer, mut disruptor) = builder.build().unwrap();
    let mut poller = disruptor.take_poller(id).unwrap();
    let mut g = c.benchmark_group(scenario);
    g.throughput(Throughput::Elements(ROUND));
    g.bench_function("gearset", |b| {
        b.iter(|| {
            publish_gearset(&mut producer, ROUND, batch);
            let mut sum = 0u64;
            while let PollState::Processed(_) = poller.poll(|e, _, _| sum = sum.wrapping_add(*e)) {}
            hint::black_box(sum)
        })
    });
    g.finish();
}

fn disruptor_crate(c: &mut Criterion, scenario: &str, batch: usize) {
    let builder = disruptor::build_single_producer(RING, || 0u64, disruptor::BusySpin);
    let (mut poller, builder) = builder.new_event_poller();
    let mut producer = builder.build();
    let mut g = c.benchmark_group(scenario);
    g.throughput(Throughput::Elements(ROUND));
    g.bench_function("disruptor", |b| {
        b.iter(|| {
            publish_disruptor_crate(&mut producer, ROUND, batch);
            let mut sum = 0u64;
            if let Ok(mut events) = poller.poll() {
                for e in &mut events {
                    sum = sum.wrapping_add(*e);
                }
            }
            hint::black_box(sum)
        })
    });
    g.finish();
}

fn hot_path(c: &mut Criterion) {
    gearset(c, "disruptor/hotpath_1t", 1);
    disruptor_crate(c, "disruptor/hotpath_1t", 1);
    gearset(c, "disruptor/hotpath_batch64_1t", 64);
    disruptor_crate(c, "disruptor/hotpath_batch64_1t", 64);
}

criterion_group! {
    name = benches;
    config = gearset_benches::config();
    targets = gearset_benches::bench_floor, hot_path
}
criterion_main!(benches);
