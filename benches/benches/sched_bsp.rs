//! gearset-sched's BSP mode against a rayon equivalent, in one run:
//!
//! - `sched/superstep_2t`: 100 empty supersteps on 2 workers: `Pool::supersteps` with a
//!   `gearset-starbarrier` barrier per superstep, against 100 `rayon::ThreadPool::broadcast`
//!   calls (each a fork-join over every thread: the way to run a superstep in rayon), and the
//!   floor, the cache-line ping-pong of `benches/src/lib.rs` (100 round trips).
//!
//! `2t`: two threads, the number of cores of the dev box.
#![allow(clippy::disallowed_types, clippy::disallowed_methods, missing_docs)]

use std::{hint::black_box, sync::Arc};

use criterion::{Criterion, criterion_group, criterion_main};
use gearset_benches::{SpinSignal, config, round_trips};
use gearset_sched::{Participant, Pool};

const STEPS: u64 = 100;

fn superstep(c: &mut Criterion) {
    let pool = Pool::new(2);
    let rayon = rayon::ThreadPoolBuilder::new()
        .num_threads(2)
        .build()
        .unwrap();
    let body = |w: &mut Participant<(), ()>| {
        for _ in 0..STEPS {
            w.sync().unwrap();
        }
        w.superstep()
    };
    assert_eq!(pool.supersteps((), body).unwrap(), vec![STEPS, STEPS]);
    let mut g = c.benchmark_group("sched/superstep_2t");
    g.bench_function("gearset", |b| b.iter(|| pool.supersteps((), body).unwrap()));
    g.bench_function("rayon", |b| {
        b.iter(|| {
            for step in 0..STEPS {
                black_box(rayon.broadcast(|ctx| ctx.index() as u64 + step));
            }
        })
    });
    g.bench_function("floor", |b| {
        b.iter_custom(|iters| round_trips(Arc::new(SpinSignal::default()), iters * STEPS))
    });
    g.finish();
}

criterion_group! {
    name = benches;
    config = config();
    targets = superstep
}
criterion_main!(benches);
