//! Public-API behaviour on std, single- and multi-threaded.
// std-only: under the model-checker cfgs the facade types need a model to run in.
#![cfg(not(any(gearset_loom, gearset_shuttle)))]

use std::{sync::atomic::AtomicUsize, thread, time::Duration};

use gearset_bcast::{
    Policy, RecvError, RecvTimeoutError, SendError, StartAt, TryRecvError, channel,
    channel_with_wait,
};
use gearset_sync::wait::{Blocking, BusySpin, Yielding};

const POLICIES: [Policy; 2] = [Policy::Backpressure, Policy::Overwrite];

#[test]
fn capacity_rounds_up_to_power_of_two() {
    let (p, _s) = channel::<u8>(3, Policy::Overwrite);
    assert_eq!(p.capacity(), 4);
    let (p, _s) = channel::<u8>(1, Policy::Backpressure);
    assert_eq!(p.capacity(), 1);
}

#[test]
#[should_panic(expected = "capacity of at least 1")]
fn zero_capacity_panics() {
    let _ = channel::<u8>(0, Policy::Overwrite);
}

#[test]
fn send_without_reader_gives_value_back() {
    for policy in POLICIES {
        let (p, s) = channel::<String>(2, policy);
        drop(s);
        assert_eq!(p.send("x".into()), Err(SendError("x".into())));
        assert_eq!(
            p.send_batch(vec!["y".into()]),
            Err(SendError(vec!["y".into()]))
        );
        assert_eq!(p.reader_count(), 0);
        // A new reader revives the channel.
        let mut s = p.subscribe(StartAt::Next);
        p.send("z".into()).unwrap();
        assert_eq!(s.try_recv().as_deref(), Ok("z"));
    }
}

#[test]
fn every_reader_gets_every_message_then_closed() {
    for policy in POLICIES {
        let (p, mut a) = channel(8, policy);
        let mut b = a.clone();
        for i in 0..5 {
            p.send(i).unwrap();
        }
        drop(p);
        for r in [&mut a, &mut b] {
            assert!(r.is_closed());
            assert_eq!(
                (0..5).map(|_| r.recv().unwrap()).collect::<Vec<_>>(),
                [0, 1, 2, 3, 4]
            );
            assert_eq!(r.recv(), Err(RecvError::Closed));
            assert_eq!(r.try_recv(), Err(TryRecvError::Closed));
            assert_eq!(
                r.recv_timeout(Duration::from_millis(1)),
                Err(RecvTimeoutError::Closed)
            );
        }
    }
}

#[test]
fn overwrite_lag_is_exact_and_resumes_at_oldest() {
    let (p, mut s) = channel(4, Policy::Overwrite);
    for i in 0..11u64 {
        p.send(i).unwrap();
    }
    assert_eq!(s.len(), 11);
    assert_eq!(s.recv(), Err(RecvError::Lagged(7)));
    assert_eq!(
        (0..4).map(|_| s.recv().unwrap()).collect::<Vec<_>>(),
        [7, 8, 9, 10]
    );
    assert_eq!(s.try_recv(), Err(TryRecvError::Empty));
}

#[test]
fn overwrite_lag_mid_batch_is_reported_next() {
    let (p, mut s) = channel(2, Policy::Overwrite);
    p.send(0u32).unwrap();
    p.send(1).unwrap();
    let mut out = Vec::new();
    assert_eq!(s.try_recv_batch(&mut out, 1), Ok(1));
    for i in 2..6 {
        p.send(i).unwrap();
    }
    // Cursor at 1; slots hold 4 and 5: 1, 2, 3 lost.
    assert_eq!(s.try_recv_batch(&mut out, 8), Err(TryRecvError::Lagged(3)));
    assert_eq!(s.try_recv_batch(&mut out, 8), Ok(2));
    assert_eq!(out, [0, 4, 5]);
}

#[test]
fn backpressure_blocks_writer_until_reader_reads() {
    let (p, mut s) = channel(2, Policy::Backpressure);
    p.send(0u32).unwrap();
    p.send(1).unwrap();
    let writer = thread::spawn(move || {
        p.send(2).unwrap(); // blocks: the ring is full
        p
    });
    thread::sleep(Duration::from_millis(20));
    assert!(!writer.is_finished());
    assert_eq!(s.recv(), Ok(0));
    let p = writer.join().unwrap();
    assert_eq!(s.recv(), Ok(1));
    assert_eq!(s.recv(), Ok(2));
    drop(p);
}

#[test]
fn backpressure_writer_released_when_last_reader_drops() {
    let (p, s) = channel(1, Policy::Backpressure);
    p.send(0u32).unwrap();
    let writer = thread::spawn(move || p.send(1));
    thread::sleep(Duration::from_millis(20));
    drop(s);
    // The send started with a live reader, so it completes once the reader is gone.
    assert_eq!(writer.join().unwrap(), Ok(()));
}

#[test]
fn subscribe_next_and_oldest() {
    for policy in POLICIES {
        let (p, mut first) = channel(4, policy);
        p.send(1).unwrap();
        p.send(2).unwrap();
        let mut next = p.subscribe(StartAt::Next);
        let mut oldest = first.subscribe(StartAt::Oldest);
        p.send(3).unwrap();
        assert_eq!(next.try_recv(), Ok(3), "{policy:?}");
        assert_eq!(oldest.try_recv(), Ok(1), "{policy:?}");
        assert_eq!(first.try_recv(), Ok(1));
    }
}

#[test]
fn clone_starts_at_same_position() {
    let (p, mut a) = channel(4, Policy::Backpressure);
    p.send_batch(vec![1, 2, 3]).unwrap();
    assert_eq!(a.recv(), Ok(1));
    let mut b = a.clone();
    assert_eq!(b.recv(), Ok(2));
    assert_eq!(a.recv(), Ok(2));
}

#[test]
fn recv_timeout_times_out_then_receives() {
    let (p, mut s) = channel_with_wait(2, Policy::Backpressure, Blocking::new(), Blocking::new());
    assert_eq!(
        s.recv_timeout(Duration::from_millis(5)),
        Err(RecvTimeoutError::Timeout)
    );
    p.send(9u8).unwrap();
    assert_eq!(s.recv_timeout(Duration::from_millis(5)), Ok(9));
}

#[test]
fn blocked_reader_wakes_on_send_with_each_strategy() {
    fn run<W: gearset_sync::wait::WaitStrategy + 'static>(w: fn() -> W) {
        let (p, mut s) = channel_with_wait(4, Policy::Overwrite, w(), w());
        let reader = thread::spawn(move || (s.recv(), s.recv()));
        thread::sleep(Duration::from_millis(5));
        p.send(1u8).unwrap();
        drop(p);
        assert_eq!(reader.join().unwrap(), (Ok(1), Err(RecvError::Closed)));
    }
    run(Blocking::new);
    run(BusySpin::new);
    run(Yielding::new);
}

/// A payload whose drops are counted, to check that overwritten and leftover values are
/// dropped exactly once.
#[derive(Debug)]
struct Counted<'a>(&'a AtomicUsize);

impl Clone for Counted<'_> {
    fn clone(&self) -> Self {
        self.0.fetch_sub(1, std::sync::atomic::Ordering::Relaxed);
        Counted(self.0)
    }
}

impl Drop for Counted<'_> {
    fn drop(&mut self) {
        self.0.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    }
}

#[test]
fn every_value_is_dropped_exactly_once() {
    static LIVE: AtomicUsize = AtomicUsize::new(0);
    // `LIVE` counts drops minus clones; sending n originals must end at n.
    {
        let (p, mut s) = channel(2, Policy::Overwrite);
        for _ in 0..7 {
            p.send(Counted(&LIVE)).unwrap();
        }
        let _ = s.try_recv(); // lag
        drop(s.try_recv().unwrap()); // one clone, dropped
    }
    assert_eq!(LIVE.load(std::sync::atomic::Ordering::Relaxed), 7);
}

#[test]
fn panicking_clone_releases_the_slot() {
    #[derive(Debug)]
    struct Bomb(bool);
    impl Clone for Bomb {
        fn clone(&self) -> Self {
            assert!(!self.0, "boom");
            Bomb(false)
        }
    }
    let (p, mut s) = channel(1, Policy::Overwrite);
    p.send(Bomb(true)).unwrap();
    let caught = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| s.try_recv()));
    assert!(caught.is_err());
    // The writer can still take the slot: the read lock was released during unwinding.
    p.send(Bomb(false)).unwrap();
    assert!(matches!(s.try_recv(), Err(TryRecvError::Lagged(1))));
    assert!(s.try_recv().is_ok());
}

#[test]
fn panicking_drop_of_overwritten_value_runs_once() {
    static DROPS: AtomicUsize = AtomicUsize::new(0);
    #[derive(Clone, Debug)]
    struct Grenade(bool);
    impl Drop for Grenade {
        fn drop(&mut self) {
            DROPS.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            assert!(!self.0, "boom");
        }
    }
    let (p, mut s) = channel(1, Policy::Overwrite);
    p.send(Grenade(true)).unwrap();
    // The second send replaces the first value, whose drop panics: after the slot is
    // consistent again, so the channel stays usable and nothing is dropped twice.
    let caught = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| p.send(Grenade(false))));
    assert!(caught.is_err());
    assert!(matches!(s.try_recv(), Err(TryRecvError::Lagged(1))));
    assert!(matches!(s.try_recv(), Ok(Grenade(false))));
    drop((p, s));
    // Drops: the grenade, the received clone, the value left in the ring.
    assert_eq!(DROPS.load(std::sync::atomic::Ordering::Relaxed), 3);
}
