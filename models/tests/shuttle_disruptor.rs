//! shuttle tests of gearset-disruptor: more threads than loom can take (up to 6), under random
//! and PCT schedules, with the ring at capacity 2-4 so that producers wrap and wait for room.
//!
//! shuttle runs atomics as SeqCst, so these check the protocol (gating, availability with
//! out-of-order publishers, the diamond's join, shutdown draining and `Closed`), not the
//! orderings: loom owns those. Every handler asserts in-order, exactly-once delivery per
//! producer; a lost wake-up or a stuck drain shows up as a shuttle deadlock.
//!
//! Run: `RUSTFLAGS="--cfg gearset_shuttle" cargo test -p gearset-models --test shuttle_disruptor
//! --profile models`. `SHUTTLE_ITERATIONS` overrides the iteration count.
#![cfg(gearset_shuttle)]

use gearset_disruptor::{Builder, Closed, ConsumerId, Disruptor, Multi};
use gearset_models::shuttle_iterations;
use gearset_sync::{
    Arc, Mutex, shuttle, thread,
    wait::{Blocking, Yielding},
};

const PCT_DEPTH: usize = 3;

/// Per-consumer record: the values seen, in order.
type Log = Arc<Mutex<Vec<u64>>>;

/// Adds a handler after `after` that checks sequences arrive in order and logs the values.
fn logged(
    builder: &mut Builder<u64, Multi>,
    after: &[ConsumerId],
    blocking: bool,
) -> (ConsumerId, Log) {
    let log: Log = Arc::new(Mutex::new(Vec::new()));
    let sink = Arc::clone(&log);
    let mut next = 0;
    let handler = move |e: &u64, seq, _| {
        assert_eq!(seq, next, "sequence skipped or repeated");
        next += 1;
        sink.lock().unwrap().push(*e);
    };
    let consumer = builder.consumer(handler).after(after);
    let id = if blocking {
        consumer.add()
    } else {
        consumer.wait_strategy(Yielding::new()).add()
    };
    (id, log)
}

/// Every producer's values appear in order, each exactly once, `count[p]` of them.
fn check_log(log: &Log, counts: &[u64]) {
    let mut next = vec![0u64; counts.len()];
    for &v in log.lock().unwrap().iter() {
        let (p, i) = ((v >> 16) as usize, v & 0xffff);
        assert_eq!(i, next[p], "producer {p}: lost, duplicated or reordered");
        next[p] += 1;
    }
    assert_eq!(next, counts, "not every published event was handled");
}

/// 3 producers x 2 events each (one as a batch of 2 for the last producer) into a ring of 4,
/// multicast to 2 consumers (one blocking, one yielding); producers dropped, then join.
fn three_to_two() {
    let mut builder = Disruptor::multi_producer(4, || 0u64).unwrap();
    let (_, a) = logged(&mut builder, &[], true);
    let (_, b) = logged(&mut builder, &[], false);
    builder.producer_wait_strategy(Blocking::new());
    let (producer, disruptor) = builder.build().unwrap();
    let threads: Vec<_> = (0..3u64)
        .map(|p| {
            let mut producer = producer.clone();
            thread::spawn(move || {
                if p == 2 {
                    let mut i = 0;
                    let write = |e: &mut u64, _| {
                        *e = p << 16 | i;
                        i += 1;
                    };
                    producer.publish_batch(2, write).unwrap();
                    return;
                }
                for i in 0..2 {
                    producer.publish(|e, _| *e = p << 16 | i).unwrap();
                }
            })
        })
        .collect();
    drop(producer);
    for t in threads {
        t.join().unwrap();
    }
    disruptor.join().unwrap();
    check_log(&a, &[2, 2, 2]);
    check_log(&b, &[2, 2, 2]);
}

/// 2 producers publishing until `Closed` into a ring of 2, a diamond a,b -> c, and `shutdown`
/// racing them from the main thread: every Ok publish is handled by all three, in order.
fn diamond_with_shutdown() {
    let mut builder = Disruptor::multi_producer(2, || 0u64).unwrap();
    let (ia, a) = logged(&mut builder, &[], false);
    let (ib, b) = logged(&mut builder, &[], true);
    let (_, c) = logged(&mut builder, &[ia, ib], false);
    let (producer, disruptor) = builder.build().unwrap();
    let threads: Vec<_> = (0..2u64)
        .map(|p| {
            let mut producer = producer.clone();
            thread::spawn(move || {
                let mut ok = 0;
                while ok < 3 {
                    match producer.publish(|e, _| *e = p << 16 | ok) {
                        Ok(_) => ok += 1,
                        Err(Closed) => break,
                    }
                }
                ok
            })
        })
        .collect();
    drop(producer);
    thread::yield_now();
    disruptor.shutdown().unwrap();
    let counts: Vec<u64> = threads.into_iter().map(|t| t.join().unwrap()).collect();
    for log in [&a, &b, &c] {
        check_log(log, &counts);
    }
}

#[test]
fn multi_producer_three_to_two_random() {
    shuttle::check_random(three_to_two, shuttle_iterations(2000));
}

#[test]
fn multi_producer_three_to_two_pct() {
    shuttle::check_pct(three_to_two, shuttle_iterations(2000), PCT_DEPTH);
}

#[test]
fn diamond_with_shutdown_random() {
    shuttle::check_random(diamond_with_shutdown, shuttle_iterations(2000));
}

#[test]
fn diamond_with_shutdown_pct() {
    shuttle::check_pct(diamond_with_shutdown, shuttle_iterations(2000), PCT_DEPTH);
}
