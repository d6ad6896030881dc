//! A reader blocked in `recv` with the default wait strategy (`Phased`: spin, yield, then park)
//! ends up asleep in the kernel, so it uses no CPU while it waits. Linux only: the thread's
//! state comes from `/proc/self/task/<tid>/stat`. The CPU time itself is measured, not
//! asserted, by `benches/benches/bcast_fanout.rs` (`bcast/idle_cpu`).
#![cfg(all(
    target_os = "linux",
    not(miri),
    not(any(gearset_loom, gearset_shuttle))
))]

use std::{fs, sync::mpsc, thread, time::Duration};

use gearset_bcast::{Policy, channel};

/// The calling thread's id, from the `/proc/thread-self` link (`<pid>/task/<tid>`).
fn own_tid() -> String {
    let link = fs::read_link("/proc/thread-self").expect("/proc/thread-self");
    let tid = link.file_name().expect("a task id");
    tid.to_string_lossy().into_owned()
}

/// The scheduler state letter of thread `tid` of this process (`R` running, `S` sleeping).
fn state_of(tid: &str) -> char {
    let stat = fs::read_to_string(format!("/proc/self/task/{tid}/stat")).expect("task stat");
    // The state is the first field after the command name, which may contain spaces.
    let rest = &stat[stat.rfind(')').expect("comm") + 1..];
    rest.trim_start().chars().next().expect("a state")
}

#[test]
fn blocked_reader_sleeps_in_the_kernel() {
    let (publisher, mut reader) = channel::<u64>(8, Policy::Backpressure);
    let (tid_tx, tid_rx) = mpsc::channel();
    let handle = thread::spawn(move || {
        tid_tx.send(own_tid()).unwrap();
        reader.recv()
    });
    let tid = tid_rx.recv().unwrap();
    // Poll until the reader sleeps: its spin and yield phases are bounded, then it parks.
    // The bound only turns a reader that never parks into a failure instead of a hang.
    let parked = (0..10_000).any(|_| {
        thread::sleep(Duration::from_millis(1));
        state_of(&tid) == 'S'
    });
    assert!(parked, "the blocked reader never went to sleep");
    publisher.send(7).unwrap();
    assert_eq!(handle.join().unwrap(), Ok(7));
}
