//! Round-trip latency, 1 hop each way: the main thread publishes a turn number into a ring, an
//! echo thread's consumer receives it and stores it into a padded atomic the main thread spins
//! on. gearset-disruptor with a busy-spin and with a blocking (event-count) consumer, the
//! `disruptor` crate (4.x, busy-spin; it has no blocking strategy) and crossbeam-channel
//! `bounded` (its `recv` blocks), with the floor, two padded atomics (`floor/pingpong`), in the
//! same run. 2 threads.
//!
//! Besides criterion's mean, every round trip is timed on its own into an hdrhistogram; p50,
//! p99 and p99.9 per implementation are printed and written to
//! `target/criterion/disruptor_latency_percentiles.txt`.
//! Run: `cargo bench -p gearset-benches --bench disruptor_latency`.
#![allow(clippy::disallowed_types, clippy::disallowed_methods)]

use std::{
    fmt::Write as _,
    hint,
    path::PathBuf,
    sync::{
        Arc, Mutex,
        atomic::{
            AtomicU64,
            Ordering::{Acquire, Release},
        },
    },
    thread,
    time::{Duration, Instant},
};

use criterion::{Criterion, criterion_group, criterion_main};
use crossbeam_utils::CachePadded;
use disruptor::Producer as _;
use hdrhistogram::Histogram;

type Echo = Arc<CachePadded<AtomicU64>>;

/// Percentile lines of every implementation, written out at the end.
static REPORT: Mutex<String> = Mutex::new(String::new());

/// Times `iters` round trips: `send(turn)`, then spin until the echo holds `turn`.
fn round_trips(
    iters: u64,
    next: &mut u64,
    echo: &Echo,
    histogram: &mut Histogram<u64>,
    mut send: impl FnMut(u64),
) -> Duration {
    let mut took = Duration::ZERO;
    for _ in 0..iters {
        *next += 1;
        let turn = *next;
        let start = Instant::now();
        send(turn);
        while echo.load(Acquire) != turn {
            hint::spin_loop();
        }
        let one = start.elapsed();
        took += one;
        histogram.saturating_record(one.as_nanos() as u64);
    }
    took
}

fn histogram() -> Histogram<u64> {
    Histogram::new_with_bounds(1, 10_000_000_000, 3).unwrap()
}

fn report(name: &str, h: &Histogram<u64>) {
    let line = format!(
        "disruptor/roundtrip/{name}: p50 {} ns, p99 {} ns, p99.9 {} ns, max {} ns ({} round trips)",
        h.value_at_quantile(0.50),
        h.value_at_quantile(0.99),
        h.value_at_quantile(0.999),
        h.max(),
        h.len()
    );
    println!("{line}");
    writeln!(REPORT.lock().unwrap(), "{line}").unwrap();
}

fn gearset<W: gearset_sync::wait::WaitStrategy + 'static>(c: &mut Criterion, name: &str, wait: W) {
    use gearset_disruptor::Disruptor;
    let echo: Echo = Arc::new(CachePadded::new(AtomicU64::new(0)));
    let back = Arc::clone(&echo);
    let mut builder = Disruptor::single_producer(64, || 0u64).unwrap();
    builder
        .consumer(move |e: &u64, _, _| back.store(*e, Release))
        .wait_strategy(wait)
        .add();
    let (mut producer, disruptor) = builder.build().unwrap();
    let (mut next, mut h) = (0, histogram());
    c.benchmark_group("disruptor/roundtrip")
        .bench_function(name, |b| {
            b.iter_custom(|iters| {
                round_trips(iters, &mut next, &echo, &mut h, |turn| {
                    producer.publish(|e, _| *e = turn).unwrap();
                })
            })
        });
    report(name, &h);
    drop(producer);
    disruptor.join().unwrap();
}

fn disruptor_crate(c: &mut Criterion) {
    let echo: Echo = Arc::new(CachePadded::new(AtomicU64::new(0)));
    let back = Arc::clone(&echo);
    let mut producer = disruptor::build_single_producer(64, || 0u64, disruptor::BusySpin)
        .handle_events_with(move |e: &u64, _seq: i64, _end: bool| back.store(*e, Release))
        .build();
    let (mut next, mut h) = (0, histogram());
    c.benchmark_group("disruptor/roundtrip")
        .bench_function("disruptor", |b| {
            b.iter_custom(|iters| {
                round_trips(iters, &mut next, &echo, &mut h, |turn| {
                    producer.publish(|e| *e = turn);
                })
            })
        });
    report("disruptor", &h);
}

fn crossbeam(c: &mut Criterion) {
    let echo: Echo = Arc::new(CachePadded::new(AtomicU64::new(0)));
    let back = Arc::clone(&echo);
    let (tx, rx) = crossbeam_channel::bounded::<u64>(64);
    let partner = thread::spawn(move || {
        while let Ok(turn) = rx.recv() {
            back.store(turn, Release);
        }
    });
    let (mut next, mut h) = (0, histogram());
    c.benchmark_group("disruptor/roundtrip")
        .bench_function("crossbeam", |b| {
            b.iter_custom(|iters| {
                round_trips(iters, &mut next, &echo, &mut h, |turn| {
                    tx.send(turn).unwrap()
                })
            })
        });
    report("crossbeam", &h);
    drop(tx);
    partner.join().unwrap();
}

fn latency(c: &mut Criterion) {
    gearset(c, "gearset_busyspin", gearset_sync::wait::BusySpin::new());
    gearset(c, "gearset_blocking", gearset_sync::wait::Blocking::new());
    disruptor_crate(c);
    crossbeam(c);
    let dir = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../target"))
        .join("criterion");
    let _ = std::fs::create_dir_all(&dir);
    let report = REPORT.lock().unwrap().clone();
    if let Err(e) = std::fs::write(dir.join("disruptor_latency_percentiles.txt"), report) {
        eprintln!("could not write the percentiles: {e}");
    }
}

criterion_group! {
    name = benches;
    config = gearset_benches::config();
    targets = gearset_benches::bench_floor, latency
}
criterion_main!(benches);
