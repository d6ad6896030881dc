//! 1 producer -> 1 consumer throughput: gearset-disruptor against the `disruptor` crate (4.x),
//! crossbeam-channel `bounded` and rtrb (an SPSC ring), one event at a time and in batches of
//! 64, with the cache-line ping-pong floor in the same run.
//!
//! Each measured iteration publishes `BURST` u64 events and waits until the consumer has seen
//! the last one (the consumer stores a running count into a padded atomic sink). Ring size
//! 1024; both disruptors' consumers busy-spin, the producers claim with their default policy.
//! Run: `cargo bench -p gearset-benches --bench disruptor_1p1c`.
#![allow(clippy::disallowed_types, clippy::disallowed_methods)]

use std::{
    hint,
    sync::{
        Arc,
        atomic::{
            AtomicU64,
            Ordering::{Acquire, Release},
        },
    },
    thread,
};

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use crossbeam_utils::CachePadded;
use gearset_benches::bursts::{
    Sink, measure_bursts, publish_disruptor_crate, publish_gearset, sink, spinning_1p1c,
    spinning_1p1c_disruptor_crate,
};

const RING: usize = 1024;
// A multiple of `BATCH`, so batched and one-at-a-time runs publish the same count.
const BURST: u64 = 10_240;
const BATCH: usize = 64;

/// Runs `iters` bursts with `publish_burst` and returns the time until the consumer saw them.
fn measure(
    iters: u64,
    sink: &Sink,
    total: &mut u64,
    publish_burst: impl FnMut(),
) -> std::time::Duration {
    measure_bursts(
        iters,
        BURST,
        std::slice::from_ref(sink),
        total,
        publish_burst,
    )
}

fn gearset(c: &mut Criterion, group: &str, batch: usize) {
    let sink = sink();
    let (mut producer, disruptor) = spinning_1p1c(RING, &sink);
    let mut total = 0;
    let mut g = c.benchmark_group(group);
    g.throughput(Throughput::Elements(BURST));
    g.bench_function("gearset", |b| {
        b.iter_custom(|iters| {
            measure(iters, &sink, &mut total, || {
                publish_gearset(&mut producer, BURST, batch)
            })
        })
    });
    g.finish();
    drop(producer);
    disruptor.join().unwrap();
}

fn disruptor_crate(c: &mut Criterion, group: &str, batch: usize) {
    let sink = sink();
    let mut producer = spinning_1p1c_disruptor_crate(RING, &sink);
    let mut total = 0;
    let mut g = c.benchmark_group(group);
    g.throughput(Throughput::Elements(BURST));
    g.bench_function("disruptor", |b| {
        b.iter_custom(|iters| {
            measure(iters, &sink, &mut total, || {
                publish_disruptor_crate(&mut producer, BURST, batch)
            })
        })
    });
    g.finish();
}

fn crossbeam(c: &mut Criterion, group: &str) {
    let sink = sink();
    let (tx, rx) = crossbeam_channel::bounded::<u64>(RING);
    let consumer_sink = Arc::clone(&sink);
    let consumer = thread::spawn(move || {
        let mut count = 0;
        while let Ok(e) = rx.recv() {
            hint::black_box(e);
            count += 1;
            if rx.is_empty() {
                consumer_sink.store(count, Release);
            }
        }
        consumer_sink.store(count, Release);
    });
    let mut total = 0;
    let mut g = c.benchmark_group(group);
    g.throughput(Throughput::Elements(BURST));
    g.bench_function("crossbeam", |b| {
        b.iter_custom(|iters| {
            measure(iters, &sink, &mut total, || {
                for i in 0..BURST {
                    tx.send(i).unwrap();
                }
            })
        })
    });
    g.finish();
    drop(tx);
    consumer.join().unwrap();
}

/// rtrb: the consumer pops what is there (`read_chunk` of everything, like a disruptor batch);
/// the producer pushes one at a time or writes chunks of `batch`.
fn rtrb_ring(c: &mut Criterion, group: &str, batch: usize) {
    let sink = sink();
    let (mut tx, mut rx) = rtrb::RingBuffer::<u64>::new(RING);
    let consumer_sink = Arc::clone(&sink);
    let stop = Arc::new(CachePadded::new(AtomicU64::new(0)));
    let consumer_stop = Arc::clone(&stop);
    let consumer = thread::spawn(move || {
        let mut count = 0;
        while consumer_stop.load(Acquire) == 0 {
            let n = rx.slots();
            if n == 0 {
                hint::spin_loop();
                continue;
            }
            let chunk = rx.read_chunk(n).unwrap();
            for e in chunk.into_iter() {
                hint::black_box(e);
            }
            count += n as u64;
            consumer_sink.store(count, Release);
        }
    });
    let mut total = 0;
    let mut g = c.benchmark_group(group);
    g.throughput(Throughput::Elements(BURST));
    g.bench_function("rtrb", |b| {
        b.iter_custom(|iters| {
            measure(iters, &sink, &mut total, || {
                if batch == 1 {
                    for i in 0..BURST {
                        while tx.push(i).is_err() {
                            hint::spin_loop();
                        }
                    }
                } else {
                    for _ in 0..BURST / batch as u64 {
                        let chunk = loop {
                            match tx.write_chunk_uninit(batch) {
                                Ok(chunk) => break chunk,
                                Err(_) => hint::spin_loop(),
                            }
                        };
                        chunk.fill_from_iter(0..batch as u64);
                    }
                }
            })
        })
    });
    g.finish();
    stop.store(1, Release);
    consumer.join().unwrap();
}

fn one_at_a_time(c: &mut Criterion) {
    gearset(c, "disruptor/1p1c", 1);
    disruptor_crate(c, "disruptor/1p1c", 1);
    crossbeam(c, "disruptor/1p1c");
    rtrb_ring(c, "disruptor/1p1c", 1);
}

fn batches_of_64(c: &mut Criterion) {
    gearset(c, "disruptor/1p1c_batch64", BATCH);
    disruptor_crate(c, "disruptor/1p1c_batch64", BATCH);
    rtrb_ring(c, "disruptor/1p1c_batch64", BATCH);
}

criterion_group! {
    name = benches;
    config = gearset_benches::config();
    targets = gearset_benches::bench_floor, one_at_a_time, batches_of_64
}
criterion_main!(benches);
