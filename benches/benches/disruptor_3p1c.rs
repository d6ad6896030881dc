//! 3 producers -> 1 consumer throughput: gearset-disruptor (multi-producer) against the
//! `disruptor` crate (4.x, multi-producer) and crossbeam-channel `bounded`.
//!
//! Three persistent producer threads each publish `BURST / 3` u64 events per measured
//! iteration, one at a time; the iteration ends when the consumer has counted all of them.
//! Producers wait for the next iteration by yielding; the consumer busy-spins (`gearset`,
//! `disruptor`) or blocks (`gearset_blocking`, gearset's default strategies): with more
//! threads than cores (this bench's point, see disruptor-rs #12) expect heavy scheduling noise.
//! Run: `cargo bench -p gearset-benches --bench disruptor_3p1c`.
#![allow(clippy::disallowed_types, clippy::disallowed_methods)]

use std::{
    sync::{
        Arc,
        atomic::Ordering::{Acquire, Release},
    },
    thread,
    time::Instant,
};

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use disruptor::Producer as _;
use gearset_benches::bursts::{Sink, counting, sink, wait_for};
use gearset_sync::wait::{Blocking, BusySpin, WaitStrategy};

const RING: usize = 1024;
const PRODUCERS: u64 = 3;
const BURST: u64 = 3 * 3_000;
const STOP: u64 = u64::MAX;

/// Starts the producer threads: each runs `publish(n)` once per generation posted on `go`.
fn producers<P: Send + 'static>(
    go: &Sink,
    handles: Vec<P>,
    publish: fn(&mut P, u64),
) -> Vec<thread::JoinHandle<()>> {
    handles
        .into_iter()
        .map(|mut handle| {
            let go = Arc::clone(go);
            thread::spawn(move || {
                let mut generation = 0;
                loop {
                    let posted = loop {
                        let posted = go.load(Acquire);
                        if posted != generation {
                            break posted;
                        }
                        thread::yield_now();
                    };
                    if posted == STOP {
                        return;
                    }
                    publish(&mut handle, BURST / PRODUCERS);
                    generation += 1;
                }
            })
        })
        .collect()
}

/// One criterion function: posts a generation per iteration and waits for the consumer.
fn run<P: Send + 'static>(
    c: &mut Criterion,
    id: &str,
    handles: Vec<P>,
    sink: Sink,
    publish: fn(&mut P, u64),
) {
    let go = gearset_benches::bursts::sink();
    let threads = producers(&go, handles, publish);
    let mut total = 0;
    let mut g = c.benchmark_group("disruptor/3p1c");
    g.throughput(Throughput::Elements(BURST));
    g.bench_function(id, |b| {
        b.iter_custom(|iters| {
            let start = Instant::now();
            for _ in 0..iters {
                go.fetch_add(1, Release);
                total += BURST;
                wait_for(std::slice::from_ref(&sink), total);
            }
            start.elapsed()
        })
    });
    g.finish();
    go.store(STOP, Release);
    threads.into_iter().for_each(|t| t.join().unwrap());
}

/// gearset with a busy-spin consumer (`gearset`, like the `disruptor` crate) or with the
/// defaults (`gearset_blocking`: the consumer blocks on an event count, producers yield on a
/// full ring).
fn gearset_with<W: WaitStrategy + 'static>(c: &mut Criterion, id: &str, wait: W) {
    use gearset_disruptor::{Disruptor, Multi, Producer};
    let sink = sink();
    let mut handler = counting(&sink);
    let mut builder = Disruptor::multi_producer(RING, || 0u64).unwrap();
    builder
        .consumer(move |e: &u64, _, eob| handler(e, eob))
        .wait_strategy(wait)
        .add();
    let (producer, disruptor) = builder.build().unwrap();
    let handles: Vec<_> = (0..PRODUCERS).map(|_| producer.clone()).collect();
    drop(producer);
    run(c, id, handles, sink, |p: &mut Producer<u64, Multi>, n| {
        for i in 0..n {
            p.publish(|e, _| *e = i).unwrap();
        }
    });
    disruptor.join().unwrap();
}

fn gearset(c: &mut Criterion) {
    gearset_with(c, "gearset", BusySpin::new());
    gearset_with(c, "gearset_blocking", Blocking::new());
}

fn disruptor_crate(c: &mut Criterion) {
    let sink = sink();
    let mut handler = counting(&sink);
    let producer = disruptor::build_multi_producer(RING, || 0u64, disruptor::BusySpin)
        .handle_events_with(move |e: &u64, _seq: i64, eob: bool| handler(e, eob))
        .build();
    let handles: Vec<_> = (0..PRODUCERS).map(|_| producer.clone()).collect();
    drop(producer);
    run(c, "disruptor", handles, sink, |p, n| {
        for i in 0..n {
            p.publish(|e| *e = i);
        }
    });
}

fn crossbeam(c: &mut Criterion) {
    let sink = sink();
    let (tx, rx) = crossbeam_channel::bounded::<u64>(RING);
    let mut handler = counting(&sink);
    let consumer = thread::spawn(move || {
        while let Ok(e) = rx.recv() {
            handler(&e, rx.is_empty());
        }
    });
    let handles: Vec<_> = (0..PRODUCERS).map(|_| tx.clone()).collect();
    drop(tx);
    run(c, "crossbeam", handles, sink, |tx, n| {
        for i in 0..n {
            tx.send(i).unwrap();
        }
    });
    consumer.join().unwrap();
}

criterion_group! {
    name = benches;
    config = gearset_benches::config();
    targets = gearset_benches::bench_floor, gearset, disruptor_crate, crossbeam
}
criterion_main!(benches);
