//! Broadcast fan-out throughput: 1 writer -> 1 and 3 readers, `u64` payloads, ring of 1024,
//! gearset-bcast (Backpressure and Overwrite) against `bus` (back-pressure, single producer),
//! `tokio::sync::broadcast` (overwrite with `Lagged`, used from threads via `blocking_recv`)
//! and the naive fan-out, one bounded `crossbeam-channel` per reader.
//!
//! One criterion iteration is one message delivered to every reader; the time runs from the
//! first send until every reader has accounted for every message (received, or reported lost
//! by an overwriting channel). Reader threads are spawned per measurement batch, outside the
//! timed region's steady state (a few tens of microseconds per batch of many thousands).
//!
//! **Oversubscription:** 1 writer + 3 readers is 4 busy threads; on a 2-core machine that is
//! 2x oversubscribed, so the 3-reader numbers measure scheduling as much as the channels, and
//! spinning waiters (bus spins before parking) pay for it. Overwrite-mode channels may also
//! lose messages to lagging readers there, which makes them look faster: compare the two
//! back-pressure channels (gearset, bus) with each other, and the two overwrite channels with
//! each other.
#![allow(clippy::disallowed_types, clippy::disallowed_methods, missing_docs)]

use std::{
    thread,
    time::{Duration, Instant},
};

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use gearset_bcast::{Policy, RecvError, channel};
use gearset_benches::config;

const CAPACITY: usize = 1024;

/// gearset-bcast, either policy, default (`Phased`) wait strategy; `batch` readers use
/// `recv_batch` (up to 64 per call, one cursor publication per batch).
fn gearset(policy: Policy, readers: usize, messages: u64, batch: bool) -> Duration {
    let (publisher, first) = channel::<u64>(CAPACITY, policy);
    let handles: Vec<_> = (0..readers)
        .map(|_| {
            let mut s = first.clone();
            thread::spawn(move || {
                let mut seen = 0;
                let mut buf = Vec::with_capacity(64);
                while seen < messages {
                    let step = if batch {
                        buf.clear();
                        s.recv_batch(&mut buf, 64).map(|n| n as u64)
                    } else {
                        s.recv().map(|_| 1)
                    };
                    match step {
                        Ok(n) => seen += n,
                        Err(RecvError::Lagged(n)) => seen += n,
                        Err(RecvError::Closed) => break,
                    }
                }
                seen
            })
        })
        .collect();
    drop(first);
    let start = Instant::now();
    for i in 0..messages {
        publisher.send(i).unwrap();
    }
    for h in handles {
        assert_eq!(h.join().unwrap(), messages);
    }
    start.elapsed()
}

/// `bus`: single producer, back-pressure; readers must be added before the first send.
fn bus(readers: usize, messages: u64) -> Duration {
    let mut bus = bus::Bus::<u64>::new(CAPACITY);
    let handles: Vec<_> = (0..readers)
        .map(|_| {
            let mut rx = bus.add_rx();
            thread::spawn(move || {
                let mut seen = 0;
                while seen < messages && rx.recv().is_ok() {
                    seen += 1;
                }
                seen
            })
        })
        .collect();
    let start = Instant::now();
    for i in 0..messages {
        bus.broadcast(i);
    }
    for h in handles {
        assert_eq!(h.join().unwrap(), messages);
    }
    start.elapsed()
}

/// `tokio::sync::broadcast`: overwrite with `Lagged(n)`, readers on plain threads.
fn tokio_broadcast(readers: usize, messages: u64) -> Duration {
    use tokio::sync::broadcast::{self, error::RecvError as TokioRecvError};
    let (tx, _) = broadcast::channel::<u64>(CAPACITY);
    let handles: Vec<_> = (0..readers)
        .map(|_| {
            let mut rx = tx.subscribe();
            thread::spawn(move || {
                let mut seen = 0;
                while seen < messages {
                    match rx.blocking_recv() {
                        Ok(_) => seen += 1,
                        Err(TokioRecvError::Lagged(n)) => seen += n,
                        Err(TokioRecvError::Closed) => break,
                    }
                }
                seen
            })
        })
        .collect();
    let start = Instant::now();
    for i in 0..messages {
        tx.send(i).unwrap();
    }
    for h in handles {
        assert_eq!(h.join().unwrap(), messages);
    }
    start.elapsed()
}

/// The naive fan-out: one bounded crossbeam channel per reader, the writer sends a copy to
/// each (back-pressure per reader).
fn crossbeam_fanout(readers: usize, messages: u64) -> Duration {
    let (txs, handles): (Vec<_>, Vec<_>) = (0..readers)
        .map(|_| {
            let (tx, rx) = crossbeam_channel::bounded::<u64>(CAPACITY);
            let handle = thread::spawn(move || rx.iter().take(messages as usize).count() as u64);
            (tx, handle)
        })
        .unzip();
    let start = Instant::now();
    for i in 0..messages {
        for tx in &txs {
            tx.send(i).unwrap();
        }
    }
    for h in handles {
        assert_eq!(h.join().unwrap(), messages);
    }
    start.elapsed()
}

/// The scenario label: readers and the thread count (readers + the writer), which the report
/// reads to flag oversubscription.
fn threads(readers: usize) -> String {
    format!("{readers}r_{}t", readers + 1)
}

fn fanout(c: &mut Criterion) {
    let mut group = c.benchmark_group("bcast/fanout");
    for readers in [1usize, 3] {
        group.throughput(Throughput::Elements(1));
        group.bench_with_input(
            BenchmarkId::new("gearset", threads(readers)),
            &readers,
            |b, &r| b.iter_custom(|iters| gearset(Policy::Backpressure, r, iters, false)),
        );
        group.bench_with_input(
            BenchmarkId::new("gearset-overwrite", threads(readers)),
            &readers,
            |b, &r| b.iter_custom(|iters| gearset(Policy::Overwrite, r, iters, false)),
        );
        group.bench_with_input(
            BenchmarkId::new("gearset-batch", threads(readers)),
            &readers,
            |b, &r| b.iter_custom(|iters| gearset(Policy::Backpressure, r, iters, true)),
        );
        group.bench_with_input(
            BenchmarkId::new("bus", threads(readers)),
            &readers,
            |b, &r| b.iter_custom(|iters| bus(r, iters)),
        );
        group.bench_with_input(
            BenchmarkId::new("tokio", threads(readers)),
            &readers,
            |b, &r| b.iter_custom(|iters| tokio_broadcast(r, iters)),
        );
        group.bench_with_input(
            BenchmarkId::new("crossbeam", threads(readers)),
            &readers,
            |b, &r| b.iter_custom(|iters| crossbeam_fanout(r, iters)),
        );
    }
    group.finish();
}

criterion_group! {
    name = benches;
    config = config();
    targets = fanout
}
criterion_main!(benches);
