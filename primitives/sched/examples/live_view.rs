//! A live view of a running pool (the `aps`-style view the runtime notes ask for): a pool on
//! a synthetic two-socket topology runs bursts of fork-join work while the main thread prints
//! `pool.stats()` five times a second.
//!
//! Run: `cargo run -p gearset-sched --example live_view --release`.
//!
//! The example's own threads (the load generator, the printer) are std's: it needs
//! `thread::sleep`, and it is never model-checked.
#![allow(clippy::disallowed_types, clippy::disallowed_methods)]

use std::{
    sync::Arc,
    thread,
    time::{Duration, Instant},
};

use gearset_hqueue::Topology;
use gearset_sched::{Context, Pool, Stats};

fn fib(cx: &mut Context<'_>, n: u64) -> u64 {
    if n < 2 {
        return n;
    }
    let (a, b) = cx.join(|cx| fib(cx, n - 1), |cx| fib(cx, n - 2));
    a + b
}

fn print(stats: &Stats, elapsed: Duration) {
    println!(
        "t={:>5} ms  queued={:<4} pending={:<4} idle={}",
        elapsed.as_millis(),
        stats.queued,
        stats.pending,
        stats.idle
    );
    for (i, w) in stats.workers.iter().enumerate() {
        println!(
            "  worker {i}: run {:>8}  exposed joins {:>7}  parks {:>5}  stolen {:>6}",
            w.tasks_run,
            w.exposed,
            w.parks,
            w.queue.taken()
        );
    }
    let by_distance: Vec<String> = stats
        .steals_by_distance()
        .iter()
        .map(|(level, n)| format!("{level}: {n}"))
        .collect();
    println!("  steals by distance: {}", by_distance.join(", "));
}

fn main() {
    let topology = Topology::synthetic("numa:2 l3:1 core:2").expect("a valid synthetic topology");
    let pool = Arc::new(Pool::builder().topology(topology).build().expect("a pool"));
    let worker_pool = Arc::clone(&pool);
    let load = thread::spawn(move || {
        for burst in 0..8 {
            // Bursts of work with pauses in between: workers park in the pauses.
            let handles: Vec<_> = (0..4)
                .map(|_| worker_pool.spawn(move |cx| fib(cx, 24 + burst % 3)))
                .collect();
            for h in handles {
                h.join().expect("no job panics");
            }
            thread::sleep(Duration::from_millis(150));
        }
    });
    let start = Instant::now();
    while !load.is_finished() {
        print(&pool.stats(), start.elapsed());
        thread::sleep(Duration::from_millis(200));
    }
    load.join().expect("the load thread ends");
    pool.wait_idle();
    print(&pool.stats(), start.elapsed());
}
