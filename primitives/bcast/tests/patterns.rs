//! The four communication patterns of the original atomic-bcast notes (1-1, 1-*, *-1, *-*),
//! each in both policies. Every reader must receive every message, in one global order, and
//! each writer's messages in its own send order.
// std-only: under the model-checker cfgs the facade types need a model to run in.
#![cfg(not(any(gearset_loom, gearset_shuttle)))]

use std::thread;

use gearset_bcast::{Policy, RecvError, Subscriber, channel};

const PER_WRITER: u64 = if cfg!(miri) { 20 } else { 5_000 };

/// Runs `writers` writers and `readers` readers over a Backpressure channel of capacity 8
/// and checks every reader's log. Values are `writer << 32 | i`.
fn run(writers: u64, readers: usize) {
    let (publisher, first) = channel::<u64>(8, Policy::Backpressure);
    let mut subs: Vec<Subscriber<u64>> = vec![first];
    while subs.len() < readers {
        let clone = subs[0].clone();
        subs.push(clone);
    }
    let reader_threads: Vec<_> = subs
        .into_iter()
        .map(|mut s| {
            thread::spawn(move || {
                let mut log = Vec::new();
                loop {
                    match s.recv() {
                        Ok(v) => log.push(v),
                        Err(RecvError::Closed) => return log,
                        Err(RecvError::Lagged(n)) => panic!("backpressure lagged by {n}"),
                    }
                }
            })
        })
        .collect();
    let writer_threads: Vec<_> = (0..writers)
        .map(|w| {
            let p = publisher.clone();
            thread::spawn(move || {
                for i in 0..PER_WRITER {
                    p.send(w << 32 | i).unwrap();
                }
            })
        })
        .collect();
    drop(publisher);
    for w in writer_threads {
        w.join().unwrap();
    }
    let logs: Vec<Vec<u64>> = reader_threads
        .into_iter()
        .map(|r| r.join().unwrap())
        .collect();
    for log in &logs {
        assert_eq!(log, &logs[0], "readers disagree on the global order");
        assert_eq!(log.len() as u64, writers * PER_WRITER);
        for w in 0..writers {
            let mine: Vec<u64> = log
                .iter()
                .filter(|v| *v >> 32 == w)
                .map(|v| v & 0xffff_ffff)
                .collect();
            assert_eq!(
                mine,
                (0..PER_WRITER).collect::<Vec<_>>(),
                "writer {w} out of order"
            );
        }
    }
}

#[test]
fn one_to_one() {
    run(1, 1);
}

#[test]
fn one_to_many() {
    run(1, 3);
}

#[test]
fn many_to_one() {
    run(3, 1);
}

#[test]
fn many_to_many() {
    run(3, 3);
}

/// The same four patterns in Overwrite mode: a reader may lose messages, but what it
/// receives plus what it is told it lost is exactly the global sequence.
#[test]
fn overwrite_patterns_account_for_every_message() {
    for (writers, readers) in [(1u64, 1usize), (1, 3), (3, 1), (3, 3)] {
        let (publisher, first) = channel::<u64>(4, Policy::Overwrite);
        let subs: Vec<_> = (0..readers).map(|_| first.clone()).collect();
        drop(first);
        let reader_threads: Vec<_> = subs
            .into_iter()
            .map(|mut s| {
                thread::spawn(move || {
                    let (mut received, mut lost) = (0u64, 0u64);
                    loop {
                        match s.recv() {
                            Ok(_) => received += 1,
                            Err(RecvError::Lagged(n)) => lost += n,
                            Err(RecvError::Closed) => return received + lost,
                        }
                    }
                })
            })
            .collect();
        let writer_threads: Vec<_> = (0..writers)
            .map(|_| {
                let p = publisher.clone();
                thread::spawn(move || (0..PER_WRITER).for_each(|i| p.send(i).unwrap()))
            })
            .collect();
        drop(publisher);
        writer_threads.into_iter().for_each(|w| w.join().unwrap());
        for r in reader_threads {
            assert_eq!(r.join().unwrap(), writers * PER_WRITER);
        }
    }
}
