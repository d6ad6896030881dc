//! An LMAX-style disruptor: a ring of preallocated events, single- and multi-producer
//! sequencers, batch claims, consumer graphs (pipeline, multicast, diamond), pull-style
//! pollers, and per-consumer wait strategies, with a shutdown that never loses a published event.
//!
//! # Progress guarantee and allocation
//!
//! - Claiming is wait-free for the [`Single`] flavor when there is room: a local add, a plain
//!   store announcing the claim, a compiler fence and a plain load of the close flag (no atomic
//!   read-modify-write, no CPU fence; see "How it works" for the barrier that makes this safe).
//!   [`Multi`] claims with one `fetch_add` (lock-free; the `try_` variants use a CAS loop).
//!   A full ring makes `publish` wait (producer wait strategy); `try_publish` never waits and
//!   returns [`TryPublishError::Full`] with your closure.
//! - Publishing is wait-free: one Release store per batch for [`Single`], one per slot for
//!   [`Multi`], plus a `notify_all` per consumer strategy that can sleep (none for spinning ones).
//! - Consumers read the publisher's cursor once per batch and store their own once per batch;
//!   they block or spin according to their [`WaitStrategy`](gearset_sync::wait::WaitStrategy).
//! - Allocation happens only in the builder (slots, flags, cursors, threads). Publishing and
//!   consuming never allocate, except the sleeping path of the `Blocking`/`Phased` strategies
//!   (gearset-sync's event count grows its sleeper queue to the largest number of sleepers).
//!
//! # Examples
//!
//! Multicast: two handlers each see every event.
//!
//! ```
//! use gearset_disruptor::Disruptor;
//! use gearset_sync::wait::BusySpin;
//!
//! let mut builder = Disruptor::single_producer(1024, || 0u64).unwrap();
//! let mut sum = 0;
//! builder.handle_events_with(move |e: &u64, _seq, end_of_batch| {
//!     sum += e;
//!     if end_of_batch { /* flush */ }
//! });
//! builder.consumer(|e: &u64, seq, _| assert_eq!(*e, seq)).wait_strategy(BusySpin::new()).add();
//! let (mut producer, disruptor) = builder.build().unwrap();
//! for _ in 0..1000 {
//!     producer.publish(|event, seq| *event = seq).unwrap();
//! }
//! disruptor.shutdown().unwrap(); // drains all 1000 events in both handlers, then joins
//! ```
//!
//! Pipeline: each stage sees an event after the previous stage finished it.
//!
//! ```
//! use gearset_disruptor::Disruptor;
//!
//! let mut builder = Disruptor::single_producer(256, || [0u8; 32]).unwrap();
//! let decode = builder.handle_events_with(|e: &[u8; 32], _, _| assert_eq!(e[0], 7));
//! let risk = builder.then(&[decode], |_: &[u8; 32], _, _| {});
//! builder.then(&[risk], |_: &[u8; 32], _, _| {});
//! let (mut producer, disruptor) = builder.build().unwrap();
//! producer.publish_batch(100, |e, _| e[0] = 7).unwrap();
//! disruptor.shutdown().unwrap();
//! ```
//!
//! Diamond with several producers: `journal` and `replicate` run in parallel, `apply` after
//! both; producers are cloned onto their threads.
//!
//! ```
//! use gearset_disruptor::Disruptor;
//! use gearset_sync::{Arc, atomic::{AtomicU64, Ordering::Relaxed}, thread};
//!
//! let applied = Arc::new(AtomicU64::new(0));
//! let mut builder = Disruptor::multi_producer(64, || 0u64).unwrap();
//! let journal = builder.handle_events_with(|_: &u64, _, _| {});
//! let replicate = builder.handle_events_with(|_: &u64, _, _| {});
//! let total = Arc::clone(&applied);
//! builder.then(&[journal, replicate], move |e: &u64, _, _| { total.fetch_add(*e, Relaxed); });
//! let (producer, disruptor) = builder.build().unwrap();
//! let threads: Vec<_> = (0..3)
//!     .map(|_| {
//!         let mut producer = producer.clone();
//!         thread::spawn(move || for _ in 0..10 { producer.publish(|e, _| *e = 1).unwrap(); })
//!     })
//!     .collect();
//! drop(producer);
//! for t in threads { t.join().unwrap(); }
//! disruptor.join().unwrap(); // every producer is gone: the consumers drain and stop
//! assert_eq!(applied.load(Relaxed), 30);
//! ```
//!
//! Pull-style consumers use [`Builder::poller`] and [`EventPoller`]; handlers that release
//! their sequence before the end of a batch implement [`EventHandler`].
//!
//! # Trade-offs
//!
//! - Events live in the ring and are written in place (`publish(|event, seq| ..)`), so
//!   publishing moves nothing, but every consumer gets `&E`: `E` must be `Send + Sync`.
//! - Every consumer sees every event (no work-queue mode, like LMAX 4). Shard by
//!   `sequence % n` for work distribution.
//! - The slowest *final* consumer gates the producers: a stalled poller stalls the ring.
//! - The single producer's claim races `shutdown()` through an asymmetric barrier: on Linux
//!   the closer pays a `membarrier` system call (a few microseconds, once) so that the producer
//!   pays nothing; elsewhere, under Miri and under the model checkers both sides pay a
//!   `SeqCst` fence (one `mfence` per claim on x86; batch claims amortize it).
//! - Multi-producer availability is one `AtomicU64` per slot (LMAX's layout, not
//!   disruptor-rs's packed parity bits): publishers of neighbouring slots still share lines,
//!   but never RMW them.
//! - A handler panic halts the whole graph (consumers stop when they run out of complete
//!   events, producers get [`Closed`]); there is no exception-handler or rewind policy.
//! - A consumer that catches up with a *streaming* producer lets it get up to 16 cache lines
//!   of slots ahead before it reads on (polling every 400 ns, at most 8 times, stopping as
//!   soon as a poll sees no new event): FastForward's *temporal slipping*, so slot lines cross
//!   cores once, fully written. It trades latency inside a stream (up to 3.2 µs, and up to
//!   400 ns after a burst's last event) for throughput (1P→1C here went from 0.72 to about 1.2
//!   times the `disruptor` crate's). A batch found after a wait never slips, so a lone event
//!   is handled as soon as it is seen; [`ConsumerBuilder::slip`]`(false)` turns it off.
//! - Pinning ([`ConsumerBuilder::pin_to`]) is Linux-only; elsewhere `build` returns
//!   [`BuildError::Pin`] with [`PinError::Unsupported`].
//!
//! # How it works
//!
//! Thompson, Farley, Barker et al., *Disruptor: High performance alternative to bounded queues
//! for exchanging data between concurrent threads* (LMAX, 2011), as implemented in LMAX 4.0.
//!
//! Each participant owns one counter: the producer side a published cursor ([`Single`]) or a
//! claim counter plus per-slot flags ([`Multi`]), each consumer a cursor = "every sequence
//! below is done". Three rules make it safe, each an invariant of the TLA+ spec
//! `tla/disruptor/Disruptor.tla`:
//!
//! - **NoOverwriteUnread**: a producer writes slot `seq` only after every final consumer's
//!   cursor exceeds `seq - capacity` (Acquire loads; cached in the handle, refreshed only when
//!   the cache cannot prove room). Final consumers are downstream of all others.
//! - **NoReadUnpublished**: a consumer reads `seq` only after seeing it published (the cursor,
//!   or `available[seq & mask] == seq + 1`, Acquire), or finished by all its upstreams.
//! - **InOrderExactlyOnce**: a consumer handles `next..avail` in order and stores its cursor
//!   once per batch (or earlier, after the event whose handler asked for an early release).
//!
//! Shutdown: the closer fixes `end`, the first sequence that will never be published, with
//! an RMW on the claim counter ([`Multi`]) or the announce/barrier handshake ([`Single`]);
//! consumers stop at `end` after draining (**DrainedAtEnd**), and no claim that proceeds lies
//! past it (**NothingPastEnd**).
//!
//! | TLA+ action | code | atomic |
//! |---|---|---|
//! | `FetchAddClaim` | `Multi::claim` | `claim.fetch_add(n)` |
//! | `SPAnnounce`, `SPCheckClosed` | `Single::announce` | `claimed.store`, light barrier, `state.load` (`announce_slow` when fenced or closed) |
//! | `CheckRoomCached`, `ReadGate` | `Control::fits`, `Control::refresh` → `min_gating` | final cursors `load(Acquire)` |
//! | `WriteSlot` | `Producer::fill_and_publish` → `Ring::write` | — |
//! | `PublishFlag` / `SPPublish` | `Multi::publish` / `Single::publish` | `available[i].store(seq + 1, Release)` / `published.store(hi, Release)` |
//! | `CloseFetchOr` / `SPCloseSwap`, `SPCloseRead` | `Multi::close` / `Single::close` | `claim.fetch_or(CLOSED)` / `state.fetch_or(CLOSED)`, heavy barrier, `claimed.load` |
//! | `SetEnd` | `Control::set_end` | `end.store(Release)` |
//! | `ConsumerWait` | `Links::poll_state` → `Barrier::available` (repeated by `Slip::settle` while slipping; the last read is the action) | cursor / flags / upstream cursors `load(Acquire)` |
//! | `ReadSlot`, `ReleaseCursor` | `Processor::run`, `Links::release` | `cursor.store(hi, Release)` |
//! | `Panic`, `GiveUp` | `Progress::drop` → `Control::halt`; `Control::refresh_or_wait` | `halted.store(true, Release)` / `halted.load(Acquire)` |
//!
//! Every action in this table is also recorded under `--cfg gearset_trace` and checked
//! against the spec by `models/tests/conformance_disruptor.rs`. The full table (with the
//! invariants' Rust tests) is in `tla/disruptor/README.md`; the design notes, with every
//! atomic's ordering, are in `docs/design/disruptor.md`.
//!
//! # What queries promise under concurrency
//!
//! [`Producer::len`], [`Producer::remaining_capacity`] and [`Producer::lag`] are snapshots
//! (consumers release, other producers claim while you look): for the single producer, `len`
//! and `lag` can only drop until that producer publishes again, and a `remaining_capacity` of
//! `n` means the next `n` claims will not wait. [`Producer::is_closed`],
//! [`Disruptor::is_closed`] and [`Disruptor::is_halted`] are monotone (once `true`, always
//! `true`); [`EventPoller::has_available`] can only turn from `false` to `true` until that
//! poller polls.
//!
//! # Feature flags
//!
//! None. Model checking is selected with `--cfg gearset_loom` / `--cfg gearset_shuttle`
//! through gearset-sync, trace recording for conformance with `--cfg gearset_trace`.
#![deny(unsafe_op_in_unsafe_fn, missing_docs)]
#![warn(missing_debug_implementations, unreachable_pub, rust_2018_idioms)]

mod barrier;
mod builder;
mod consumer;
mod control;
mod disruptor;
mod error;
pub mod flavors;
mod handler;
mod pin;
mod poller;
mod producer;
mod ring;
mod shared;
mod slip;

pub use builder::{Builder, Built, ConsumerBuilder, ConsumerId};
pub use disruptor::Disruptor;
pub use error::{BuildError, Closed, ConsumerPanic, PinError, ShutdownError, TryPublishError};
pub use flavors::{Flavor, Multi, Single};
pub use handler::{EventContext, EventHandler};
pub use poller::{EventPoller, PollState};
pub use producer::Producer;
