//! What the disruptor benches share: the sinks their consumers count into, the driver that
//! publishes bursts and waits for the sinks, and the publish loops of both disruptors (one
//! event at a time, or in batches).

use std::{
    hint,
    sync::{
        Arc,
        atomic::{
            AtomicU64,
            Ordering::{Acquire, Release},
        },
    },
    time::{Duration, Instant},
};

use crossbeam_utils::CachePadded;
use gearset_disruptor::{Disruptor, Flavor, Producer, Single};
use gearset_sync::wait::BusySpin;

/// A consumer's running count of the events it handled, on its own cache line; the measuring
/// thread waits on it.
pub type Sink = Arc<CachePadded<AtomicU64>>;

/// A sink at 0.
pub fn sink() -> Sink {
    Arc::new(CachePadded::new(AtomicU64::new(0)))
}

/// A handler body that counts events and stores the count into `sink` at the end of each
/// batch (one store per batch, as a real consumer would publish its progress).
pub fn counting(sink: &Sink) -> impl FnMut(&u64, bool) + Send + use<> {
    let sink = Arc::clone(sink);
    let mut count = 0;
    move |e, end_of_batch| {
        hint::black_box(e);
        count += 1;
        if end_of_batch {
            // Release: pairs with the Acquire load in `wait_for`.
            sink.store(count, Release);
        }
    }
}

/// A single-producer gearset ring of `capacity` `u64`s with one consumer counting into `sink`;
/// the consumer and the producer (on a full ring) busy-spin, as the `disruptor` crate's do.
pub fn spinning_1p1c(
    capacity: usize,
    sink: &Sink,
) -> (Producer<u64, Single>, Disruptor<u64, Single>) {
    let mut count = counting(sink);
    let mut builder = Disruptor::single_producer(capacity, || 0u64).unwrap();
    builder
        .consumer(move |e: &u64, _, end_of_batch| count(e, end_of_batch))
        .wait_strategy(BusySpin::new())
        .add();
    builder.producer_wait_strategy(BusySpin::new());
    builder.build().unwrap()
}

/// The same with the `disruptor` crate (its only strategy is busy-spin); dropping the producer
/// joins the consumer.
pub fn spinning_1p1c_disruptor_crate(
    capacity: usize,
    sink: &Sink,
) -> impl disruptor::Producer<u64> {
    let mut count = counting(sink);
    let handler = move |e: &u64, _seq: i64, end_of_batch: bool| count(e, end_of_batch);
    disruptor::build_single_producer(capacity, || 0u64, disruptor::BusySpin)
        .handle_events_with(handler)
        .build()
}

/// Spins until every sink has counted at least `target` events.
pub fn wait_for(sinks: &[Sink], target: u64) {
    for sink in sinks {
        // Acquire: pairs with the Release store in `counting`.
        while sink.load(Acquire) < target {
            hint::spin_loop();
        }
    }
}

/// Runs `iters` bursts of `burst` events with `publish_burst` and returns the time until every
/// sink counted them; `total` carries the count across criterion's calls.
pub fn measure_bursts(
    iters: u64,
    burst: u64,
    sinks: &[Sink],
    total: &mut u64,
    mut publish_burst: impl FnMut(),
) -> Duration {
    let start = Instant::now();
    for _ in 0..iters {
        publish_burst();
        *total += burst;
    }
    wait_for(sinks, *total);
    start.elapsed()
}

/// Publishes `n` events (each its sequence) with gearset-disruptor, one at a time when
/// `batch == 1`, else in batches of `batch` (`n` a multiple of it).
pub fn publish_gearset<S: Flavor>(producer: &mut Producer<u64, S>, n: u64, batch: usize) {
    if batch == 1 {
        for _ in 0..n {
            producer.publish(|e, seq| *e = seq).unwrap();
        }
    } else {
        for _ in 0..n / batch as u64 {
            producer.publish_batch(batch, |e, seq| *e = seq).unwrap();
        }
    }
}

/// The same with the `disruptor` crate: `publish` one at a time, else `batch_publish`.
pub fn publish_disruptor_crate(producer: &mut impl disruptor::Producer<u64>, n: u64, batch: usize) {
    if batch == 1 {
        for i in 0..n {
            producer.publish(|e| *e = i);
        }
    } else {
        for _ in 0..n / batch as u64 {
            producer.batch_publish(batch, |events| {
                for (i, e) in events.enumerate() {
                    *e = i as u64;
                }
            });
        }
    }
}
