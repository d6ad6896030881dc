//! gearset-sched fork-join against rayon, `std::thread::scope` and sequential code, in one run:
//!
//! - `sched/fib30_2t`: fib(30) by `join` at every node (1,664,079 joins), 2 workers, against
//!   `rayon::join` on a 2-thread pool and a sequential call tree;
//! - `sched/spawn_overhead_1t`: fib(25) (242,784 joins) on *one* worker against sequential:
//!   (one-worker time − sequential time) / joins is the per-spawn overhead of issue #8;
//! - `sched/tiny_2t`: 1,000 × fib(10) inside one `install`: the cost of joins on inputs too
//!   small to share, against sequential (goal ≤ 1.1×);
//! - `sched/par_for_sum_2t`: sum of 0..2^22 in chunks of 4,096 (`par_for` vs rayon
//!   `par_iter` vs two `std::thread::scope` threads vs sequential);
//! - `sched/scope_spawn_10k_2t`: 10,000 empty `Scope::spawn`s in one scope (boxed jobs through
//!   the root queue: the cost of a spawn that is always shared), against `rayon::scope`;
//! - `sched/nqueens10_2t`: all 724 solutions of 10 queens, one `join` per split of the
//!   candidate columns;
//! - and, printed before the timings, the CPU time an idle pool burns in 1 s after 1 s of no
//!   work (`/proc/self/task/*/schedstat`, all threads; gearset and rayon pools, 2 threads each).
//!
//! `2t`: two worker threads, the number of cores of the dev box (not oversubscribed).
#![allow(clippy::disallowed_types, clippy::disallowed_methods, missing_docs)]

use std::{
    hint::black_box,
    sync::atomic::{AtomicU64, Ordering::Relaxed},
    thread,
    time::Duration,
};

use criterion::{Criterion, criterion_group, criterion_main};
use gearset_benches::config;
use gearset_sched::{Context, Pool};
use rayon::prelude::*;

fn fib_seq(n: u64) -> u64 {
    if n < 2 {
        return n;
    }
    fib_seq(n - 1) + fib_seq(n - 2)
}

fn fib_gearset(cx: &mut Context<'_>, n: u64) -> u64 {
    if n < 2 {
        return n;
    }
    let (a, b) = cx.join(|cx| fib_gearset(cx, n - 1), |cx| fib_gearset(cx, n - 2));
    a + b
}

fn fib_rayon(n: u64) -> u64 {
    if n < 2 {
        return n;
    }
    let (a, b) = rayon::join(|| fib_rayon(n - 1), || fib_rayon(n - 2));
    a + b
}

fn rayon_pool(threads: usize) -> rayon::ThreadPool {
    rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .unwrap()
}

fn fib(c: &mut Criterion) {
    let (pool, rayon) = (Pool::new(2), rayon_pool(2));
    assert_eq!(pool.install(|cx| fib_gearset(cx, 30)), 832_040);
    assert_eq!(rayon.install(|| fib_rayon(30)), 832_040);
    let mut g = c.benchmark_group("sched/fib30_2t");
    g.bench_function("gearset", |b| {
        b.iter(|| pool.install(|cx| fib_gearset(cx, black_box(30))))
    });
    g.bench_function("rayon", |b| {
        b.iter(|| rayon.install(|| fib_rayon(black_box(30))))
    });
    g.bench_function("sequential", |b| b.iter(|| fib_seq(black_box(30))));
    g.finish();
}

fn spawn_overhead(c: &mut Criterion) {
    let (pool, rayon) = (Pool::new(1), rayon_pool(1));
    let mut g = c.benchmark_group("sched/spawn_overhead_1t");
    g.bench_function("gearset", |b| {
        b.iter(|| pool.install(|cx| fib_gearset(cx, black_box(25))))
    });
    g.bench_function("rayon", |b| {
        b.iter(|| rayon.install(|| fib_rayon(black_box(25))))
    });
    g.bench_function("sequential", |b| b.iter(|| fib_seq(black_box(25))));
    g.finish();
}

fn tiny(c: &mut Criterion) {
    let (pool, rayon) = (Pool::new(2), rayon_pool(2));
    let mut g = c.benchmark_group("sched/tiny_2t");
    g.bench_function("gearset", |b| {
        b.iter(|| {
            pool.install(|cx| {
                (0..1000)
                    .map(|_| fib_gearset(cx, black_box(10)))
                    .sum::<u64>()
            })
        })
    });
    g.bench_function("rayon", |b| {
        b.iter(|| rayon.install(|| (0..1000).map(|_| fib_rayon(black_box(10))).sum::<u64>()))
    });
    g.bench_function("sequential", |b| {
        b.iter(|| (0..1000).map(|_| fib_seq(black_box(10))).sum::<u64>())
    });
    g.finish();
}

const SUM_LEN: u64 = 1 << 22;
const CHUNK: u64 = 4096;

fn chunk_sum(c: u64) -> u64 {
    (c * CHUNK..(c + 1) * CHUNK).map(black_box).sum()
}

fn par_for_sum(c: &mut Criterion) {
    let (pool, rayon) = (Pool::new(2), rayon_pool(2));
    let chunks = (SUM_LEN / CHUNK) as usize;
    let expect = SUM_LEN * (SUM_LEN - 1) / 2;
    let mut g = c.benchmark_group("sched/par_for_sum_2t");
    g.bench_function("gearset", |b| {
        b.iter(|| {
            let total = AtomicU64::new(0);
            pool.par_for(0..chunks, 1, |c| {
                total.fetch_add(chunk_sum(c as u64), Relaxed);
            });
            assert_eq!(total.into_inner(), expect);
        })
    });
    g.bench_function("rayon", |b| {
        b.iter(|| {
            let total: u64 =
                rayon.install(|| (0..chunks as u64).into_par_iter().map(chunk_sum).sum());
            assert_eq!(total, expect);
        })
    });
    g.bench_function("std_thread_scope", |b| {
        b.iter(|| {
            let half = chunks as u64 / 2;
            let total = thread::scope(|s| {
                let h = s.spawn(|| (0..half).map(chunk_sum).sum::<u64>());
                (half..chunks as u64).map(chunk_sum).sum::<u64>() + h.join().unwrap()
            });
            assert_eq!(total, expect);
        })
    });
    g.bench_function("sequential", |b| {
        b.iter(|| assert_eq!((0..chunks as u64).map(chunk_sum).sum::<u64>(), expect))
    });
    g.finish();
}

const SPAWNS: usize = 10_000;

fn scope_spawn(c: &mut Criterion) {
    let (pool, rayon) = (Pool::new(2), rayon_pool(2));
    let mut g = c.benchmark_group("sched/scope_spawn_10k_2t");
    g.bench_function("gearset", |b| {
        b.iter(|| {
            let ran = AtomicU64::new(0);
            pool.scope(|s, _| {
                for _ in 0..SPAWNS {
                    let ran = &ran;
                    s.spawn(move |_| {
                        ran.fetch_add(1, Relaxed);
                    });
                }
            });
            assert_eq!(ran.into_inner(), SPAWNS as u64);
        })
    });
    g.bench_function("rayon", |b| {
        b.iter(|| {
            let ran = AtomicU64::new(0);
            rayon.scope(|s| {
                for _ in 0..SPAWNS {
                    let ran = &ran;
                    s.spawn(move |_| {
                        ran.fetch_add(1, Relaxed);
                    });
                }
            });
            assert_eq!(ran.into_inner(), SPAWNS as u64);
        })
    });
    g.finish();
}

const QUEENS: usize = 10;

fn safe(placed: &[usize], col: usize) -> bool {
    let row = placed.len();
    placed
        .iter()
        .enumerate()
        .all(|(r, &c)| c != col && row - r != col.abs_diff(c))
}

/// Solutions extending `placed`, trying columns `cols`; `join` splits the columns in halves.
fn queens(placed: &mut Vec<usize>, cols: std::ops::Range<usize>, join: &impl Joiner) -> u64 {
    if placed.len() == QUEENS {
        return 1;
    }
    if cols.len() > 1 {
        let mid = cols.start + cols.len() / 2;
        let mut other = placed.clone();
        let (a, b) = join.join(
            |j| queens(placed, cols.start..mid, j),
            |j| queens(&mut other, mid..cols.end, j),
        );
        return a + b;
    }
    let col = cols.start;
    if !safe(placed, col) {
        return 0;
    }
    placed.push(col);
    let n = queens(placed, 0..QUEENS, join);
    placed.pop();
    n
}

/// A fork-join implementation, for the generic nqueens.
trait Joiner: Sync {
    fn join<A, B>(&self, a: A, b: B) -> (u64, u64)
    where
        A: FnOnce(&Self) -> u64 + Send,
        B: FnOnce(&Self) -> u64 + Send;
}

struct Rayon;
impl Joiner for Rayon {
    fn join<A, B>(&self, a: A, b: B) -> (u64, u64)
    where
        A: FnOnce(&Self) -> u64 + Send,
        B: FnOnce(&Self) -> u64 + Send,
    {
        rayon::join(|| a(self), || b(self))
    }
}

struct Sequential;
impl Joiner for Sequential {
    fn join<A, B>(&self, a: A, b: B) -> (u64, u64)
    where
        A: FnOnce(&Self) -> u64 + Send,
        B: FnOnce(&Self) -> u64 + Send,
    {
        (a(self), b(self))
    }
}

fn queens_gearset(
    cx: &mut Context<'_>,
    placed: &mut Vec<usize>,
    cols: std::ops::Range<usize>,
) -> u64 {
    if placed.len() == QUEENS {
        return 1;
    }
    if cols.len() > 1 {
        let mid = cols.start + cols.len() / 2;
        let mut other = placed.clone();
        let (a, b) = cx.join(
            |cx| queens_gearset(cx, placed, cols.start..mid),
            |cx| queens_gearset(cx, &mut other, mid..cols.end),
        );
        return a + b;
    }
    let col = cols.start;
    if !safe(placed, col) {
        return 0;
    }
    placed.push(col);
    let n = queens_gearset(cx, placed, 0..QUEENS);
    placed.pop();
    n
}

fn nqueens(c: &mut Criterion) {
    let (pool, rayon) = (Pool::new(2), rayon_pool(2));
    assert_eq!(
        pool.install(|cx| queens_gearset(cx, &mut Vec::new(), 0..QUEENS)),
        724
    );
    assert_eq!(
        rayon.install(|| queens(&mut Vec::new(), 0..QUEENS, &Rayon)),
        724
    );
    let mut g = c.benchmark_group("sched/nqueens10_2t");
    g.bench_function("gearset", |b| {
        b.iter(|| pool.install(|cx| queens_gearset(cx, &mut Vec::new(), 0..QUEENS)))
    });
    g.bench_function("rayon", |b| {
        b.iter(|| rayon.install(|| queens(&mut Vec::new(), 0..QUEENS, &Rayon)))
    });
    g.bench_function("sequential", |b| {
        b.iter(|| queens(&mut Vec::new(), 0..QUEENS, &Sequential))
    });
    g.finish();
}

/// CPU time of every thread of the process so far, in nanoseconds: the sum of the first field
/// of `/proc/self/task/*/schedstat` (threads that exited are not counted; none exit here).
fn cpu_ns() -> Option<u64> {
    let mut total = 0;
    for task in std::fs::read_dir("/proc/self/task").ok()? {
        let stat = std::fs::read_to_string(task.ok()?.path().join("schedstat")).ok()?;
        total += stat.split_whitespace().next()?.parse::<u64>().ok()?;
    }
    Some(total)
}

/// CPU time an idle pool burns in 1 s, after 1 s without work.
fn idle_cpu(name: &str, run_once: impl FnOnce()) {
    run_once();
    thread::sleep(Duration::from_secs(1));
    let Some(before) = cpu_ns() else {
        println!("sched/idle_cpu_2t {name}: /proc/self/task/*/schedstat unavailable");
        return;
    };
    thread::sleep(Duration::from_secs(1));
    let used = cpu_ns().unwrap_or(before) - before;
    println!(
        "sched/idle_cpu_2t {name}: {:.1} µs of CPU in 1 s idle (all threads, schedstat)",
        used as f64 / 1e3
    );
}

fn idle(_: &mut Criterion) {
    // `cargo test --benches` (CI's test stage) runs each bench once without `--bench`: skip
    // the 4 s of sleeping there.
    if !std::env::args().any(|a| a == "--bench") {
        return;
    }
    let pool = Pool::new(2);
    idle_cpu("gearset", || {
        assert_eq!(pool.install(|cx| fib_gearset(cx, 20)), 6765)
    });
    let rayon = rayon_pool(2);
    idle_cpu("rayon", || {
        assert_eq!(rayon.install(|| fib_rayon(20)), 6765)
    });
}

criterion_group! {
    name = benches;
    config = config();
    targets = idle, fib, spawn_overhead, tiny, par_for_sum, scope_spawn, nqueens
}
criterion_main!(benches);
