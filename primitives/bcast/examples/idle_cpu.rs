//! How much CPU a reader burns while it waits for a message that comes only after a second,
//! with the default `Phased` strategy (spin, yield, then park) and with `BusySpin`.
//!
//! Linux only (reads the reader thread's own `/proc/thread-self/schedstat`, nanoseconds on a
//! CPU). Run: `cargo run --release -p gearset-bcast --example idle_cpu`. The benchmark
//! `benches/benches/bcast_fanout.rs` prints the same measurement for the competitors.

use std::time::Duration;

use gearset_bcast::{Policy, channel_with_wait};
use gearset_sync::{
    thread,
    wait::{BusySpin, Phased, WaitStrategy},
};

/// Nanoseconds this thread has spent on a CPU.
fn thread_cpu_ns() -> Option<u64> {
    let stat = std::fs::read_to_string("/proc/thread-self/schedstat").ok()?;
    stat.split_whitespace().next()?.parse().ok()
}

/// Blocks a reader for `idle`, then sends; returns the reader's CPU time while blocked.
fn blocked_reader_cpu<W: WaitStrategy + 'static>(
    wait: fn() -> W,
    idle: Duration,
) -> Option<Duration> {
    let (publisher, mut reader) =
        channel_with_wait::<u64, W>(8, Policy::Backpressure, wait(), wait());
    let handle = thread::spawn(move || {
        let before = thread_cpu_ns()?;
        reader.recv().ok()?;
        Some(Duration::from_nanos(thread_cpu_ns()? - before))
    });
    std::thread::sleep(idle);
    publisher.send(1).unwrap();
    handle.join().unwrap()
}

fn main() {
    let idle = Duration::from_secs(1);
    match (
        blocked_reader_cpu(Phased::new, idle),
        blocked_reader_cpu(BusySpin::new, idle),
    ) {
        (Some(phased), Some(spin)) => {
            println!("CPU time used by a reader blocked for {idle:?}:");
            println!("  Phased (default): {phased:?}");
            println!("  BusySpin:         {spin:?} (a whole core, less what other threads took)");
        }
        _ => println!("/proc/thread-self/schedstat is not available on this system"),
    }
}
