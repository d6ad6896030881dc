//! Public-API tests on std: builder errors, each topology, try-variants, lifecycle, panics.

use gearset_disruptor::{BuildError, Closed, Disruptor, PollState};
use gearset_sync::{
    Arc, Mutex,
    atomic::{
        AtomicU64, AtomicUsize,
        Ordering::{Acquire, Relaxed, Release},
    },
    thread,
    time::Duration,
    wait::{BusySpin, Phased, Yielding},
};

const N: u64 = if cfg!(miri) { 50 } else { 20_000 };

#[test]
fn capacity_must_be_a_nonzero_power_of_two() {
    for bad in [0, 3, 6, 100, 1000] {
        assert_eq!(
            Disruptor::single_producer(bad, || 0u8).unwrap_err(),
            BuildError::Capacity(bad)
        );
        assert_eq!(
            Disruptor::multi_producer(bad, || 0u8).unwrap_err(),
            BuildError::Capacity(bad)
        );
    }
    for good in [1, 2, 4, 1024] {
        assert!(Disruptor::single_producer(good, || 0u8).is_ok());
        assert!(Disruptor::multi_producer(good, || 0u8).is_ok());
    }
}

#[test]
fn a_graph_without_consumers_is_rejected() {
    let builder = Disruptor::single_producer(4, || 0u8).unwrap();
    assert_eq!(builder.build().unwrap_err(), BuildError::NoConsumers);
}

/// Records (seq, value, end_of_batch) for later inspection.
type Log = Arc<Mutex<Vec<(u64, u64, bool)>>>;

fn recorder() -> (Log, impl FnMut(&u64, u64, bool) + Send + 'static) {
    let log = Arc::new(Mutex::new(Vec::new()));
    let sink = Arc::clone(&log);
    (log, move |e: &u64, seq, eob| {
        sink.lock().unwrap().push((seq, *e, eob))
    })
}

#[test]
fn single_producer_delivers_every_event_in_order() {
    let (log, handler) = recorder();
    let mut builder = Disruptor::single_producer(64, || 0u64).unwrap();
    builder.handle_events_with(handler);
    let (mut producer, disruptor) = builder.build().unwrap();
    for i in 0..N {
        assert_eq!(producer.publish(|e, _| *e = i * 3).unwrap(), i);
    }
    disruptor.shutdown().unwrap();
    let log = log.lock().unwrap();
    assert_eq!(log.len() as u64, N);
    for (i, &(seq, value, _)) in log.iter().enumerate() {
        assert_eq!((seq, value), (i as u64, i as u64 * 3));
    }
    assert!(log.last().unwrap().2, "the last event ends a batch");
}

#[test]
fn batch_publish_writes_consecutive_sequences() {
    let (log, handler) = recorder();
    let mut builder = Disruptor::single_producer(16, || 0u64).unwrap();
    builder.handle_events_with(handler);
    let (mut producer, disruptor) = builder.build().unwrap();
    let mut expected = 0;
    for n in [1usize, 5, 16, 7, 0, 3] {
        let range = producer.publish_batch(n, |e, seq| *e = seq + 100).unwrap();
        if n > 0 {
            assert_eq!(range, expected..expected + n as u64);
        }
        expected += n as u64;
    }
    disruptor.shutdown().unwrap();
    let log = log.lock().unwrap();
    let seqs: Vec<u64> = log.iter().map(|r| r.0).collect();
    assert_eq!(seqs, (0..expected).collect::<Vec<_>>());
    assert!(log.iter().all(|&(seq, v, _)| v == seq + 100));
}

#[test]
#[should_panic(expected = "exceeds the capacity")]
fn a_batch_larger_than_the_ring_panics() {
    let mut builder = Disruptor::single_producer(4, || 0u64).unwrap();
    builder.poller(&[]);
    let (mut producer, _d) = builder.build().unwrap();
    let _ = producer.publish_batch(5, |_, _| {});
}

#[test]
fn multi_producer_keeps_each_producers_order() {
    const P: u64 = 4;
    let seen: Arc<Mutex<Vec<u64>>> = Arc::new(Mutex::new(Vec::new()));
    let sink = Arc::clone(&seen);
    let mut builder = Disruptor::multi_producer(32, || 0u64).unwrap();
    builder.handle_events_with(move |e: &u64, _, _| sink.lock().unwrap().push(*e));
    let (producer, disruptor) = builder.build().unwrap();
    let threads: Vec<_> = (0..P)
        .map(|p| {
            let mut producer = producer.clone();
            thread::spawn(move || {
                for i in 0..N / P {
                    if i % 3 == 0 {
                        producer.publish_batch(2, |e, _| *e = p << 32 | i).unwrap();
                    } else {
                        producer.publish(|e, _| *e = p << 32 | i).unwrap();
                    }
                }
            })
        })
        .collect();
    drop(producer);
    threads.into_iter().for_each(|t| t.join().unwrap());
    disruptor.join().unwrap();
    let mut last = vec![None::<u64>; P as usize];
    let mut count = 0;
    for &v in seen.lock().unwrap().iter() {
        let (p, i) = ((v >> 32) as usize, v & 0xffff_ffff);
        // A batch of 2 repeats `i`; otherwise strictly increasing per producer.
        assert!(
            last[p].is_none_or(|prev| i >= prev),
            "producer {p} out of order"
        );
        last[p] = Some(i);
        count += 1;
    }
    let batches = (0..N / P).filter(|i| i % 3 == 0).count() as u64;
    assert_eq!(count, P * (N / P + batches));
}

#[test]
fn try_publish_gives_the_closure_back_when_full() {
    let mut builder = Disruptor::multi_producer(4, || 0u64).unwrap();
    let id = builder.poller(&[]);
    let (mut producer, mut disruptor) = builder.build().unwrap();
    let mut poller = disruptor.take_poller(id).unwrap();
    for i in 0..4 {
        producer.try_publish(move |e, _| *e = i).unwrap();
    }
    let err = producer.try_publish(|e, _| *e = 99).unwrap_err();
    assert!(err.is_full());
    let write = err.into_inner();
    assert!(
        producer
            .try_publish_batch(1, |_, _| {})
            .unwrap_err()
            .is_full()
    );
    assert_eq!(producer.len(), 4);
    assert_eq!(producer.remaining_capacity(), 0);
    assert_eq!(poller.poll_batch(2, |_, _, _| {}), PollState::Processed(2));
    assert_eq!(producer.remaining_capacity(), 2);
    assert!(
        producer
            .try_publish_batch(3, |_, _| {})
            .unwrap_err()
            .is_full(),
        "all or nothing"
    );
    producer.try_publish(write).unwrap();
    let mut values = Vec::new();
    assert_eq!(
        poller.poll(|e, _, _| values.push(*e)),
        PollState::Processed(3)
    );
    assert_eq!(values, [2, 3, 99]);
}

#[test]
fn shutdown_drains_then_refuses_producers() {
    let count = Arc::new(AtomicU64::new(0));
    let mut builder = Disruptor::multi_producer(8, || 0u64).unwrap();
    for _ in 0..2 {
        let count = Arc::clone(&count);
        builder
            .consumer(move |_: &u64, _, _| {
                thread::yield_now(); // slow consumers: the ring is full at shutdown
                count.fetch_add(1, Relaxed);
            })
            .wait_strategy(Yielding::new())
            .add();
    }
    let (mut producer, disruptor) = builder.build().unwrap();
    for i in 0..200 {
        producer.publish(|e, _| *e = i).unwrap();
    }
    disruptor.shutdown().unwrap();
    assert_eq!(
        count.load(Relaxed),
        400,
        "both consumers saw all 200 events"
    );
    assert_eq!(producer.publish(|_, _| {}), Err(Closed));
    assert!(producer.try_publish(|_, _| {}).is_err());
    assert!(producer.is_closed());
}

#[test]
fn dropping_every_producer_ends_the_consumers_after_draining() {
    let count = Arc::new(AtomicU64::new(0));
    let mut builder = Disruptor::single_producer(16, || 0u64).unwrap();
    let c = Arc::clone(&count);
    builder.handle_events_with(move |_: &u64, _, _| {
        c.fetch_add(1, Relaxed);
    });
    let (mut producer, disruptor) = builder.build().unwrap();
    let t = thread::spawn(move || {
        for i in 0..N {
            producer.publish(|e, _| *e = i).unwrap();
        }
    });
    t.join().unwrap();
    disruptor.join().unwrap();
    assert_eq!(count.load(Relaxed), N);
}

#[test]
fn a_panicking_handler_is_reported_and_hangs_nothing() {
    let downstream = Arc::new(AtomicU64::new(0));
    let mut builder = Disruptor::single_producer(4, || 0u64).unwrap();
    let bomb = builder
        .consumer(|e: &u64, _, _| assert!(*e != 5, "boom at 5"))
        .max_batch_size(1)
        .name("bomb")
        .add();
    let seen = Arc::clone(&downstream);
    builder.then(&[bomb], move |e: &u64, _, _| {
        seen.fetch_max(*e + 1, Relaxed);
    });
    let (mut producer, disruptor) = builder.build().unwrap();
    // The producer blocks on a full ring once the handler is dead; it must get `Closed`.
    let mut closed_at = None;
    for i in 0..100 {
        if producer.publish(|e, _| *e = i).is_err() {
            closed_at = Some(i);
            break;
        }
    }
    assert!(closed_at.is_some(), "producer was released with Closed");
    let err = disruptor.shutdown().unwrap_err();
    assert_eq!(err.panics.len(), 1);
    assert_eq!(err.panics[0].name, "bomb");
    assert!(err.panics[0].message().unwrap().contains("boom at 5"));
    // Downstream handled exactly the events the dead handler completed (0..5).
    assert_eq!(downstream.load(Relaxed), 5);
}

#[test]
fn pipeline_stages_see_upstream_effects() {
    const LEN: usize = 256;
    let marks: Arc<Vec<AtomicU64>> = Arc::new((0..LEN).map(|_| AtomicU64::new(0)).collect());
    let mut builder = Disruptor::single_producer(64, || 0u64).unwrap();
    let mut prev = None;
    for stage in 1..=3u64 {
        let marks = Arc::clone(&marks);
        let handler = move |_: &u64, seq: u64, _| {
            let slot = &marks[seq as usize % LEN];
            // Relaxed is enough: the barrier's Acquire orders us after the upstream stage.
            assert_eq!(
                slot.load(Relaxed) % 4,
                stage - 1,
                "stage {stage} ran before its upstream"
            );
            slot.fetch_add(1, Relaxed);
        };
        prev = Some(match prev {
            None => builder.handle_events_with(handler),
            Some(up) => builder.then(&[up], handler),
        });
    }
    // Stage 3 resets the mark (adds 1 more -> 4 = 0 mod 4) so the ring can wrap.
    let marks2 = Arc::clone(&marks);
    builder.then(&[prev.unwrap()], move |_: &u64, seq, _| {
        marks2[seq as usize % LEN].fetch_add(1, Relaxed);
    });
    let (mut producer, disruptor) = builder.build().unwrap();
    for i in 0..N {
        producer.publish(|e, _| *e = i).unwrap();
    }
    disruptor.shutdown().unwrap();
}

#[test]
fn diamond_join_runs_after_both_branches() {
    let a_done = Arc::new(AtomicU64::new(0));
    let b_done = Arc::new(AtomicU64::new(0));
    let joined = Arc::new(AtomicU64::new(0));
    let mut builder = Disruptor::multi_producer(32, || 0u64).unwrap();
    let (a, b) = (Arc::clone(&a_done), Arc::clone(&b_done));
    let ia = builder.handle_events_with(move |_: &u64, seq, _| a.store(seq + 1, Release));
    let ib = builder
        .consumer(move |_: &u64, seq, _| b.store(seq + 1, Release))
        .wait_strategy(Phased::default())
        .add();
    let (a, b, j) = (
        Arc::clone(&a_done),
        Arc::clone(&b_done),
        Arc::clone(&joined),
    );
    builder.then(&[ia, ib], move |_: &u64, seq, _| {
        assert!(a.load(Acquire) > seq && b.load(Acquire) > seq);
        j.fetch_add(1, Relaxed);
    });
    let (mut producer, disruptor) = builder.build().unwrap();
    for i in 0..N {
        producer.publish(|e, _| *e = i).unwrap();
    }
    disruptor.shutdown().unwrap();
    assert_eq!(joined.load(Relaxed), N);
}

#[test]
fn max_batch_size_bounds_end_of_batch_runs() {
    let (log, handler) = recorder();
    let mut builder = Disruptor::single_producer(64, || 0u64).unwrap();
    builder.consumer(handler).max_batch_size(4).add();
    let (mut producer, disruptor) = builder.build().unwrap();
    producer.publish_batch(64, |e, seq| *e = seq).unwrap();
    disruptor.shutdown().unwrap();
    let mut run = 0;
    for &(_, _, eob) in log.lock().unwrap().iter() {
        run += 1;
        assert!(run <= 4, "batch longer than max_batch_size");
        if eob {
            run = 0;
        }
    }
}

#[test]
fn every_wait_strategy_drains() {
    fn run<W: gearset_sync::wait::WaitStrategy + 'static>(wait: W) {
        let count = Arc::new(AtomicUsize::new(0));
        let mut builder = Disruptor::multi_producer(8, || 0u64).unwrap();
        let c = Arc::clone(&count);
        builder
            .consumer(move |_: &u64, _, _| {
                c.fetch_add(1, Relaxed);
            })
            .wait_strategy(wait)
            .add();
        builder.producer_wait_strategy(gearset_sync::wait::Blocking::new());
        let (mut producer, disruptor) = builder.build().unwrap();
        for i in 0..1000 {
            producer.publish(|e, _| *e = i).unwrap();
        }
        disruptor.shutdown().unwrap();
        assert_eq!(count.load(Relaxed), 1000);
    }
    let timeout = Duration::from_micros(50);
    run(BusySpin::new());
    run(BusySpin::with_timeout(timeout));
    run(Yielding::new());
    run(Phased::default());
    run(gearset_sync::wait::Blocking::new());
    run(gearset_sync::wait::Blocking::with_timeout(timeout));
}

#[test]
fn poller_reports_idle_processed_and_closed() {
    let mut builder = Disruptor::single_producer(8, || 0u64).unwrap();
    let first = builder.poller(&[]);
    let second = builder.poller(&[first]);
    let (mut producer, mut disruptor) = builder.build().unwrap();
    let mut p1 = disruptor.take_poller(first).unwrap();
    let mut p2 = disruptor.take_poller(second).unwrap();
    assert!(disruptor.take_poller(first).is_none());
    assert_eq!(p1.poll(|_, _, _| {}), PollState::Idle);
    producer.publish_batch(5, |e, seq| *e = seq).unwrap();
    assert!(p1.has_available());
    assert!(!p2.has_available(), "p2 runs after p1");
    assert_eq!(p1.poll(|_, _, _| {}), PollState::Processed(5));
    let mut got = Vec::new();
    assert_eq!(
        p2.poll_batch(3, |e, _, eob| got.push((*e, eob))),
        PollState::Processed(3)
    );
    assert_eq!(got, [(0, false), (1, false), (2, true)]);
    assert_eq!(p2.sequence(), 3);
    drop(producer);
    assert_eq!(p1.poll(|_, _, _| {}), PollState::Closed);
    assert_eq!(p2.poll(|_, _, _| {}), PollState::Processed(2));
    assert_eq!(p2.poll(|_, _, _| {}), PollState::Closed);
    disruptor.shutdown().unwrap();
}

#[test]
fn shutdown_waits_for_a_claim_in_flight() {
    // A producer blocked in a full ring when shutdown starts must still get its event through,
    // because its claim precedes the close.
    let count = Arc::new(AtomicU64::new(0));
    let mut builder = Disruptor::single_producer(2, || 0u64).unwrap();
    let c = Arc::clone(&count);
    builder.handle_events_with(move |_: &u64, _, _| {
        std::thread::sleep(Duration::from_millis(1));
        c.fetch_add(1, Relaxed);
    });
    let (mut producer, disruptor) = builder.build().unwrap();
    let t = thread::spawn(move || {
        let mut ok = 0;
        while producer.publish(|_, _| {}).is_ok() {
            ok += 1;
        }
        ok
    });
    std::thread::sleep(Duration::from_millis(20));
    disruptor.shutdown().unwrap();
    let published = t.join().unwrap();
    assert_eq!(
        count.load(Relaxed),
        published,
        "every Ok publish was handled"
    );
}
