//! Early release, pinning and the lag query.
#![allow(clippy::disallowed_types)]

use gearset_disruptor::{BuildError, Disruptor, EventContext, EventHandler, PinError};
use gearset_sync::{
    Arc, Backoff,
    atomic::{
        AtomicBool,
        Ordering::{Acquire, Release},
    },
};

/// Releases sequence 0 early, then parks inside sequence 1 until told to go on.
struct ReleaseFirst {
    in_second: Arc<AtomicBool>,
    go: Arc<AtomicBool>,
}

impl EventHandler<u64> for ReleaseFirst {
    fn on_event(&mut self, _event: &u64, sequence: u64, ctx: &mut EventContext) {
        match sequence {
            0 => ctx.release(),
            1 => {
                // Release/Acquire: a plain handshake with the test thread.
                self.in_second.store(true, Release);
                let backoff = Backoff::new();
                while !self.go.load(Acquire) {
                    backoff.snooze();
                }
            }
            _ => {}
        }
    }
}

#[test]
fn early_release_frees_a_slot_before_the_batch_ends() {
    // An upstream poller hands the final handler all four events at once (one batch 0..4).
    let (in_second, go) = (
        Arc::new(AtomicBool::new(false)),
        Arc::new(AtomicBool::new(false)),
    );
    let mut builder = Disruptor::single_producer(4, || 0u64).unwrap();
    let gate = builder.poller(&[]);
    let handler = ReleaseFirst {
        in_second: Arc::clone(&in_second),
        go: Arc::clone(&go),
    };
    let last = builder.handler(handler).after(&[gate]).add();
    let (mut producer, mut disruptor) = builder.build().unwrap();
    let mut poller = disruptor.take_poller(gate).unwrap();
    producer.publish_batch(4, |e, seq| *e = seq).unwrap();
    poller.poll(|_, _, _| {});
    let backoff = Backoff::new();
    while !in_second.load(Acquire) {
        backoff.snooze();
    }
    // The handler is inside sequence 1 of its batch 0..4 and released 0: slot 0 is free.
    assert_eq!(producer.lag(last), 3);
    assert_eq!(producer.try_publish(|e, seq| *e = seq).ok(), Some(4));
    assert!(
        producer
            .try_publish(|e, seq| *e = seq)
            .unwrap_err()
            .is_full(),
        "sequence 1 is still being handled"
    );
    go.store(true, Release);
    // Pass sequence 4 through the gate, so the handler can drain up to the end (5).
    assert_eq!(
        poller.poll(|_, _, _| {}),
        gearset_disruptor::PollState::Processed(1)
    );
    disruptor.shutdown().unwrap();
}

#[test]
fn a_closure_handler_releases_at_the_end_of_its_batch() {
    let mut ctx_log = Vec::new();
    let mut builder = Disruptor::single_producer(8, || 0u64).unwrap();
    let id = builder.poller(&[]);
    let (mut producer, mut disruptor) = builder.build().unwrap();
    let mut poller = disruptor.take_poller(id).unwrap();
    producer.publish_batch(3, |e, seq| *e = seq).unwrap();
    poller.poll(|_, seq, end| ctx_log.push((seq, end)));
    assert_eq!(ctx_log, [(0, false), (1, false), (2, true)]);
    assert_eq!(producer.lag(id), 0);
}

#[cfg(all(target_os = "linux", not(miri)))]
#[test]
fn a_pinned_consumer_runs_on_its_cpu() {
    let allowed = gearset_hqueue::current_affinity().unwrap();
    let cpu = *allowed.last().unwrap();
    let seen = Arc::new(gearset_sync::Mutex::new(Vec::new()));
    let sink = Arc::clone(&seen);
    let mut builder = Disruptor::single_producer(8, || 0u64).unwrap();
    builder
        .consumer(move |_: &u64, _, _| {
            sink.lock()
                .unwrap()
                .push(gearset_hqueue::current_affinity().unwrap())
        })
        .pin_to(&[cpu])
        .add();
    let (mut producer, disruptor) = builder.build().unwrap();
    producer.publish(|e, _| *e = 1).unwrap();
    disruptor.shutdown().unwrap();
    assert_eq!(*seen.lock().unwrap(), [vec![cpu]]);
}

#[test]
fn pinning_to_no_usable_cpu_is_a_build_error() {
    let mut builder = Disruptor::single_producer(8, || 0u64).unwrap();
    builder
        .consumer(|_: &u64, _, _| {})
        .name("journal")
        .pin_to(&[])
        .add();
    let err = builder.build().map(|_| ()).unwrap_err();
    let expected_error = if cfg!(target_os = "linux") {
        PinError::Os(22)
    } else {
        PinError::Unsupported
    };
    assert_eq!(
        err,
        BuildError::Pin {
            consumer: "journal".into(),
            error: expected_error
        }
    );
}
