//! How much CPU a reader burns while it waits for a message that comes only after a second,
//! with the default `Phased` strategy (spin, yield, then park) and with `BusySpin`.
//!
//! Linux only (reads the reader thread's own `/proc/thread-self/stat`). Run:
//! `cargo run --release -p gearset-bcast --example idle_cpu`.

use std::time::Duration;

use gearset_bcast::{Policy, channel_with_wait};
use gearset_sync::{
    thread,
    wait::{BusySpin, Phased, WaitStrategy},
};

/// This thread's user + system CPU time in clock ticks (usually 10 ms each).
fn thread_cpu_ticks() -> Option<u64> {
    let stat = std::fs::read_to_string("/proc/thread-self/stat").ok()?;
    // Fields after the command name (which may contain spaces): state is the first, utime the
    // 12th and stime the 13th.
    let rest = &stat[stat.rfind(')')? + 1..];
    let fields: Vec<&str> = rest.split_whitespace().collect();
    Some(fields.get(11)?.parse::<u64>().ok()? + fields.get(12)?.parse::<u64>().ok()?)
}

/// Blocks a reader for `idle`, then sends; returns the reader's CPU ticks while blocked.
fn blocked_reader_ticks<W: WaitStrategy + 'static>(wait: fn() -> W, idle: Duration) -> Option<u64> {
    let (publisher, mut reader) =
        channel_with_wait::<u64, W>(8, Policy::Backpressure, wait(), wait());
    let handle = thread::spawn(move || {
        let before = thread_cpu_ticks()?;
        reader.recv().ok()?;
        Some(thread_cpu_ticks()? - before)
    });
    std::thread::sleep(idle);
    publisher.send(1).unwrap();
    handle.join().unwrap()
}

fn main() {
    let idle = Duration::from_secs(1);
    match (
        blocked_reader_ticks(Phased::new, idle),
        blocked_reader_ticks(BusySpin::new, idle),
    ) {
        (Some(phased), Some(spin)) => {
            println!("CPU ticks used by a reader blocked for {idle:?} (1 tick is usually 10 ms):");
            println!("  Phased (default): {phased}");
            println!("  BusySpin:         {spin} (a whole core, less what other threads took)");
        }
        _ => println!("/proc/thread-self/stat is not available on this system"),
    }
}
