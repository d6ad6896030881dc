//! The shared benchmark harness: the physical floor every cross-thread primitive is compared
//! with, and a two-thread round-trip driver generic over how the two sides signal each other.
//!
//! The floor is a cache-line ping-pong: two threads take turns writing one padded atomic and
//! spinning until the other answers. No synchronization primitive can hand a turn from one core
//! to another faster than that line can move, so `cargo xtask bench` reports every scenario as a
//! ratio to it, measured in the same run on the same machine.
//!
//! Naming, which `cargo xtask bench` reads: a criterion group is a scenario, `<crate>/<scenario>`;
//! its functions are implementations, `gearset` first, competitors by crate name; a parameter
//! (`BenchmarkId::new("gearset", 3)`) makes one scenario per value. State the number of threads
//! a scenario runs in its name (`fanout_4t`, `3p1c`, `threads=8`) so the report can say when a
//! run was oversubscribed (more threads than cores).
//!
//! Benchmarks here use std's threads directly: the facade's model-checker backends mean nothing
//! to a timing run, and the competitors (std park, `Condvar`) are std types by definition.
#![allow(clippy::disallowed_types, clippy::disallowed_methods)]

pub mod bursts;

use std::{
    hint,
    sync::{
        Arc,
        atomic::{AtomicU64, Ordering},
    },
    thread,
    time::{Duration, Instant},
};

use criterion::Criterion;
use crossbeam_utils::CachePadded;

/// Criterion settings for every gearset bench; `cargo xtask bench --quick` shortens them from
/// the command line.
pub fn config() -> Criterion {
    Criterion::default()
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3))
}

/// A two-thread hand-off: a turn counter and a way to wait for and announce turns. The main
/// thread posts odd turns and waits for even ones; the partner waits for odd turns and posts
/// even ones.
pub trait Signal: Send + Sync + 'static {
    /// Called once on the partner thread before the first turn (to register a parker, say).
    fn register_partner(&self) {}
    /// Announces `turn` and wakes the other side.
    fn post(&self, turn: u64);
    /// Waits until the other side announced `turn`.
    fn wait(&self, turn: u64);
}

/// Runs `iters` round trips between the calling thread and a partner thread and returns the
/// time they took (thread start-up excluded). Checks that every turn arrived in order.
pub fn round_trips<S: Signal>(signal: Arc<S>, iters: u64) -> Duration {
    let partner = {
        let signal = Arc::clone(&signal);
        thread::spawn(move || {
            signal.register_partner();
            for i in 0..iters {
                signal.wait(2 * i + 1);
                signal.post(2 * i + 2);
            }
        })
    };
    let started = Instant::now();
    for i in 0..iters {
        signal.post(2 * i + 1);
        signal.wait(2 * i + 2);
    }
    let took = started.elapsed();
    partner.join().expect("partner thread panicked");
    took
}

/// The floor: both sides spin on one padded atomic.
#[derive(Debug, Default)]
pub struct SpinSignal {
    turn: CachePadded<AtomicU64>,
}

impl Signal for SpinSignal {
    fn post(&self, turn: u64) {
        // Release: hands the turn over; pairs with the Acquire load in `wait`.
        self.turn.store(turn, Ordering::Release);
    }

    fn wait(&self, turn: u64) {
        // Acquire: pairs with the Release store in `post`.
        while self.turn.load(Ordering::Acquire) != turn {
            hint::spin_loop();
        }
    }
}

/// Registers the floor, `floor/pingpong/cacheline`, in `c`.
pub fn bench_floor(c: &mut Criterion) {
    let mut group = c.benchmark_group("floor/pingpong");
    group.bench_function("cacheline", |b| {
        b.iter_custom(|iters| round_trips(Arc::new(SpinSignal::default()), iters))
    });
    group.finish();
}

/// Sanity-checks a signal before it is measured: a few hundred round trips must complete.
pub fn sanity_check<S: Signal>(signal: Arc<S>) {
    let took = round_trips(signal, 300);
    assert!(
        took < Duration::from_secs(30),
        "300 round trips took {took:?}: a lost wake-up?"
    );
}
