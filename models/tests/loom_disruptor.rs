//! loom models of gearset-disruptor: every interleaving and weak-memory outcome (within the
//! preemption bound) of the real crate code, with the ring at capacity 2 so that every model
//! wraps the ring at least once.
//!
//! loom tracks every slot access (`gearset_sync::cell::UnsafeCell`), so a producer overwriting
//! a slot a consumer still reads (**NoOverwriteUnread**) or a consumer reading a slot before its
//! publication (**NoReadUnpublished**) is reported as a causality violation, beyond the value
//! checks in the handlers (**InOrderExactlyOnce**). The TLA+ twin is
//! `tla/disruptor/Disruptor.tla` (models `Disruptor_*.cfg` use the same sizes).
//!
//! Run: `RUSTFLAGS="--cfg gearset_loom" cargo test -p gearset-models --test loom_disruptor
//! --profile models`. Consumers and producers use the `Blocking` strategy (the default, and the one with a
//! lost-wake-up hazard); spinning strategies make loom exceed its branch limit.
#![cfg(gearset_loom)]

use gearset_disruptor::{Builder, Closed, Disruptor, Flavor};
use gearset_sync::{Arc, Mutex, loom, thread, wait::Blocking};

/// Preemption bound 2 for every model: each has 3 threads (producer(s), consumer(s), main),
/// and a bound of 3 made the multi-producer model run for minutes; 2 is what tokio and
/// crossbeam use in CI ("2 or 3 is enough to catch most bugs", loom docs).
fn model(f: impl Fn() + Sync + Send + 'static) {
    let mut builder = loom::model::Builder::new();
    builder.preemption_bound = Some(2);
    builder.check(f);
}

/// A handler that asserts `event == 10 * seq + 1` and in-order sequences, and logs them.
fn checked(log: Arc<Mutex<Vec<u64>>>) -> impl FnMut(&u64, u64, bool) + Send + 'static {
    let mut next = 0;
    move |e: &u64, seq, _| {
        assert_eq!(seq, next, "sequence skipped or repeated");
        assert_eq!(
            *e,
            10 * seq + 1,
            "read a slot that was not (or no longer) this sequence"
        );
        next += 1;
        log.lock().unwrap().push(seq);
    }
}

/// Adds one blocking consumer that checks every event into a new log, makes the producers
/// block too, and returns the log.
fn one_checked_consumer<S: Flavor>(builder: &mut Builder<u64, S>) -> Arc<Mutex<Vec<u64>>> {
    let log = Arc::new(Mutex::new(Vec::new()));
    builder
        .consumer(checked(Arc::clone(&log)))
        .wait_strategy(Blocking::new())
        .add();
    builder.producer_wait_strategy(Blocking::new());
    log
}

#[test]
fn single_producer_one_consumer_wraps() {
    model(|| {
        let mut builder = Disruptor::single_producer(2, || 0u64).unwrap();
        let log = one_checked_consumer(&mut builder);
        let (mut producer, disruptor) = builder.build().unwrap();
        for _ in 0..3 {
            producer.publish(|e, seq| *e = 10 * seq + 1).unwrap();
        }
        drop(producer); // last producer: close, drain, consumer ends
        disruptor.join().unwrap();
        assert_eq!(*log.lock().unwrap(), [0, 1, 2]);
    });
}

#[test]
fn multi_producer_two_to_one_wraps() {
    model(|| {
        let mut builder = Disruptor::multi_producer(2, || 0u64).unwrap();
        let log = one_checked_consumer(&mut builder);
        let (mut producer, disruptor) = builder.build().unwrap();
        let mut other = producer.clone();
        let t = thread::spawn(move || {
            other.publish(|e, seq| *e = 10 * seq + 1).unwrap();
        });
        producer.publish(|e, seq| *e = 10 * seq + 1).unwrap();
        producer.publish(|e, seq| *e = 10 * seq + 1).unwrap();
        drop(producer);
        t.join().unwrap();
        disruptor.join().unwrap();
        assert_eq!(*log.lock().unwrap(), [0, 1, 2]);
    });
}

#[test]
fn two_stage_pipeline_wraps() {
    model(|| {
        let first = Arc::new(Mutex::new(Vec::new()));
        let second = Arc::new(Mutex::new(Vec::new()));
        let mut builder = Disruptor::single_producer(2, || 0u64).unwrap();
        let a = builder
            .consumer(checked(Arc::clone(&first)))
            .wait_strategy(Blocking::new())
            .add();
        let done = Arc::clone(&first);
        let mut check = checked(Arc::clone(&second));
        builder
            .consumer(move |e: &u64, seq, eob| {
                assert!(
                    done.lock().unwrap().contains(&seq),
                    "stage 2 ran before stage 1"
                );
                check(e, seq, eob);
            })
            .after(&[a])
            .wait_strategy(Blocking::new())
            .add();
        builder.producer_wait_strategy(Blocking::new());
        let (mut producer, disruptor) = builder.build().unwrap();
        for _ in 0..3 {
            producer.publish(|e, seq| *e = 10 * seq + 1).unwrap();
        }
        disruptor.shutdown().unwrap();
        assert_eq!(*second.lock().unwrap(), [0, 1, 2]);
    });
}

/// Every publish that returned Ok is handled, whatever its interleaving with `shutdown`.
fn claim_races_shutdown<S: Flavor>(mut builder: Builder<u64, S>) {
    let log = one_checked_consumer(&mut builder);
    let (mut producer, disruptor) = builder.build().unwrap();
    let t = thread::spawn(move || {
        let mut ok = 0;
        for _ in 0..2 {
            match producer.publish(|e, seq| *e = 10 * seq + 1) {
                Ok(_) => ok += 1,
                Err(Closed) => break,
            }
        }
        ok
    });
    disruptor.shutdown().unwrap();
    let ok = t.join().unwrap();
    assert_eq!(
        log.lock().unwrap().len(),
        ok,
        "a published event was dropped"
    );
}

#[test]
fn single_producer_claim_races_shutdown() {
    // The Dekker handshake of `Single::announce` vs `Single::close`.
    model(|| claim_races_shutdown(Disruptor::single_producer(2, || 0u64).unwrap()));
}

#[test]
fn multi_producer_claim_races_shutdown() {
    // `fetch_add` claims vs the `fetch_or` close on the same counter.
    model(|| claim_races_shutdown(Disruptor::multi_producer(2, || 0u64).unwrap()));
}
