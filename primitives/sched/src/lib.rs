//! A work-stealing scheduler built from the gearset primitives: fork-join with an
//! allocation-free join, BSP supersteps, dataflow frames, and idle workers that sleep.
//!
//! Progress and allocation: **blocking** (idle workers sleep on a `gearset_sync::EventCount`;
//! the queue tree of `gearset-hqueue` uses short locks). A [`Context::join`] that finds no
//! idle worker runs both closures inline with no allocation and no atomic read-modify-write;
//! one that exposes its second closure keeps it on the stack. `spawn`, `Scope::spawn` and
//! `install` allocate one box per job. In dataflow mode each node job is one box, and each
//! frame a node runs allocates the vector of its inputs.
//!
//! # Examples
//!
//! Fork-join: `join`, `scope`, `par_for`.
//!
//! ```
//! use gearset_sched::{Context, Pool};
//!
//! fn fib(cx: &mut Context<'_>, n: u64) -> u64 {
//!     if n < 12 {
//!         return (1..=n).fold((0, 1), |(a, b), _| (b, a + b)).0; // sequential cutoff
//!     }
//!     let (a, b) = cx.join(|cx| fib(cx, n - 1), |cx| fib(cx, n - 2));
//!     a + b
//! }
//!
//! let pool = Pool::new(2);
//! assert_eq!(pool.install(|cx| fib(cx, 25)), 75_025);
//!
//! let mut squares = vec![0u64; 8];
//! pool.scope(|s, _| {
//!     for (i, x) in squares.iter_mut().enumerate() {
//!         s.spawn(move |_| *x = (i * i) as u64);
//!     }
//! });
//! assert_eq!(squares[7], 49);
//! ```
//!
//! Detached jobs, and a look at the pool:
//!
//! ```
//! let pool = gearset_sched::Pool::new(2);
//! let handle = pool.spawn(|cx| cx.index() < 2);
//! assert!(handle.join().unwrap());
//! pool.wait_idle();
//! println!("{:?}", pool.stats());
//! ```
//!
//! BSP mode, on `gearset-starbarrier` (see [`Pool::supersteps`]):
//!
//! ```
//! let pool = gearset_sched::Pool::new(2);
//! let sums = pool.supersteps(0u64, |w: &mut gearset_sched::Participant<u64, u64>| {
//!     let me = w.id() as u64;
//!     w.send(1 - w.id(), me + 1).unwrap();
//!     w.sync().unwrap();
//!     w.serial(|total| *total += me); // worker (superstep % 2) holds the serial section
//!     w.messages().map(|(_, m)| m).sum::<u64>()
//! })?;
//! assert_eq!(sums, vec![2, 1]);
//! # Ok::<(), gearset_starbarrier::BarrierError>(())
//! ```
//!
//! Dataflow mode: numbered frames through a graph of nodes run as pool jobs (see
//! [`dataflow`]); an error in a node reaches the sink as that frame's [`NodeError`].
//!
//! ```
//! let pool = gearset_sched::Pool::new(2);
//! let mut graph = pool.dataflow::<u64>();
//! let source = graph.source();
//! let half = graph.try_node(source, |x| if x % 2 == 0 { Ok(x / 2) } else { Err("odd".into()) })?;
//! let plus = graph.node(source, |x| x + 1)?;
//! let both = graph.gather(&[half, plus], |xs| xs[0] * xs[1])?;
//! let mut flow = graph.build(both, 4)?;
//! let out = flow.run([2, 3, 4]);
//! assert_eq!((&out[0], &out[2]), (&Ok(3), &Ok(10)));
//! assert_eq!(out[1].as_ref().unwrap_err().node, half);
//! # Ok::<(), gearset_sched::GraphError>(())
//! ```
//!
//! A pool on a synthetic two-socket topology, confined to one socket's NUMA node:
//!
//! ```
//! use gearset_hqueue::{LevelKind, Topology};
//! let pool = gearset_sched::Pool::builder()
//!     .topology(Topology::synthetic("numa:2 l3:1 core:2")?)
//!     .confine(LevelKind::Numa, 0)
//!     .build()?;
//! assert_eq!(pool.workers(), 2);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! # Trade-offs
//!
//! - **Demand-driven splitting.** `join` exposes work only when a worker is idle (two relaxed
//!   loads decide). Fine-grained recursion costs about a plain call while every worker is
//!   busy; but a worker in a long stretch without joins cannot share work then (the limit
//!   chili/Spice have too). Give long loops a `par_for` grain.
//! - **Waiting joins help, and spin.** A joiner whose second closure was stolen runs other
//!   jobs while it waits and otherwise spins with backoff (it does not sleep).
//! - **Locks in the queue tree.** Exposed jobs, spawns and steals go through
//!   `gearset-hqueue`'s short per-queue locks, plus one read-modify-write of the pool's
//!   `counts` word per push and per pop.
//! - **No thread-locals.** Jobs receive a [`Context`]; there is no global `join`. This keeps
//!   `join` free of a TLS lookup and lets loom and shuttle (which run threads as coroutines
//!   on one OS thread) check the scheduler.
//! - **Dataflow packets are cloned** out of the rings (`T: Clone`), and one packet type `T`
//!   serves a whole graph; frames in flight are bounded by the flow's window.
//!
//! # How it works
//!
//! One worker per leaf of a [`gearset_hqueue::Topology`] (real, from sysfs, or synthetic), each
//! with the leaf's `gearset_hqueue::Worker`; outside pushes go through the injector (the root).
//! A worker searches its leaf, then climbs the tree nearest first. The sleep protocol is the
//! event-count one: announce (`prepare_wait`), re-check every queue (one load of the `counts`
//! word), then sleep; pushers notify after announcing work. It is specified in
//! `tla/sched/Sched.tla` (invariants `NoLostWakeup`, `QuiescenceIsReal`, `JoinedMeansDone`,
//! liveness `AllJoined`), whose README maps each action to the code; recorded shuttle runs are
//! checked against it (`models/tests/conformance_sched.rs`). `docs/design/sched.md` has the
//! design and the ordering table.
//!
//! References: Blumofe and Leiserson, "Scheduling multithreaded computations by work stealing"
//! (JACM 1999); rayon-core's `join` and sleep (RFC 5); Tzannes, Caragea, Barua, Vishkin, "Lazy
//! binary-splitting" (PPoPP 2010); Vyukov's event count.
//!
//! # Feature flags
//!
//! None.
#![deny(unsafe_op_in_unsafe_fn, missing_docs)]
#![warn(missing_debug_implementations, unreachable_pub, rust_2018_idioms)]
#![warn(clippy::undocumented_unsafe_blocks)]

mod bsp;
pub mod dataflow;
mod expose;
mod job;
mod join;
mod pool;
mod registry;
#[cfg(gearset_trace)]
#[doc(hidden)]
pub mod replay;
mod scope;
mod stats;
mod worker;

pub use bsp::Participant;
pub use dataflow::{Flow, Full, Graph, GraphError, NodeError, NodeId};
pub use pool::{BuildError, Builder, JoinHandle, Pool};
pub use scope::Scope;
pub use stats::{Stats, WorkerStats};
pub use worker::Context;
