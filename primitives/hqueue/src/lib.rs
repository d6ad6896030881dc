//! Work queues shaped like the machine's memory hierarchy (core, L2, L3, NUMA node, machine),
//! with frame-number priority, testable on any machine through synthetic topologies.
//!
//! Progress and allocation: the owner's push and pop on its leaf and every steal from a leaf
//! are **lock-free** (one compare-and-swap claims each take; a thief waits only while another
//! thief copies a batch out of the same leaf, at most `max_batch` moves). The shared levels
//! (L2, L3, NUMA node, machine) are frame-bucketed queues under a `gearset_sync::Mutex`,
//! touched only by spills, injections, priority takes and climbs; critical sections are
//! short and never call user code. A leaf's ring is allocated when the tree is built; pushes
//! into a shared level may allocate (a new frame's bucket); popping does not allocate.
//!
//! # Examples
//!
//! A synthetic 2-socket machine on any box, four worker threads, items injected from outside:
//!
//! ```
//! use gearset_hqueue::{Config, Topology};
//! use gearset_sync::{Arc, atomic::{AtomicUsize, Ordering::{AcqRel, Acquire}}, thread};
//!
//! let topology = Topology::synthetic("numa:2 l3:1 core:2 pu:2")?;
//! println!("{topology}");
//! let (injector, workers) = gearset_hqueue::new::<u64>(topology, Config::default());
//! for i in 0..1000 {
//!     injector.push(i / 100, i); // frame = i / 100: lower frames first
//! }
//! let remaining = Arc::new(AtomicUsize::new(1000));
//! let threads: Vec<_> = workers
//!     .into_iter()
//!     .map(|mut worker| {
//!         let remaining = Arc::clone(&remaining);
//!         thread::spawn(move || {
//!             let _ = worker.pin(); // Err(NotThisMachine): the topology is synthetic
//!             let mut sum = 0;
//!             // AcqRel: counts the item taken; a plain counter, nothing else to publish.
//!             while remaining.load(Acquire) > 0 {
//!                 match worker.pop() {
//!                     Some((_frame, item)) => {
//!                         sum += item;
//!                         remaining.fetch_sub(1, AcqRel);
//!                     }
//!                     None => thread::yield_now(),
//!                 }
//!             }
//!             sum
//!         })
//!     })
//!     .collect();
//! let total: u64 = threads.into_iter().map(|t| t.join().unwrap()).sum();
//! assert_eq!(total, (0..1000).sum::<u64>());
//! # Ok::<(), gearset_hqueue::ParseError>(())
//! ```
//!
//! # Trade-offs
//!
//! - **Locality before priority, within limits.** A worker pops its own leaf while it has
//!   items, except that a pop first takes one item from a shared queue *on its path to the
//!   root* (L3, NUMA node, machine) when that queue's lowest frame is below the leaf's (the
//!   priority check, a few relaxed loads; an empty leaf climbs nearest first instead). So the
//!   rank error of a pop (items in the tree with a lower frame) is 0 within one queue, and
//!   counts lower-frame items in *other leaves' subtrees* (and, for a climb, in queues
//!   farther than the one it took from); no bound independent of the load exists without a
//!   global scan. `tests/rank_error.rs` measures it on 8 simulated workers: mean 1.6, max 115
//!   on `l3:2 core:4` (mean 141 with the check off); 0 on one core.
//! - **A leaf holds one frame at a time.** The leaf is a bounded lock-free ring (tokio's
//!   local queue: a `{ steal, real }` head claimed by compare-and-swap, an owner-written
//!   tail) whose items all share one frame, like an OBIM thread's chunk. A push of a higher
//!   frame goes straight to the nearest shared queue; a lower frame moves the ring's items up
//!   and takes the ring. Workloads whose frames advance pay nothing for priority; workloads
//!   that interleave many frames on one worker push most items into a locked shared queue.
//!   Within a frame the owner pops oldest first (FIFO), not LIFO as crossbeam's `Worker`.
//!   Measured (`benches/benches/hqueue_steal.rs`, a shared 2-vCPU VM, noisy): owner push +
//!   pop about 0.8× crossbeam-deque's cost (see the README for the full table).
//! - **Length hints.** Climbing workers skip queues whose length hint reads 0 without locking
//!   them. The hint can lag, so `pop` may return `None` while a concurrent push is landing;
//!   callers that need "all work done" count their items (as the tests do).
//! - Frames are `u64`; a queue holding many distinct frames pays O(frames) to insert a new
//!   middle frame.
//!
//! # How it works
//!
//! [`Topology`] is a tree (machine → package → NUMA node → L3 → L2 → core → PU) read from
//! Linux sysfs, parsed from hwloc's synthetic syntax, or flat. The queue tree has one queue
//! per leaf (core) and per shared level with two or more children (PaRSEC's LHQ scheduler
//! has the same shape: one buffer per hwloc level, overflow spilling to the parent).
//!
//! - **push**: onto the leaf ring when it is empty or holds the item's frame; a full ring
//!   spills its oldest half to the nearest ancestor queue with room (tokio moves half its
//!   local queue to the global queue the same way); a higher frame goes up, a lower frame
//!   sends the ring's items up and takes the ring.
//! - **pop**: if the leaf is not empty, one item from the ancestor queue holding the lowest
//!   frame when that is below the leaf's (the priority check), else the leaf's oldest item;
//!   when the leaf is empty the worker
//!   *climbs*: for each ancestor `A`, nearest first, it searches `A`'s queue and then every
//!   queue whose nearest common ancestor with the leaf is `A` (siblings under the same L2,
//!   then L3, then NUMA node, then machine), and takes half the first non-empty one's lowest
//!   frame (at most `max_batch`, crossbeam's 32) in one claim, so it does not climb again at
//!   once. With [`Config::numa_patience`] (8 by default) it searches other NUMA nodes'
//!   queues only after that many failed climbs.
//! - **steal**: a thief claims the oldest items of a leaf ring with one compare-and-swap of
//!   its head (`real` moves first, `steal` follows once the copy is done, so the owner never
//!   overwrites a slot being read).
//! - **frames**: each shared queue buckets items by frame number (Galois's OBIM: one bucket
//!   per integer priority) and always takes from the lowest bucket; a leaf ring holds one
//!   frame.
//!
//! Every move is counted by distance in the worker's [`Stats`]. The protocol is specified in
//! `tla/hqueue/HQueue.tla` (every item popped exactly once, nearest-first climbing, frame
//! order within a queue) and, for leaves two owners share, at the level of ring slots in
//! `tla/hqueue/HQueueShared.tla`; `tla/hqueue/README.md` maps their actions to these
//! functions, and `docs/design/hqueue.md` gives the design in full.
//!
//! References: PaRSEC `sched_lhq_module.c` (ICL); Nguyen, Lenharth, Pingali, "A lightweight
//! infrastructure for graph analytics" (SOSP 2013, OBIM); Chase and Lev, "Dynamic circular
//! work-stealing deque" (SPAA 2005); tokio's local run queue
//! (`tokio/src/runtime/scheduler/multi_thread/queue.rs`), whose two-phase head the leaf ring
//! follows; Olivier et al., "Scheduling task parallelism on
//! multi-socket multicore systems" (ROSS 2011).
//!
//! # Feature flags
//!
//! - `hwloc` (off by default): `Topology::from_hwloc`, discovery through hwloc with the
//!   `hwlocality` crate over the system's libhwloc 2 (Debian: `libhwloc-dev`, `libudev-dev`,
//!   `pkg-config`), and the `Source::Hwloc` variant. Pinning accepts such a topology.
#![deny(unsafe_op_in_unsafe_fn, missing_docs)]
#![warn(missing_debug_implementations, unreachable_pub, rust_2018_idioms)]
#![warn(clippy::undocumented_unsafe_blocks)]

mod error;
mod frames;
mod handles;
#[cfg(feature = "hwloc")]
mod hwloc;
mod leaf;
mod pin;
mod stats;
mod synthetic;
mod sysfs;
mod topology;
mod tree;
mod worker;

pub use error::{ParseError, ParseErrorKind, PinError};
pub use frames::Frame;
pub use handles::{Config, Injector, Placement, Stealer, new};
pub use pin::{current_affinity, pin_current_thread};
pub use stats::{LevelStats, Stats};
pub use topology::{Distance, LevelKind, MAX_SYNTHETIC_PUS, Source, Topology};
pub use worker::Worker;
