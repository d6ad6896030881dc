//! atomic-bcast: a many-writer, many-reader broadcast of sequence-stamped slots where every
//! reader sees every message or is told exactly what it missed.
//!
//! Writers claim dense global sequence numbers; every reader owns a cursor over that sequence
//! and receives every message from its starting point on, in order. What happens to a reader
//! that falls a full ring behind is chosen per channel ([`Policy`]):
//!
//! - [`Policy::Backpressure`]: writers wait for the slowest live reader. Nothing is lost.
//! - [`Policy::Overwrite`]: writers never wait for readers. A reader that fell behind gets
//!   [`RecvError::Lagged(n)`](RecvError::Lagged) with the exact number of messages it lost and
//!   resumes at the oldest retained one.
//!
//! **Progress and allocation.** Blocking, not lock-free. `channel` allocates the ring once
//! (capacity rounded up to a power of two); `subscribe` allocates one cursor (and may grow the
//! registry). Sending and receiving allocate nothing themselves (apart from `T::clone`; a thread
//! that parks may grow the event count's sleeper queue). A send is one `fetch_add`, one slot
//! write and one stamp store, then one `SeqCst` fence and load to wake blocked readers; it waits
//! only (a) in Backpressure mode for the slowest reader, (b) for the writer that claimed the same
//! slot one lap earlier, and (c) in Overwrite mode for clones already under way in that slot. A
//! receive is one stamp load, a clone and a cursor store (Overwrite: plus two RMWs on the slot's
//! lock word; Backpressure: plus one fence and load to wake blocked writers). Blocking goes
//! through a [`gearset_sync::wait`] strategy (default [`Phased`]: spin, yield, then park, so a
//! blocked reader uses no CPU once parked).
//!
//! # Examples
//!
//! The four communication patterns of the original notes are one function each in
//! `examples/patterns.rs` (1-1: a pipeline hand-off; 1-*: one writer, several readers, each
//! with its own cursor; *-1: several writers merged into one order for one reader; *-*: every
//! reader sees the same global order) and are tested in both policies in `tests/patterns.rs`.
//! Here, *-*:
//!
//! ```
//! use gearset_bcast::{Policy, RecvError, channel};
//! use std::thread;
//!
//! // *-*: two writers, two readers; every reader sees all four messages in one global order.
//! let (publisher, mut reader_a) = channel::<u32>(8, Policy::Backpressure);
//! let mut reader_b = reader_a.clone();
//! let writers: Vec<_> = (0..2)
//!     .map(|w| {
//!         let publisher = publisher.clone();
//!         thread::spawn(move || {
//!             for i in 0..2 {
//!                 publisher.send(w * 10 + i).unwrap();
//!             }
//!         })
//!     })
//!     .collect();
//! drop(publisher);
//! for w in writers {
//!     w.join().unwrap();
//! }
//! let mut a = Vec::new();
//! while let Ok(v) = reader_a.recv() {
//!     a.push(v);
//! }
//! let mut b = Vec::new();
//! while let Ok(v) = reader_b.recv() {
//!     b.push(v);
//! }
//! assert_eq!(a, b); // same global order
//! assert_eq!(a.len(), 4);
//! assert_eq!(reader_a.recv(), Err(RecvError::Closed));
//! ```
//!
//! Overwrite mode with a reader that fell behind:
//!
//! ```
//! use gearset_bcast::{Policy, TryRecvError, channel};
//!
//! let (publisher, mut slow) = channel(4, Policy::Overwrite);
//! for i in 0..10 {
//!     publisher.send(i).unwrap();
//! }
//! assert_eq!(slow.try_recv(), Err(TryRecvError::Lagged(6))); // 0..6 are gone
//! assert_eq!(slow.try_recv(), Ok(6));
//! ```
//!
//! # Trade-offs
//!
//! - **Payloads.** Both modes accept `T: Clone + Send + Sync`; every reader receives a clone.
//!   *Backpressure* readers clone without any lock: a writer never touches a slot that a live
//!   reader has not consumed (the gate), so a clone can never race a write. *Overwrite*
//!   readers clone under the slot's read lock: a writer lapping them sets the slot's writer bit
//!   and waits for clones already under way (new readers back off), so a clone never sees a
//!   half-written value either. Neither mode reads a value that may be concurrently written, so
//!   no torn value exists, for any `T` (no seqlock-style speculative copy, which is undefined
//!   behaviour for non-atomic data in Rust).
//! - **Writers wait for writers.** Writers of the same slot one lap apart are serialized (the
//!   later waits for the earlier's stamp), as in every bounded multi-producer ring; a
//!   descheduled writer delays readers too (they wait for its sequence number). The channel is
//!   therefore blocking, not lock-free.
//! - **Backpressure waits for the slowest reader.** A reader that stops reading stops every
//!   writer until it is dropped. The gate is a cached minimum; writers rescan the registered
//!   cursors (under a mutex) only when the cached value says the ring is full.
//! - **Overwrite jumps to `tail - capacity`.** A lapped reader resumes at the oldest message
//!   that is retained at that instant; if writers keep lapping it, it reports further
//!   `Lagged(n)`s. Each `n` is exact: received messages plus reported losses are exactly the
//!   sequence from the subscription point (proptest and TLA+ `ReceivedIsExact`).
//! - **Sending with no reader fails** with [`SendError`] (as `tokio::sync::broadcast`), since
//!   the message would never be read.
//! - Slots are not cache-padded: neighbouring slots share lines, which favours batch
//!   throughput over the latency of single messages.
//!
//! # How it works
//!
//! Each slot holds a 64-bit stamp, `seq + 1` of the message it holds (LMAX Disruptor's
//! sequence, crossbeam's stamps, Concurrency Kit's `ck_pring` snoop generation). The writer of
//! `seq` waits for the slot to hold `seq - capacity`, writes, then stores the stamp with
//! `Release`; a reader at cursor `c` loads the stamp with `Acquire`: `c + 1` is its message,
//! less is "not yet", more is "lapped". The module docs of `slot.rs` and `shared.rs` give the
//! protocol and case analyses; `docs/design/bcast.md` has the ordering table; the TLA+ spec
//! `tla/bcast/AtomicBcast.tla` checks `ReceivedIsExact`, `NoOverwriteUnread` and `NoTornRead`,
//! with mutants for a missing stamp check and an 8-bit stamp (`tla/bcast/README.md`).
//!
//! The design fixes the original C atomic-bcast (Samuel Squire's `bcast-workqueue.c`):
//! relaxed publication becomes a `Release` stamp, the 8-bit generation a 64-bit stamp, and
//! readers no longer consume by overwriting the slot, so every reader sees every message.
//!
//! # Feature flags
//!
//! None.
#![deny(unsafe_op_in_unsafe_fn, missing_docs)]
#![warn(missing_debug_implementations, unreachable_pub, rust_2018_idioms)]

mod error;
mod publisher;
#[cfg(gearset_trace)]
mod replay;
mod shared;
mod slot;
mod subscriber;

use gearset_sync::{
    Arc,
    wait::{Phased, WaitStrategy},
};

pub use error::{RecvError, RecvTimeoutError, SendError, TryRecvError};
pub use publisher::Publisher;
pub use shared::{Policy, StartAt};
pub use subscriber::Subscriber;

use shared::{Shared, Start};

/// A channel of `capacity` slots (rounded up to a power of two) with the default wait strategy
/// ([`Phased`]) for both readers and writers. Returns one writer and one reader starting at
/// the first message.
///
/// # Panics
///
/// If `capacity` is 0.
///
/// ```
/// use gearset_bcast::{Policy, channel};
///
/// let (publisher, mut subscriber) = channel(16, Policy::Backpressure);
/// publisher.send(String::from("hi")).unwrap();
/// assert_eq!(subscriber.recv().unwrap(), "hi");
/// ```
pub fn channel<T: Clone>(capacity: usize, policy: Policy) -> (Publisher<T>, Subscriber<T>) {
    channel_with_wait(capacity, policy, Phased::new(), Phased::new())
}

/// As [`channel`], with explicit wait strategies: `reader_wait` for readers waiting for
/// messages, `writer_wait` for writers waiting for room (Backpressure mode only).
///
/// ```
/// use gearset_bcast::{Policy, channel_with_wait};
/// use gearset_sync::wait::BusySpin;
///
/// let (publisher, mut subscriber) =
///     channel_with_wait::<u64, _>(64, Policy::Overwrite, BusySpin::new(), BusySpin::new());
/// publisher.send(1).unwrap();
/// assert_eq!(subscriber.recv(), Ok(1));
/// ```
pub fn channel_with_wait<T: Clone, W: WaitStrategy>(
    capacity: usize,
    policy: Policy,
    reader_wait: W,
    writer_wait: W,
) -> (Publisher<T, W>, Subscriber<T, W>) {
    let shared = Arc::new(Shared::new(capacity, policy, reader_wait, writer_wait));
    let subscriber = Subscriber::register(Arc::clone(&shared), Start::New(StartAt::Next));
    (Publisher { shared }, subscriber)
}
