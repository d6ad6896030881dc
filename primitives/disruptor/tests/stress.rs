//! Stress: push many events through each topology and check that every consumer got every
//! sequence exactly once, in order, and (multi-producer) each producer's events in order.
//!
//! `GEARSET_DISRUPTOR_STRESS=<events>` sets the count per topology (the acceptance run
//! is 10^8: `GEARSET_DISRUPTOR_STRESS=100000000 cargo test --release -p gearset-disruptor
//! --test stress`). The default keeps `cargo test` short on a shared 2-core machine.

use gearset_disruptor::{Builder, ConsumerId, Disruptor, Flavor, Producer};
use gearset_sync::{
    Arc,
    atomic::{AtomicU64, Ordering::Relaxed},
    thread,
    wait::{Blocking, Yielding},
};

fn events() -> u64 {
    if cfg!(miri) {
        return 200;
    }
    std::env::var("GEARSET_DISRUPTOR_STRESS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(200_000)
}

/// A checking handler: sequences arrive as 0, 1, 2, ...; per-producer counters increase by
/// one; the final count is stored in `total`.
fn checker(
    producers: usize,
    total: Arc<AtomicU64>,
) -> impl FnMut(&u64, u64, bool) + Send + 'static {
    let mut expected_seq = 0;
    let mut next_of = vec![0u64; producers];
    move |e: &u64, seq, _| {
        assert_eq!(seq, expected_seq, "sequence skipped or repeated");
        expected_seq += 1;
        let (p, i) = ((e >> 40) as usize, e & ((1 << 40) - 1));
        assert_eq!(
            i, next_of[p],
            "producer {p}: event lost, duplicated or reordered"
        );
        next_of[p] += 1;
        total.store(expected_seq, Relaxed);
    }
}

/// Adds a checking consumer after `after` and returns its id and counter.
fn add<S: Flavor>(
    builder: &mut Builder<u64, S>,
    producers: usize,
    after: &[ConsumerId],
) -> (ConsumerId, Arc<AtomicU64>) {
    let total = Arc::new(AtomicU64::new(0));
    let id = builder
        .consumer(checker(producers, Arc::clone(&total)))
        .after(after)
        .wait_strategy(Yielding::new())
        .max_batch_size(64)
        .add();
    (id, total)
}

fn produce<S: Flavor>(producer: &mut Producer<u64, S>, p: u64, n: u64) {
    let mut i = 0;
    while i < n {
        let batch = (n - i).min(1 + (i % 7)) as usize;
        producer
            .publish_batch(batch, |e, _| {
                *e = p << 40 | i;
                i += 1;
            })
            .unwrap();
    }
}

fn check(totals: &[Arc<AtomicU64>], n: u64) {
    for t in totals {
        assert_eq!(t.load(Relaxed), n);
    }
}

#[test]
fn one_to_one() {
    let n = events();
    let mut builder = Disruptor::single_producer(256, || 0u64).unwrap();
    let (_, total) = add(&mut builder, 1, &[]);
    let (mut producer, disruptor) = builder.build().unwrap();
    produce(&mut producer, 0, n);
    drop(producer);
    disruptor.join().unwrap();
    check(&[total], n);
}

#[test]
fn one_to_three_multicast_and_pipeline() {
    let n = events();
    let mut builder = Disruptor::single_producer(256, || 0u64).unwrap();
    let (a, ta) = add(&mut builder, 1, &[]);
    let (_, tb) = add(&mut builder, 1, &[]);
    let (b2, tc) = add(&mut builder, 1, &[a]);
    let (_, td) = add(&mut builder, 1, &[b2]);
    let (mut producer, disruptor) = builder.build().unwrap();
    produce(&mut producer, 0, n);
    disruptor.shutdown().unwrap();
    check(&[ta, tb, tc, td], n);
}

#[test]
fn three_to_diamond() {
    const P: u64 = 3;
    let n = events() / P;
    let mut builder = Disruptor::multi_producer(128, || 0u64).unwrap();
    builder.producer_wait_strategy(Blocking::new());
    let (a, ta) = add(&mut builder, P as usize, &[]);
    let (b, tb) = add(&mut builder, P as usize, &[]);
    let (_, tc) = add(&mut builder, P as usize, &[a, b]);
    let (producer, disruptor) = builder.build().unwrap();
    let threads: Vec<_> = (0..P)
        .map(|p| {
            let mut producer = producer.clone();
            thread::spawn(move || produce(&mut producer, p, n))
        })
        .collect();
    drop(producer);
    for t in threads {
        t.join().unwrap();
    }
    disruptor.join().unwrap();
    check(&[ta, tb, tc], n * P);
}
