//! gearset-hqueue against crossbeam-deque, a flat global queue and `Mutex<BinaryHeap>`:
//!
//! - `hqueue/local`: the owner's push + pop of one item (gearset `Worker` vs crossbeam LIFO
//!   `Worker`, vs a `Mutex<VecDeque>`);
//! - `hqueue/steal_2t`: one thread fills a queue with 1,024 items, another empties it by
//!   stealing: gearset's climbs (batch of half, at most 32), crossbeam's
//!   `steal_batch_and_pop`, and a flat global queue (crossbeam `Injector`, `SegQueue`);
//! - `hqueue/steal_contended_2t`: an owner pushing and popping 8,192 items while a thief
//!   steals from it at the same time (two threads);
//! - `hqueue/priority`: 1,024 pushes with frames 0..16, then 1,024 pops, lowest first,
//!   against `Mutex<BinaryHeap>`;
//! - the physical floor, `floor/pingpong/cacheline` (two threads on one cache line), in the
//!   same run; every threaded scenario here runs 2 threads (no oversubscription on 2 cores);
//! - and, printed before the timings, a count that is exact on any machine: the share of
//!   items taken across NUMA nodes when 16 simulated workers on a synthetic 2-socket tree
//!   balance an uneven load, against flat random stealing (crossbeam deques, random victim).
#![allow(clippy::disallowed_types, clippy::disallowed_methods, missing_docs)]

use std::{
    cmp::Reverse,
    collections::{BinaryHeap, VecDeque},
    hint::black_box,
    sync::{
        Arc, Mutex,
        atomic::{AtomicBool, Ordering},
    },
    thread,
    time::{Duration, Instant},
};

use criterion::{Criterion, criterion_group, criterion_main};
use crossbeam_deque::{Injector as CbInjector, Steal, Worker as CbWorker};
use crossbeam_queue::SegQueue;
use gearset_benches::{bench_floor, config};
use gearset_hqueue::{Config, Topology};

const BATCH: usize = 1024;

fn gearset_pair(spec: &str) -> Vec<gearset_hqueue::Worker<u64>> {
    let (_inj, workers) =
        gearset_hqueue::new(Topology::synthetic(spec).unwrap(), Config::default());
    workers
}

fn local(c: &mut Criterion) {
    let mut g = c.benchmark_group("hqueue/local");
    let mut w = gearset_pair("core:2");
    g.bench_function("gearset", |b| {
        b.iter(|| {
            w[0].push(0, black_box(1));
            black_box(w[0].pop())
        })
    });
    let cb = CbWorker::new_lifo();
    g.bench_function("crossbeam", |b| {
        b.iter(|| {
            cb.push(black_box(1u64));
            black_box(cb.pop())
        })
    });
    let m = Mutex::new(VecDeque::new());
    g.bench_function("std", |b| {
        b.iter(|| {
            m.lock().unwrap().push_back(black_box(1u64));
            black_box(m.lock().unwrap().pop_back())
        })
    });
    g.finish();
}

/// Time for a second thread to take all `BATCH` items the first pushed (thread start-up
/// excluded: the thief waits for a flag).
fn timed_drain(iters: u64, fill: impl Fn(), drain: impl Fn() + Send + Sync + 'static) -> Duration {
    let drain = Arc::new(drain);
    let mut total = Duration::ZERO;
    for _ in 0..iters {
        fill();
        let d = Arc::clone(&drain);
        let start = Instant::now();
        thread::spawn(move || d()).join().unwrap();
        total += start.elapsed();
    }
    total
}

fn steal(c: &mut Criterion) {
    let mut g = c.benchmark_group("hqueue/steal_2t");
    g.bench_function("gearset", |b| {
        b.iter_custom(|iters| {
            let mut total = Duration::ZERO;
            for _ in 0..iters {
                let mut w = gearset_pair("core:2");
                let mut thief = w.pop().unwrap();
                (0..BATCH as u64).for_each(|i| w[0].push(0, i));
                let start = Instant::now();
                let n = thread::spawn(move || std::iter::from_fn(|| thief.pop()).count())
                    .join()
                    .unwrap();
                total += start.elapsed();
                assert_eq!(n, BATCH);
            }
            total
        })
    });
    g.bench_function("crossbeam", |b| {
        b.iter_custom(|iters| {
            let mut total = Duration::ZERO;
            for _ in 0..iters {
                let victim = CbWorker::new_lifo();
                (0..BATCH as u64).for_each(|i| victim.push(i));
                let stealer = victim.stealer();
                let start = Instant::now();
                let n = thread::spawn(move || {
                    let mine = CbWorker::new_lifo();
                    let mut n = 0;
                    loop {
                        match mine.pop() {
                            Some(_) => n += 1,
                            None => match stealer.steal_batch_and_pop(&mine) {
                                Steal::Success(_) => n += 1,
                                Steal::Retry => {}
                                Steal::Empty => break n,
                            },
                        }
                    }
                })
                .join()
                .unwrap();
                total += start.elapsed();
                assert_eq!(n, BATCH);
            }
            total
        })
    });
    let flat = Arc::new(CbInjector::new());
    let f2 = Arc::clone(&flat);
    g.bench_function("flat_injector", |b| {
        b.iter_custom(|iters| {
            let f = Arc::clone(&f2);
            timed_drain(
                iters,
                || (0..BATCH as u64).for_each(|i| flat.push(i)),
                move || {
                    let mine = CbWorker::new_fifo();
                    let mut n = 0;
                    loop {
                        match mine.pop() {
                            Some(_) => n += 1,
                            None => match f.steal_batch_and_pop(&mine) {
                                Steal::Success(_) => n += 1,
                                Steal::Retry => {}
                                Steal::Empty => break,
                            },
                        }
                    }
                    assert_eq!(n, BATCH);
                },
            )
        })
    });
    let seg = Arc::new(SegQueue::new());
    let s2 = Arc::clone(&seg);
    g.bench_function("flat_segqueue", |b| {
        b.iter_custom(|iters| {
            let s = Arc::clone(&s2);
            timed_drain(
                iters,
                || (0..BATCH as u64).for_each(|i| seg.push(i)),
                move || assert_eq!(std::iter::from_fn(|| s.pop()).count(), BATCH),
            )
        })
    });
    g.finish();
}

const CONTENDED: u64 = 8192;

fn steal_contended(c: &mut Criterion) {
    let mut g = c.benchmark_group("hqueue/steal_contended_2t");
    g.bench_function("gearset", |b| {
        b.iter_custom(|iters| {
            let mut total = Duration::ZERO;
            for _ in 0..iters {
                let mut w = gearset_pair("core:2");
                let stealer = w[0].stealer();
                let mut owner = w.swap_remove(0);
                let done = Arc::new(AtomicBool::new(false));
                let d = Arc::clone(&done);
                let start = Instant::now();
                let thief = thread::spawn(move || {
                    let mut n = 0u64;
                    // Acquire: pairs with the owner's Release store of `done`.
                    while !d.load(Ordering::Acquire) {
                        n += u64::from(stealer.steal().is_some());
                    }
                    n + std::iter::from_fn(|| stealer.steal()).count() as u64
                });
                let mut n = 0u64;
                for i in 0..CONTENDED {
                    owner.push(0, i);
                    if i % 2 == 0 {
                        n += u64::from(owner.pop_local().is_some());
                    }
                }
                // Release: publishes every push; pairs with the thief's Acquire load.
                done.store(true, Ordering::Release);
                n += thief.join().unwrap();
                // What the full leaf spilled to the root (the stealer only sees the leaf).
                n += std::iter::from_fn(|| owner.pop()).count() as u64;
                total += start.elapsed();
                assert_eq!(n, CONTENDED);
            }
            total
        })
    });
    g.bench_function("crossbeam", |b| {
        b.iter_custom(|iters| {
            let mut total = Duration::ZERO;
            for _ in 0..iters {
                let owner = CbWorker::new_lifo();
                let stealer = owner.stealer();
                let done = Arc::new(AtomicBool::new(false));
                let d = Arc::clone(&done);
                let start = Instant::now();
                let thief = thread::spawn(move || {
                    let mut n = 0u64;
                    loop {
                        // Acquire: pairs with the owner's Release store of `done`, so a
                        // steal after it sees every push.
                        let finished = d.load(Ordering::Acquire);
                        match stealer.steal() {
                            Steal::Success(_) => n += 1,
                            Steal::Empty if finished => break n,
                            _ => {}
                        }
                    }
                });
                let mut n = 0u64;
                for i in 0..CONTENDED {
                    owner.push(i);
                    if i % 2 == 0 {
                        n += u64::from(owner.pop().is_some());
                    }
                }
                // Release: publishes every push; pairs with the thief's Acquire load.
                done.store(true, Ordering::Release);
                n += thief.join().unwrap();
                total += start.elapsed();
                assert_eq!(n, CONTENDED);
            }
            total
        })
    });
    g.finish();
}

fn priority(c: &mut Criterion) {
    let frames: Vec<u64> = (0..BATCH as u64).map(|i| (i * 7919) % 16).collect();
    let mut g = c.benchmark_group("hqueue/priority");
    let mut w = gearset_pair("core:1");
    g.bench_function("gearset", |b| {
        b.iter(|| {
            for (i, &f) in frames.iter().enumerate() {
                w[0].push(f, i as u64);
            }
            let mut last = 0;
            while let Some((f, _)) = w[0].pop() {
                debug_assert!(f >= last);
                last = f;
            }
        })
    });
    let heap = Mutex::new(BinaryHeap::new());
    g.bench_function("std", |b| {
        b.iter(|| {
            for (i, &f) in frames.iter().enumerate() {
                heap.lock().unwrap().push(Reverse((f, i as u64)));
            }
            while let Some(x) = heap.lock().unwrap().pop() {
                black_box(x);
            }
        })
    });
    g.finish();
}

/// xorshift64*, for the simulations.
struct Rng(u64);

impl Rng {
    fn below(&mut self, n: usize) -> usize {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        (self.0.wrapping_mul(0x2545_f491_4f6c_dd1d) >> 33) as usize % n
    }
}

/// 16 simulated workers on `numa:2 l3:2 core:4` (leaves 0-7 on node 0); every round each
/// worker runs one item, and the first two cores of each L3 (leaves `k % 4 < 2`) spawn
/// `0..spread` new items each: an uneven load, busy (`spread` 5: 20 spawned per round on
/// average, 16 run) or starved (`spread` 4: 12 spawned, so whole nodes run dry and must
/// cross), until `ITEMS` items ran. Returns (items run, items taken from another NUMA node's
/// queues).
const ITEMS: usize = 200_000;
const SEED: u64 = 0x9e37_79b9_7f4a_7c15;

fn spawn_count(rng: &mut Rng, spread: usize, k: usize, spawned: usize) -> usize {
    match k % 4 < 2 && spawned < ITEMS {
        true => rng.below(spread).min(ITEMS - spawned),
        false => 0,
    }
}

/// Items run, items taken across NUMA nodes, and failed climbs (the idle time locality costs).
fn locality_gearset(spread: usize, numa_patience: u32) -> (u64, u64, u64) {
    let t = Topology::synthetic("numa:2 l3:2 core:4").unwrap();
    let config = Config {
        numa_patience,
        ..Config::default()
    };
    let (_i, mut w) = gearset_hqueue::new::<u32>(t, config);
    let mut rng = Rng(SEED);
    let (mut run, mut spawned) = (0u64, 0usize);
    while (run as usize) < ITEMS {
        for (k, worker) in w.iter_mut().enumerate() {
            for _ in 0..spawn_count(&mut rng, spread, k, spawned) {
                worker.push(0, 0);
                spawned += 1;
            }
            run += u64::from(worker.pop().is_some());
        }
    }
    let across: u64 = w.iter().map(|w| w.stats().taken_across_numa()).sum();
    let idle: u64 = w.iter().map(|w| w.stats().empty_climbs).sum();
    (run, across, idle)
}

fn locality_flat_random(spread: usize) -> (u64, u64) {
    let n = 16;
    let workers: Vec<CbWorker<u32>> = (0..n).map(|_| CbWorker::new_lifo()).collect();
    let stealers: Vec<_> = workers.iter().map(|w| w.stealer()).collect();
    let mut rng = Rng(SEED);
    let (mut run, mut spawned, mut across) = (0u64, 0usize, 0u64);
    while (run as usize) < ITEMS {
        for (k, worker) in workers.iter().enumerate() {
            for _ in 0..spawn_count(&mut rng, spread, k, spawned) {
                worker.push(0);
                spawned += 1;
            }
            if worker.pop().is_some() {
                run += 1;
                continue;
            }
            // rayon-style: start at a random victim, take from the first non-empty one.
            let start = rng.below(n);
            for v in (0..n).map(|i| (start + i) % n).filter(|&v| v != k) {
                let before = worker.len();
                if let Steal::Success(_) = stealers[v].steal_batch_and_pop(worker) {
                    run += 1;
                    if v / 8 != k / 8 {
                        across += 1 + (worker.len() - before) as u64;
                    }
                    break;
                }
            }
        }
    }
    (run, across)
}

fn locality_report(_c: &mut Criterion) {
    for (name, spread) in [("busy", 5), ("starved", 4)] {
        let (run_f, across_f) = locality_flat_random(spread);
        for patience in [0, 8, 64] {
            let (run_g, across_g, idle) = locality_gearset(spread, patience);
            eprintln!(
                "hqueue/locality/{name}: items taken across NUMA nodes: gearset (numa_patience \
                 {patience}) {across_g} of {run_g} ({:.2}%), flat random stealing {across_f} of \
                 {run_f} ({:.2}%), ratio {:.3}; gearset's failed climbs {idle}",
                100.0 * across_g as f64 / run_g as f64,
                100.0 * across_f as f64 / run_f as f64,
                across_g as f64 / across_f.max(1) as f64
            );
        }
    }
}

criterion_group! {
    name = benches;
    config = config();
    targets = locality_report, bench_floor, local, steal, steal_contended, priority
}
criterion_main!(benches);
