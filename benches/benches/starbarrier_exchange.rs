//! One BSP superstep with an all-to-all exchange: every worker sends `m` u64 messages to every
//! other worker, ends the superstep, and reads what it received. Time per superstep, measured
//! on worker 0.
//!
//! Implementations (function ids):
//! - `gearset`: `gearset_starbarrier::workers` with `BusySpin` (`send`, `sync`, `messages`);
//! - `gearset-yielding`: the same with the `Yielding` strategy (spin, then yield);
//! - `crossbeam`: the same exchange over one unbounded `crossbeam_channel` per worker; a worker
//!   ends its superstep by receiving the `(n - 1) * m` messages it expects (no barrier needed).
//!
//! Parameters: `n = 2` workers (two threads on two cores when the box is idle), `m` in 1, 16.
//! (With more than two workers the channel version would need a barrier too: a fast sender's
//! next-superstep messages could stand in for a slow sender's current ones.)
#![allow(clippy::disallowed_types, clippy::disallowed_methods, missing_docs)]

use std::{
    thread,
    time::{Duration, Instant},
};

use criterion::{BenchmarkId, Criterion, criterion_group, criterion_main};
use crossbeam_channel::{Receiver, Sender, unbounded};
use gearset_benches::config;
use gearset_starbarrier::{Worker, workers};
use gearset_sync::wait::{BusySpin, WaitStrategy, Yielding};

const N: usize = 2;

fn gearset_step<W: WaitStrategy>(w: &mut Worker<(), u64, W>, m: usize) {
    let me = w.id();
    for to in (0..N).filter(|&to| to != me) {
        for i in 0..m {
            w.send(to, i as u64).expect("peer is live");
        }
    }
    w.sync().expect("no worker panics");
    let got = w.messages().count();
    debug_assert_eq!(got, (N - 1) * m);
}

fn gearset_run<W: WaitStrategy + 'static>(wait: W, m: usize, iters: u64) -> Duration {
    let mut ws = workers::<(), u64, _>(N, wait, ()).expect("N > 0");
    let mut mine = ws.remove(0);
    let others: Vec<_> = ws
        .into_iter()
        .map(|mut w| {
            thread::spawn(move || {
                for _ in 0..=iters {
                    gearset_step(&mut w, m);
                }
            })
        })
        .collect();
    gearset_step(&mut mine, m);
    let started = Instant::now();
    for _ in 0..iters {
        gearset_step(&mut mine, m);
    }
    let took = started.elapsed();
    others
        .into_iter()
        .for_each(|t| t.join().expect("worker panicked"));
    took
}

struct Channels {
    me: usize,
    inbox: Receiver<u64>,
    peers: Vec<Sender<u64>>,
}

fn crossbeam_step(c: &Channels, m: usize) {
    let peers = c.peers.iter().enumerate().filter(|&(to, _)| to != c.me);
    for (_, peer) in peers {
        for i in 0..m {
            peer.send(i as u64).expect("peer is live");
        }
    }
    for _ in 0..(N - 1) * m {
        c.inbox.recv().expect("peer is live");
    }
}

fn crossbeam_run(m: usize, iters: u64) -> Duration {
    let (senders, receivers): (Vec<_>, Vec<_>) = (0..N).map(|_| unbounded()).unzip();
    let mut all: Vec<Channels> = receivers
        .into_iter()
        .enumerate()
        .map(|(me, inbox)| Channels {
            me,
            inbox,
            peers: senders.clone(),
        })
        .collect();
    let mine = all.remove(0);
    let others: Vec<_> = all
        .into_iter()
        .map(|c| {
            thread::spawn(move || {
                for _ in 0..=iters {
                    crossbeam_step(&c, m);
                }
            })
        })
        .collect();
    crossbeam_step(&mine, m);
    let started = Instant::now();
    for _ in 0..iters {
        crossbeam_step(&mine, m);
    }
    let took = started.elapsed();
    others
        .into_iter()
        .for_each(|t| t.join().expect("worker panicked"));
    took
}

fn bench_exchange(c: &mut Criterion) {
    let limit = Duration::from_secs(30);
    assert!(gearset_run(BusySpin::new(), 4, 300) < limit);
    assert!(gearset_run(Yielding::new(), 4, 300) < limit && crossbeam_run(4, 300) < limit);
    let mut group = c.benchmark_group("starbarrier/exchange");
    for m in [1usize, 16] {
        group.bench_with_input(BenchmarkId::new("gearset", m), &m, |b, &m| {
            b.iter_custom(|iters| gearset_run(BusySpin::new(), m, iters))
        });
        group.bench_with_input(BenchmarkId::new("gearset-yielding", m), &m, |b, &m| {
            b.iter_custom(|iters| gearset_run(Yielding::new(), m, iters))
        });
        group.bench_with_input(BenchmarkId::new("crossbeam", m), &m, |b, &m| {
            b.iter_custom(|iters| crossbeam_run(m, iters))
        });
    }
    group.finish();
}

criterion_group! {
    name = benches;
    config = config();
    targets = bench_exchange
}
criterion_main!(benches);
