//! An LMAX-style disruptor: a ring of preallocated events, single- and multi-producer
//! sequencers, batch claims, consumer graphs (pipeline, multicast, diamond), pull-style
//! pollers, and per-consumer wait strategies, with a shutdown that never loses a published event.
//!
//! # Progress guarantee and allocation
//!
//! - Claiming is wait-free for the [`Single`] flavor (a local add, a store and a fence) and
//!   lock-free for [`Multi`] (one `fetch_add`; the `try_` variants use a CAS loop) *when there
//!   is room*. A full ring makes `publish` wait (producer wait strategy); `try_publish` never
//!   waits and returns [`TryPublishError::Full`] with your closure.
//! - Publishing is wait-free (one Release store per batch for [`Single`], one per slot for
//!   [`Multi`]), plus a `notify_all` per consumer strategy that can sleep.
//! - Consumers block or spin according to their [`WaitStrategy`](gearset_sync::wait::WaitStrategy).
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
//! Pipeline and diamond graphs use [`Builder::then`] (see its docs and [`Disruptor`]'s);
//! multiple producers use [`Disruptor::multi_producer`] and clone the [`Producer`]; pull-style
//! consumers use [`Builder::poller`] and [`EventPoller`].
//!
//! # Trade-offs
//!
//! - Events live in the ring and are written in place (`publish(|event, seq| ..)`), so
//!   publishing moves nothing, but every consumer gets `&E`: `E` must be `Send + Sync`.
//! - Every consumer sees every event (no work-queue mode, like LMAX 4). Shard by
//!   `sequence % n` for work distribution.
//! - The slowest *final* consumer gates the producers: a stalled poller stalls the ring.
//! - The single-producer claim pays one `SeqCst` fence so that a claim racing `shutdown()`
//!   is either drained or refused, never published-and-dropped. Batch claims amortize it.
//! - Multi-producer availability is one `AtomicU64` per slot (LMAX's layout, not
//!   disruptor-rs's packed parity bits): publishers of neighbouring slots still share lines,
//!   but never RMW them.
//! - A handler panic halts the whole graph (consumers stop when they run out of complete
//!   events, producers get [`Closed`]); there is no exception-handler or rewind policy yet.
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
//!   once per batch.
//!
//! Shutdown: the closer fixes `end`, the first sequence that will never be published, with
//! an RMW on the claim counter ([`Multi`]) or a fence handshake ([`Single`]); consumers stop at
//! `end` after draining (**DrainedAtEnd**).
//!
//! | TLA+ action | code | atomic |
//! |---|---|---|
//! | `FetchAddClaim` | `Multi::claim` | `claim.fetch_add(n)` |
//! | `CheckRoomCached`, `ReadGate` | `Control::has_room`, `Control::min_gating` | final cursors `load(Acquire)` |
//! | `WriteSlot` | `Producer::publish*` → `Ring::write` | — |
//! | `PublishFlag` | `Multi::publish` | `available[i].store(seq + 1, Release)` |
//! | `CloseFetchOr`, `SetEnd` | `Multi::close`, `Control::set_end` | `claim.fetch_or(CLOSED)`, `end.store(Release)` |
//! | `ConsumerWait` | `Links::poll_state` → `Barrier::available` | flags / upstream cursors `load(Acquire)` |
//! | `ReadSlot`, `ReleaseCursor` | `Processor::run`, `Links::release` | `cursor.store(hi, Release)` |
//!
//! The full table (with the invariants' Rust tests) is in `tla/disruptor/README.md`; the
//! design notes, with every atomic's ordering, are in `docs/design/disruptor.md`.
//!
//! # What queries promise under concurrency
//!
//! [`Producer::len`] and [`Producer::remaining_capacity`] are snapshots (consumers release,
//! other producers claim); [`Producer::is_closed`], [`Disruptor::is_closed`] and
//! [`Disruptor::is_halted`] are monotone (once `true`, always `true`);
//! [`EventPoller::has_available`] can only turn from `false` to `true` until that poller polls.
//!
//! # Feature flags
//!
//! None. Model checking is selected with `--cfg gearset_loom` / `--cfg gearset_shuttle`
//! through gearset-sync.
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

pub use builder::{Builder, Built, ConsumerBuilder, ConsumerId};
pub use disruptor::Disruptor;
pub use error::{BuildError, Closed, ConsumerPanic, PinError, ShutdownError, TryPublishError};
pub use flavors::{Flavor, Multi, Single};
pub use handler::{EventContext, EventHandler};
pub use poller::{EventPoller, PollState};
pub use producer::Producer;
