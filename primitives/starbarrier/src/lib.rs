//! A BSP barrier: supersteps, per-superstep mailboxes, a rotating serial section, split-phase
//! arrive and wait.
//!
//! Two layers:
//!
//! - [`barrier`] builds a barrier for `n` participants and returns one [`Member`] handle each.
//!   A member [`wait`](Member::wait)s (arrive, then wait for all), or splits the two with
//!   [`arrive`](Member::arrive) → [`ArrivalToken`] → [`try_wait`](Member::try_wait) /
//!   [`wait_token`](Member::wait_token) to do other work in between, and can
//!   [`leave`](Member::leave) so it stops holding the others back.
//! - [`run`] (or [`workers`] with your own threads) runs `n` threads through *supersteps*
//!   (Valiant's bulk-synchronous parallel model): in superstep `k` a [`Worker`] may
//!   [`send`](Worker::send) messages, which the receiver reads in `k+1` exactly once, and
//!   worker `k % n` holds the [`serial`](Worker::serial) section: exclusive `&mut` access to
//!   a shared state. A worker ends its superstep with [`sync`](Worker::sync), or with
//!   [`sync_with`](Worker::sync_with) to do other work while the others catch up.
//!
//! **Progress and allocation.** Arriving is one store plus the wait strategy's `notify_all`:
//! wait-free with the spinning strategies, and with the parking ones a `SeqCst` fence and a
//! load, plus a lock only while somebody sleeps. Waiting is blocking by nature, spinning,
//! yielding or parking as the chosen [`WaitStrategy`](gearset_sync::wait::WaitStrategy) says. [`barrier`] allocates once;
//! [`Worker::send`] pushes into a `Vec` whose capacity is reused from superstep to superstep,
//! so a run in steady state does not allocate.
//!
//! **Broken barrier.** A handle dropped while its thread panics *breaks* the barrier: every
//! other participant's waits return [`BarrierError::Broken`] instead of blocking forever, and
//! [`run`] re-raises the panic on its caller.
//!
//! # Examples
//!
//! A BSP program: parallel prefix sum by recursive doubling (Hillis & Steele). Worker `i`
//! holds `x[i]`; in round `r` it sends its partial sum to worker `i + 2^r` and adds what it
//! received from `i - 2^r`. After `ceil(log2 n)` supersteps worker `i` holds
//! `x[0] + ... + x[i]`. The serial section's holder records each round's total in the shared
//! state, which every worker may read from the next superstep on.
//!
//! ```
//! use gearset_starbarrier::run;
//! use gearset_sync::wait::Phased;
//!
//! let x = [3u64, 1, 4, 1, 5, 9, 2, 6];
//! let (rounds, prefix) = run(x.len(), Phased::new(), Vec::new(), |w| {
//!     let (id, n) = (w.id(), w.participants());
//!     let mut sum = x[id];
//!     let mut dist = 1;
//!     while dist < n {
//!         if id + dist < n {
//!             w.send(id + dist, sum).unwrap(); // read by `id + dist` in the next superstep
//!         }
//!         w.sync().unwrap();
//!         sum += w.messages().map(|(_, m)| m).sum::<u64>(); // at most one, from `id - dist`
//!         dist *= 2;
//!         let round = w.superstep();
//!         w.serial(|log: &mut Vec<u64>| log.push(round)); // worker `round % n` only
//!     }
//!     sum
//! })
//! .unwrap();
//! assert_eq!(prefix, vec![3, 4, 8, 9, 14, 23, 25, 31]);
//! assert_eq!(rounds, vec![1, 2, 3]); // held by workers 1, 2, 3
//! ```
//!
//! A BSP computation: each worker owns one value; in every superstep it sends its value to
//! its right neighbour and the serial-section holder appends the superstep's global sum,
//! computed from the messages of the previous superstep, to a shared log.
//!
//! ```
//! use gearset_starbarrier::run;
//! use gearset_sync::wait::Phased;
//!
//! let (log, finals) = run(4, Phased::new(), Vec::new(), |w| {
//!     let (id, n) = (w.id(), w.participants());
//!     let mut value = id as u64;
//!     for _ in 0..3 {
//!         w.send((id + 1) % n, value).unwrap();
//!         w.sync().unwrap();
//!         value = w.messages().map(|(_, m)| m).sum(); // exactly one message, from the left
//!         let step = w.superstep();
//!         w.serial(|log: &mut Vec<u64>| log.push(step));
//!     }
//!     value
//! })
//! .unwrap();
//! assert_eq!(finals, vec![1, 2, 3, 0]); // values rotated right three times
//! assert_eq!(log, vec![1, 2, 3]); // supersteps 1, 2, 3 held by workers 1, 2, 3
//! ```
//!
//! Split phase: arrive, do unrelated work, then wait.
//!
//! ```
//! use gearset_starbarrier::barrier;
//! use gearset_sync::{thread, wait::Yielding};
//!
//! let mut members = barrier(2, Yielding::new()).unwrap();
//! let mut peer = members.pop().unwrap();
//! let other = thread::spawn(move || peer.wait());
//! let token = members[0].arrive().unwrap();
//! let ingested = (0..100).sum::<u32>(); // work that does not touch the phase's data
//! assert_eq!(members[0].wait_token(token), Ok(1));
//! assert_eq!(other.join().unwrap(), Ok(1));
//! # assert_eq!(ingested, 4950);
//! ```
//!
//! # Trade-offs
//!
//! - Each waiter scans the epochs of all `n - 1` peers: `O(n)` loads per phase per member and
//!   `O(n²)` cache-line transfers per phase in all. That is the cheapest shape for pairs and
//!   small groups (the original starbarrier's thread pairs); for dozens of threads a
//!   dissemination barrier (`O(log n)` rounds) should win. It is measured next to this one in
//!   `benches/benches/starbarrier_round.rs` (see "How it works"), not built into the crate.
//! - With [`BusySpin`](gearset_sync::wait::BusySpin) every waiter burns a core; with more
//!   threads than cores use [`Phased`](gearset_sync::wait::Phased) or
//!   [`Blocking`](gearset_sync::wait::Blocking). Those cost a `SeqCst` fence per arrival
//!   (the event count's `notify_all`) even when nobody sleeps.
//! - Messages a worker does not read before its next `sync` are dropped, and so are messages
//!   to a worker that leaves in the superstep they were sent in.
//! - Epochs are `u64`: 2^64 - 2 phases per barrier (centuries at a phase per nanosecond).
//!
//! # How it works
//!
//! **Arrival algorithm: per-participant monotone epochs.** Member `i` owns one cache line
//! holding `epochs[i]`, the number of phases it has arrived at. Arriving is
//! `epochs[i].store(k, Release)`: no read-modify-write, and no line written by two threads.
//! A member passes phase `k` when every other member's epoch is `>= k`, read with `Acquire`.
//! `leave` stores `u64::MAX`, which counts as arrived at every phase. This replaces the C
//! starbarrier's `== 0 || == N` counter test and its reset task (Squire, `multibarrier.c`);
//! that test passes on a stale read on ARM and POWER, while a stale *monotone* epoch only
//! makes a waiter wait longer.
//!
//! Why not a central counter (Mellor-Crummey & Scott 1991, §3.1; `hurdles`, `std`)? There
//! every arrival is a read-modify-write on one shared line, and the last arriver then writes
//! a release flag every waiter re-reads: for two threads that is at least three line
//! transfers per phase against two here (each side reads the other's line once), and a
//! central counter makes `leave` and split-phase harder (the leaver must change the
//! expected count of a phase in flight). The price is the `O(n)` scan above.
//! `benches/benches/starbarrier_round.rs` measures this barrier against a sense-reversing
//! central barrier, a dissemination barrier (Hensgen, Finkel & Manber 1988; one monotone
//! epoch per participant and round, `ceil(log2 n)` rounds), `std::sync::Barrier` and
//! `hurdles`, for N = 2, 4 and 8, in one criterion run. On the only box available (2 vCPUs
//! shared with other builds) N = 4 and 8 are oversubscribed and every spin-only barrier,
//! the ping-pong floor included, measured scheduler quanta, not cache-line transfers; with
//! spin-then-yield waits, dissemination won once at N = 4 and lost at N = 8 in every run
//! that got there (README).
//! So the choice rests on the transfer count (two line transfers per phase for a pair, the
//! floor), on `leave` and split phase being one store each (a dissemination barrier's
//! partners are fixed per round, so a leaver would have to keep forwarding), and on the
//! measured absence of a win for the alternatives, not on a measured win of its own.
//!
//! **TLA+ ↔ code.** Each spec action takes effect at one place in the code, where it is also
//! recorded for the conformance check (`--cfg gearset_trace`):
//!
//! | `StarBarrier.tla` action | code |
//! |---|---|
//! | `StoreEpochRelease(p)` | [`Member::arrive`]: `epochs[p].store(k, Release)` |
//! | `ArriveBroken(p)` | [`Member::arrive`] finds `broken` set |
//! | `LoadEpochAcquire(p, q)` | the waiter's scan sees `epochs[q].load(Acquire) >= k` |
//! | `PassPhase(p)` | [`Member::try_wait`] / [`Member::wait_token`] return `Ok(k)` |
//! | `LoadBrokenAcquire(p)` | the scan finds `broken` set and a peer still not arrived |
//! | `Leave(p)` | [`Member::leave`], or dropping a member without a panic |
//! | `CasBroken(p)` | dropping a member while panicking: `broken.compare_exchange` |
//! | `PushMessage(p, q)` | [`Worker::send`] |
//! | `EnterSerial(p)` / `ExitSerial(p)` | [`Worker::serial`] calls / returns from its closure |
//!
//! **Mailboxes** are indexed by superstep parity, `mail[to][from][k % 2]`, so no pointers
//! are swapped between threads (the aliasing bug of the C original's `lower`/`higher`
//! assignment cannot occur). **The serial section** belongs to worker `k % n` in superstep
//! `k`; the barrier orders its holders. The ownership table and case analysis are in the
//! `runtime` module docs.
//!
//! The protocol is specified in TLA+ in `tla/starbarrier/StarBarrier.tla` (invariants
//! `NoSkew`, `SerialExclusive`, `SerialRotates`, `DeliveredInNextStep`, `DeliveredAtMostOnce`,
//! `DeliveredAtLeastOnce`, `AllTerminate`; it refines `BarrierSpec.tla`), with a table from each
//! action to the Rust function and atomic operation it models in `tla/starbarrier/README.md`.
//!
//! # Feature flags
//!
//! None. Under `--cfg gearset_trace` every spec action above is recorded for
//! `models/tests/conformance_starbarrier.rs` (nothing is compiled in otherwise). Under
//! `--cfg gearset_loom` or `--cfg gearset_shuttle` (through `gearset-sync`) every atomic and
//! cell is the model checker's, and [`run`] is absent (no scoped threads there).
#![deny(unsafe_op_in_unsafe_fn, missing_docs)]
#![warn(missing_debug_implementations, unreachable_pub, rust_2018_idioms)]

mod barrier;
mod error;
mod runtime;

pub use barrier::{ArrivalToken, Member, barrier};
pub use error::{BarrierError, SendError, WaitError};
#[cfg(not(any(gearset_loom, gearset_shuttle)))]
pub use runtime::run;
pub use runtime::{Worker, workers};
