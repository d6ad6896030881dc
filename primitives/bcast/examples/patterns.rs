//! The four communication patterns of the original atomic-bcast notes, one function each:
//!
//! - 1-1: hand data to the next pipeline stage;
//! - 1-*: broadcast the same data to several threads, each with its own cursor;
//! - *-1: several producers, one consumer that sees one merged order;
//! - *-*: many-to-many broadcast, every reader sees the same global order.
//!
//! Run: `cargo run -p gearset-bcast --example patterns`.

use gearset_bcast::{Policy, RecvError, Subscriber, channel};
use gearset_sync::thread;

/// Receives until every writer is gone.
fn collect(mut s: Subscriber<u64>) -> Vec<u64> {
    let mut out = Vec::new();
    loop {
        match s.recv() {
            Ok(v) => out.push(v),
            Err(RecvError::Closed) => return out,
            Err(RecvError::Lagged(n)) => panic!("lost {n} messages in Backpressure mode"),
        }
    }
}

/// Spawns `writers` threads sending `per_writer` messages each, and one thread per reader.
fn run(writers: u64, readers: usize, per_writer: u64) -> Vec<Vec<u64>> {
    let (publisher, first) = channel::<u64>(64, Policy::Backpressure);
    let mut subs: Vec<_> = (1..readers).map(|_| first.clone()).collect();
    subs.push(first);
    let reader_threads: Vec<_> = subs
        .into_iter()
        .map(|s| thread::spawn(move || collect(s)))
        .collect();
    let writer_threads: Vec<_> = (0..writers)
        .map(|w| {
            let p = publisher.clone();
            thread::spawn(move || (0..per_writer).for_each(|i| p.send(w * 1000 + i).unwrap()))
        })
        .collect();
    drop(publisher);
    writer_threads.into_iter().for_each(|t| t.join().unwrap());
    reader_threads
        .into_iter()
        .map(|t| t.join().unwrap())
        .collect()
}

fn main() {
    // 1-1: a pipeline hand-off.
    let logs = run(1, 1, 100);
    assert_eq!(logs[0], (0..100).collect::<Vec<_>>());
    println!(
        "1-1: the consumer got all {} messages in order",
        logs[0].len()
    );

    // 1-*: the same data to three readers.
    let logs = run(1, 3, 100);
    assert!(logs.iter().all(|l| *l == logs[0]));
    println!(
        "1-*: {} readers each got all {} messages",
        logs.len(),
        logs[0].len()
    );

    // *-1: three producers, one consumer; each producer's messages keep their order.
    let logs = run(3, 1, 100);
    for w in 0..3 {
        let mine: Vec<_> = logs[0].iter().filter(|v| *v / 1000 == w).collect();
        assert!(mine.windows(2).all(|p| p[0] < p[1]));
    }
    println!(
        "*-1: one consumer got {} messages from 3 producers",
        logs[0].len()
    );

    // *-*: three producers, three readers, one global order.
    let logs = run(3, 3, 100);
    assert!(logs.iter().all(|l| *l == logs[0] && l.len() == 300));
    println!(
        "*-*: {} readers agree on one order of {} messages",
        logs.len(),
        logs[0].len()
    );
}
