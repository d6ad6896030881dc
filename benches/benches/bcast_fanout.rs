//! Broadcast throughput and latency, `u64` payloads, rings of 1024: gearset-bcast (Backpressure,
//! Overwrite, and Backpressure with `recv_batch`) against `bus` (back-pressure, single
//! producer), `tokio::sync::broadcast` (overwrite with `Lagged`, used from threads via
//! `blocking_recv`), `multiqueue2` (back-pressure; its writers spin on `try_send`) and the naive
//! fan-out, one bounded `crossbeam-channel` per reader; the cache-line ping-pong floor in the
//! same run.
//!
//! Scenarios (criterion group `bcast/<scenario>`, parameter = threads):
//! - `1w2r` (3t), `1w4r` (5t), `2w2r` (4t): throughput. One iteration is one message
//!   delivered to every reader; the time runs from the first send until every reader has
//!   accounted for every message (received, or reported lost by an overwriting channel).
//!   `bus` has a single writer, so it is absent from `2w2r`.
//! - `roundtrip_1w1r` (2t): one message there and one back over two channels.
//!
//! Before the groups (only under `cargo bench`, not in `cargo test`'s single pass) it prints
//! the CPU time a reader blocked for one second uses, per implementation, from the reader
//! thread's `/proc/thread-self/schedstat` (Linux; nanoseconds on CPU).
//!
//! **Oversubscription:** on a 2-core machine every throughput scenario runs more busy threads
//! than cores (3, 5 and 4), so it measures scheduling as much as the channels, and spinning
//! waiters pay for it. Overwrite-mode channels (gearset-overwrite, tokio) may also lose
//! messages to lagging readers there, which makes them look faster: compare the back-pressure
//! channels (gearset, gearset-batch, bus, multiqueue2, crossbeam) with each other.
#![allow(clippy::disallowed_types, clippy::disallowed_methods, missing_docs)]

use std::{
    thread,
    time::{Duration, Instant},
};

use criterion::{BenchmarkId, Criterion, Throughput};
use gearset_bcast::{Policy, RecvError, channel};
use gearset_benches::{bench_floor, config};

const CAPACITY: usize = 1024;

/// Splits `messages` over `writers`.
fn share(messages: u64, writers: usize, w: usize) -> u64 {
    messages / writers as u64 + u64::from((w as u64) < messages % writers as u64)
}

/// Runs `writers` threads, each sending its share of `messages` with `send` through its own
/// clone of `tx`, then drops `tx` and waits for them.
fn run_writers<S: Clone + Send + 'static>(tx: S, writers: usize, messages: u64, send: fn(&S, u64)) {
    let senders: Vec<_> = (0..writers)
        .map(|w| {
            let tx = tx.clone();
            thread::spawn(move || (0..share(messages, writers, w)).for_each(|i| send(&tx, i)))
        })
        .collect();
    drop(tx);
    senders.into_iter().for_each(|s| s.join().unwrap());
}

/// Joins reader threads that each return how many messages they accounted for.
fn join_all(handles: Vec<thread::JoinHandle<u64>>, messages: u64) {
    for h in handles {
        assert_eq!(h.join().unwrap(), messages, "a reader missed messages");
    }
}

/// gearset-bcast; `batch` readers use `recv_batch` (up to 64 per call).
fn gearset(policy: Policy, batch: bool, writers: usize, readers: usize, messages: u64) -> Duration {
    let (publisher, first) = channel::<u64>(CAPACITY, policy);
    let handles: Vec<_> = (0..readers)
        .map(|_| {
            let mut s = first.clone();
            thread::spawn(move || {
                let (mut seen, mut buf) = (0, Vec::with_capacity(64));
                while seen < messages {
                    let step = if batch {
                        buf.clear();
                        s.recv_batch(&mut buf, 64).map(|n| n as u64)
                    } else {
                        s.recv().map(|_| 1)
                    };
                    match step {
                        Ok(n) | Err(RecvError::Lagged(n)) => seen += n,
                        Err(RecvError::Closed) => break,
                    }
                }
                seen
            })
        })
        .collect();
    drop(first);
    let start = Instant::now();
    run_writers(publisher, writers, messages, |p, i| p.send(i).unwrap());
    join_all(handles, messages);
    start.elapsed()
}

/// `bus`: one writer, back-pressure; readers are added before the first send.
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
    join_all(handles, messages);
    start.elapsed()
}

/// `tokio::sync::broadcast` from plain threads.
fn tokio_broadcast(writers: usize, readers: usize, messages: u64) -> Duration {
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
    run_writers(tx, writers, messages, |tx, i| {
        tx.send(i).unwrap();
    });
    join_all(handles, messages);
    start.elapsed()
}

/// `multiqueue2::broadcast_queue`: back-pressure; a full queue makes `try_send` fail, so
/// writers retry (yielding, as its docs suggest for a blocking send).
fn multiqueue(writers: usize, readers: usize, messages: u64) -> Duration {
    let (tx, rx) = multiqueue2::broadcast_queue::<u64>(CAPACITY as u64);
    let handles: Vec<_> = (0..readers)
        .map(|_| {
            let stream = rx.add_stream();
            thread::spawn(move || {
                let mut seen = 0;
                while seen < messages && stream.recv().is_ok() {
                    seen += 1;
                }
                seen
            })
        })
        .collect();
    rx.unsubscribe();
    let start = Instant::now();
    run_writers(tx, writers, messages, |tx, i| {
        let mut value = i;
        while let Err(std::sync::mpsc::TrySendError::Full(v)) = tx.try_send(value) {
            value = v;
            thread::yield_now();
        }
    });
    join_all(handles, messages);
    start.elapsed()
}

/// The naive fan-out: one bounded crossbeam channel per reader; each writer sends a copy to
/// every channel.
fn crossbeam_fanout(writers: usize, readers: usize, messages: u64) -> Duration {
    let (txs, handles): (Vec<_>, Vec<_>) = (0..readers)
        .map(|_| {
            let (tx, rx) = crossbeam_channel::bounded::<u64>(CAPACITY);
            let handle = thread::spawn(move || rx.iter().take(messages as usize).count() as u64);
            (tx, handle)
        })
        .unzip();
    let start = Instant::now();
    run_writers(txs, writers, messages, |txs, i| {
        txs.iter().for_each(|tx| tx.send(i).unwrap())
    });
    join_all(handles, messages);
    start.elapsed()
}

/// One throughput scenario: `writers` -> `readers`, every implementation.
fn throughput(c: &mut Criterion, writers: usize, readers: usize) {
    let mut g = c.benchmark_group(format!("bcast/{writers}w{readers}r"));
    g.throughput(Throughput::Elements(1));
    let t = format!("{}t", writers + readers);
    let (w, r) = (writers, readers);
    g.bench_function(BenchmarkId::new("gearset", &t), |b| {
        b.iter_custom(|n| gearset(Policy::Backpressure, false, w, r, n))
    });
    g.bench_function(BenchmarkId::new("gearset-batch", &t), |b| {
        b.iter_custom(|n| gearset(Policy::Backpressure, true, w, r, n))
    });
    g.bench_function(BenchmarkId::new("gearset-overwrite", &t), |b| {
        b.iter_custom(|n| gearset(Policy::Overwrite, false, w, r, n))
    });
    if writers == 1 {
        g.bench_function(BenchmarkId::new("bus", &t), |b| {
            b.iter_custom(|n| bus(r, n))
        });
    }
    g.bench_function(BenchmarkId::new("tokio", &t), |b| {
        b.iter_custom(|n| tokio_broadcast(w, r, n))
    });
    g.bench_function(BenchmarkId::new("multiqueue2", &t), |b| {
        b.iter_custom(|n| multiqueue(w, r, n))
    });
    g.bench_function(BenchmarkId::new("crossbeam", &t), |b| {
        b.iter_custom(|n| crossbeam_fanout(w, r, n))
    });
    g.finish();
}

fn fanout(c: &mut Criterion) {
    bench_floor(c);
    throughput(c, 1, 2);
    throughput(c, 1, 4);
    throughput(c, 2, 2);
    roundtrip(c);
}

/// Times `iters` round trips: `there` sends turn `i` and `back` answers it on the partner
/// thread; each closure pair is one implementation's two channels.
fn round_trips<P>(iters: u64, mut there: impl FnMut(u64) -> u64, partner: P) -> Duration
where
    P: FnOnce(u64) + Send + 'static,
{
    let handle = thread::spawn(move || partner(iters));
    let start = Instant::now();
    for i in 0..iters {
        assert_eq!(there(i), i, "the answer to turn {i}");
    }
    let took = start.elapsed();
    handle.join().unwrap();
    took
}

fn roundtrip(c: &mut Criterion) {
    let mut g = c.benchmark_group("bcast/roundtrip_1w1r");
    g.bench_function(BenchmarkId::new("gearset", "2t"), |b| {
        b.iter_custom(|n| {
            let (ping, mut ping_rx) = channel::<u64>(CAPACITY, Policy::Backpressure);
            let (pong, mut pong_rx) = channel::<u64>(CAPACITY, Policy::Backpressure);
            let there = move |i| {
                ping.send(i).unwrap();
                pong_rx.recv().unwrap()
            };
            round_trips(n, there, move |n| {
                (0..n).for_each(|_| pong.send(ping_rx.recv().unwrap()).unwrap())
            })
        })
    });
    g.bench_function(BenchmarkId::new("bus", "2t"), |b| {
        b.iter_custom(|n| {
            let (mut ping, mut pong) = (bus::Bus::new(CAPACITY), bus::Bus::new(CAPACITY));
            let (mut ping_rx, mut pong_rx) = (ping.add_rx(), pong.add_rx());
            let there = move |i| {
                ping.broadcast(i);
                pong_rx.recv().unwrap()
            };
            round_trips(n, there, move |n| {
                (0..n).for_each(|_| pong.broadcast(ping_rx.recv().unwrap()))
            })
        })
    });
    g.bench_function(BenchmarkId::new("tokio", "2t"), |b| {
        b.iter_custom(|n| {
            use tokio::sync::broadcast;
            let ((ping, mut ping_rx), (pong, mut pong_rx)) =
                (broadcast::channel(CAPACITY), broadcast::channel(CAPACITY));
            let there = move |i| {
                ping.send(i).unwrap();
                pong_rx.blocking_recv().unwrap()
            };
            round_trips(n, there, move |n| {
                (0..n).for_each(|_| {
                    pong.send(ping_rx.blocking_recv().unwrap()).unwrap();
                })
            })
        })
    });
    g.bench_function(BenchmarkId::new("multiqueue2", "2t"), |b| {
        b.iter_custom(|n| {
            let (ping, ping_rx) = multiqueue2::broadcast_queue::<u64>(CAPACITY as u64);
            let (pong, pong_rx) = multiqueue2::broadcast_queue::<u64>(CAPACITY as u64);
            let there = move |i| {
                ping.try_send(i).unwrap();
                pong_rx.recv().unwrap()
            };
            round_trips(n, there, move |n| {
                (0..n).for_each(|_| pong.try_send(ping_rx.recv().unwrap()).unwrap())
            })
        })
    });
    g.bench_function(BenchmarkId::new("crossbeam", "2t"), |b| {
        b.iter_custom(|n| {
            let (ping, ping_rx) = crossbeam_channel::bounded::<u64>(CAPACITY);
            let (pong, pong_rx) = crossbeam_channel::bounded::<u64>(CAPACITY);
            let there = move |i| {
                ping.send(i).unwrap();
                pong_rx.recv().unwrap()
            };
            round_trips(n, there, move |n| {
                (0..n).for_each(|_| pong.send(ping_rx.recv().unwrap()).unwrap())
            })
        })
    });
    g.finish();
}

// ------------------------------- Idle CPU --------------------------------

/// Nanoseconds the calling thread has spent on a CPU (`/proc/thread-self/schedstat`, Linux).
fn thread_cpu_ns() -> Option<u64> {
    let stat = std::fs::read_to_string("/proc/thread-self/schedstat").ok()?;
    stat.split_whitespace().next()?.parse().ok()
}

/// CPU time a reader uses while blocked for `IDLE`: `block` runs on the reader thread and
/// returns once `wake` (run on this thread after `IDLE`) has sent.
fn idle_cpu(block: impl FnOnce() + Send + 'static, wake: impl FnOnce()) -> Option<Duration> {
    const IDLE: Duration = Duration::from_secs(1);
    let reader = thread::spawn(move || {
        let before = thread_cpu_ns()?;
        block();
        Some(thread_cpu_ns()? - before)
    });
    thread::sleep(IDLE);
    wake();
    reader.join().unwrap().map(Duration::from_nanos)
}

/// Prints the idle CPU of a blocked reader of each implementation.
fn report_idle_cpu() {
    let (publisher, mut s) = channel::<u64>(CAPACITY, Policy::Backpressure);
    let gearset = idle_cpu(
        move || assert_eq!(s.recv().ok(), Some(1)),
        || publisher.send(1).unwrap(),
    );
    let mut bus = bus::Bus::<u64>::new(CAPACITY);
    let mut rx = bus.add_rx();
    let bus = idle_cpu(
        move || assert_eq!(rx.recv().ok(), Some(1)),
        || bus.broadcast(1),
    );
    let (tx, mut rx) = tokio::sync::broadcast::channel::<u64>(CAPACITY);
    let tokio = idle_cpu(
        move || assert_eq!(rx.blocking_recv().ok(), Some(1)),
        || {
            tx.send(1).unwrap();
        },
    );
    let (tx, rx) = multiqueue2::broadcast_queue::<u64>(CAPACITY as u64);
    let multiqueue = idle_cpu(
        move || assert_eq!(rx.recv().ok(), Some(1)),
        || tx.try_send(1).unwrap(),
    );
    let (tx, rx) = crossbeam_channel::bounded::<u64>(CAPACITY);
    let crossbeam = idle_cpu(
        move || assert_eq!(rx.recv().ok(), Some(1)),
        || tx.send(1).unwrap(),
    );
    println!("bcast/idle_cpu: CPU time of a reader blocked for 1 s (thread schedstat):");
    for (name, took) in [
        ("gearset (Phased)", gearset),
        ("bus", bus),
        ("tokio", tokio),
        ("multiqueue2", multiqueue),
        ("crossbeam", crossbeam),
    ] {
        match took {
            Some(t) => println!("  {name:<17} {:>10.3} ms", t.as_secs_f64() * 1e3),
            None => println!("  {name:<17} (no /proc/thread-self/schedstat here)"),
        }
    }
}

fn main() {
    // Only under `cargo bench` (criterion's own test mode runs each bench once and skips this).
    if std::env::args().any(|a| a == "--bench") {
        report_idle_cpu();
    }
    let mut c = config().configure_from_args();
    fanout(&mut c);
    c.final_summary();
}
