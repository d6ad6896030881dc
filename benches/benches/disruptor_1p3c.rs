//! 1 producer -> 3 consumers, multicast (every consumer sees every event) and a 3-stage
//! pipeline (each stage after the previous one): gearset-disruptor against the `disruptor`
//! crate (4.x) and crossbeam-channel `bounded` (multicast: one channel per consumer; pipeline:
//! a chain of channels), with the cache-line ping-pong floor in the same run.
//!
//! Each measured iteration publishes `BURST` u64 events one at a time and waits until the last
//! consumer has counted them all. `gearset` and `disruptor`: every consumer and the producer
//! busy-spin; `gearset_blocking`: gearset's defaults (consumers block on an event count, the
//! producer yields on a full ring). **4 threads on this 2-core
//! machine**: the scenarios are named `1p3c` (multicast) and `1p3c_pipeline`, and the bench
//! report flags them as oversubscribed; expect scheduling noise, and read them as "no collapse
//! when threads outnumber cores", not as the steady-state throughput of a 4-core box.
//! Run: `cargo bench -p gearset-benches --bench disruptor_1p3c`.
#![allow(clippy::disallowed_types, clippy::disallowed_methods)]

use std::{sync::Arc, thread, time::Duration};

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use gearset_benches::bursts::{Sink, counting, measure_bursts, sink};
use gearset_sync::wait::{Blocking, BusySpin, WaitStrategy};

const RING: usize = 1024;
const BURST: u64 = 10_240;
const CONSUMERS: usize = 3;

fn sinks() -> Vec<Sink> {
    (0..CONSUMERS).map(|_| sink()).collect()
}

/// Runs `iters` bursts and returns the time until every sink counted them.
fn measure(iters: u64, sinks: &[Sink], total: &mut u64, burst: impl FnMut()) -> Duration {
    measure_bursts(iters, BURST, sinks, total, burst)
}

/// gearset with consumers waiting by `wait()`; `spin_producer` makes the producer busy-spin on
/// a full ring too (like the `disruptor` crate), else it keeps the default (yielding).
fn gearset<W: WaitStrategy + 'static>(
    c: &mut Criterion,
    scenario: &str,
    pipeline: bool,
    (id, wait, spin_producer): (&str, fn() -> W, bool),
) {
    use gearset_disruptor::Disruptor;
    let sinks = sinks();
    let mut builder = Disruptor::single_producer(RING, || 0u64).unwrap();
    let mut previous = None;
    for sink in &sinks {
        let mut count = counting(sink);
        let consumer = builder
            .consumer(move |e: &u64, _, end| count(e, end))
            .wait_strategy(wait());
        let consumer = match (pipeline, previous) {
            (true, Some(id)) => consumer.after(&[id]),
            _ => consumer,
        };
        previous = Some(consumer.add());
    }
    if spin_producer {
        builder.producer_wait_strategy(BusySpin::new());
    }
    let (mut producer, disruptor) = builder.build().unwrap();
    let mut total = 0;
    let mut g = c.benchmark_group(scenario);
    g.throughput(Throughput::Elements(BURST));
    g.bench_function(id, |b| {
        b.iter_custom(|iters| {
            measure(iters, &sinks, &mut total, || {
                for i in 0..BURST {
                    producer.publish(|e, _| *e = i).unwrap();
                }
            })
        })
    });
    g.finish();
    drop(producer);
    disruptor.join().unwrap();
}

fn disruptor_crate(c: &mut Criterion, scenario: &str, pipeline: bool) {
    let sinks = sinks();
    let handler = |sink: &Sink| {
        let mut count = counting(sink);
        move |e: &u64, _seq: i64, end: bool| count(e, end)
    };
    let builder = disruptor::build_single_producer(RING, || 0u64, disruptor::BusySpin)
        .handle_events_with(handler(&sinks[0]));
    if pipeline {
        let producer = builder
            .and_then()
            .handle_events_with(handler(&sinks[1]))
            .and_then()
            .handle_events_with(handler(&sinks[2]))
            .build();
        measure_disruptor_crate(c, scenario, &sinks, producer);
    } else {
        let producer = builder
            .handle_events_with(handler(&sinks[1]))
            .handle_events_with(handler(&sinks[2]))
            .build();
        measure_disruptor_crate(c, scenario, &sinks, producer);
    }
}

fn measure_disruptor_crate(
    c: &mut Criterion,
    scenario: &str,
    sinks: &[Sink],
    mut producer: impl disruptor::Producer<u64>,
) {
    let mut total = 0;
    let mut g = c.benchmark_group(scenario);
    g.throughput(Throughput::Elements(BURST));
    g.bench_function("disruptor", |b| {
        b.iter_custom(|iters| {
            measure(iters, sinks, &mut total, || {
                for i in 0..BURST {
                    producer.publish(|e| *e = i);
                }
            })
        })
    });
    g.finish();
}

/// crossbeam: multicast sends each event to every consumer's channel; the pipeline forwards
/// it from stage to stage.
fn crossbeam(c: &mut Criterion, scenario: &str, pipeline: bool) {
    let sinks = sinks();
    let channels: Vec<_> = (0..CONSUMERS)
        .map(|_| crossbeam_channel::bounded::<u64>(RING))
        .collect();
    let senders: Vec<_> = channels.iter().map(|(tx, _)| tx.clone()).collect();
    let mut threads = Vec::new();
    for (i, (_, rx)) in channels.into_iter().enumerate() {
        let sink = Arc::clone(&sinks[i]);
        let next = (pipeline && i + 1 < CONSUMERS).then(|| senders[i + 1].clone());
        threads.push(thread::spawn(move || {
            let mut count = counting(&sink);
            while let Ok(e) = rx.recv() {
                if let Some(next) = &next {
                    next.send(e).unwrap();
                }
                count(&e, rx.is_empty());
            }
        }));
    }
    let inputs: Vec<_> = if pipeline {
        vec![senders[0].clone()]
    } else {
        senders.clone()
    };
    drop(senders);
    let mut total = 0;
    let mut g = c.benchmark_group(scenario);
    g.throughput(Throughput::Elements(BURST));
    g.bench_function("crossbeam", |b| {
        b.iter_custom(|iters| {
            measure(iters, &sinks, &mut total, || {
                for i in 0..BURST {
                    for tx in &inputs {
                        tx.send(i).unwrap();
                    }
                }
            })
        })
    });
    g.finish();
    drop(inputs);
    for t in threads {
        t.join().unwrap();
    }
}

/// Busy-spin everywhere, as the `disruptor` crate does.
const SPINNING: (&str, fn() -> BusySpin, bool) = ("gearset", BusySpin::new, true);
/// The defaults: blocking consumers (event count), a yielding producer.
const BLOCKING: (&str, fn() -> Blocking, bool) = ("gearset_blocking", Blocking::new, false);

fn multicast(c: &mut Criterion) {
    gearset(c, "disruptor/1p3c", false, SPINNING);
    gearset(c, "disruptor/1p3c", false, BLOCKING);
    disruptor_crate(c, "disruptor/1p3c", false);
    crossbeam(c, "disruptor/1p3c", false);
}

fn pipeline(c: &mut Criterion) {
    gearset(c, "disruptor/1p3c_pipeline", true, SPINNING);
    gearset(c, "disruptor/1p3c_pipeline", true, BLOCKING);
    disruptor_crate(c, "disruptor/1p3c_pipeline", true);
    crossbeam(c, "disruptor/1p3c_pipeline", true);
}

criterion_group! {
    name = benches;
    config = gearset_benches::config();
    targets = gearset_benches::bench_floor, multicast, pipeline
}
criterion_main!(benches);
