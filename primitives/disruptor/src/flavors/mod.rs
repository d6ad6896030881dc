//! Sequencer flavors: who may claim which sequence, and how consumers learn it is published.
//!
//! | flavor            | claim                         | publish                         | consumer sees             |
//! |-------------------|-------------------------------|---------------------------------|---------------------------|
//! | [`Single`]        | a plain add on a local counter | one Release store of the cursor | the cursor                |
//! | [`Multi`]         | `fetch_add` on the claim counter | one Release store per slot flag | the flags, scanned in order |
//!
//! Both are used as the type parameter of [`Producer`](crate::Producer),
//! [`Disruptor`](crate::Disruptor) and [`EventPoller`](crate::EventPoller). The trait behind
//! them is sealed: its methods are the protocol, not an extension point.

mod multi;
mod single;

use core::fmt;

pub use multi::Multi;
pub use single::Single;

use crate::{control::Control, error::TryClaimError};

/// A sequencer flavor: [`Single`] or [`Multi`]. Sealed.
pub trait Flavor: private::Sequencer {}

impl Flavor for Single {}
impl Flavor for Multi {}

/// Producer-handle-local sequencer state.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Local {
    /// [`Single`] only: the next sequence to claim (the producer owns the counter).
    pub(crate) next: u64,
    /// `gate + capacity`, where `gate` is a lower bound of the slowest final consumer's
    /// cursor, possibly stale (LMAX's `gatingSequenceCache`, kept with the capacity added so
    /// the claim's room check is one compare). Sequences below it may be written. [TLA: gate]
    pub(crate) room_end: u64,
}

impl Local {
    /// A fresh handle's state: nothing claimed, the gate cache at 0.
    pub(crate) fn new(capacity: u64) -> Self {
        Self {
            next: 0,
            room_end: capacity,
        }
    }
}

pub(crate) mod private {
    use super::{Control, Local, TryClaimError, fmt};
    use crate::error::Closed;

    /// The sequencer protocol. See each flavor's module docs for the proof.
    ///
    /// Sealed: this module is private, so users can name neither the trait nor the
    /// crate-private types in its signatures.
    #[allow(private_interfaces)]
    pub trait Sequencer: Send + Sync + Sized + fmt::Debug + 'static {
        /// A sequencer for a ring of `capacity` (a power of two) slots.
        fn new(capacity: u64) -> Self;
        /// Claims `n` sequences, waiting for room; returns the first.
        fn claim(&self, ctl: &Control, local: &mut Local, n: u64) -> Result<u64, Closed>;
        /// Claims `n` sequences only if there is room now; returns the first.
        fn try_claim(&self, ctl: &Control, local: &mut Local, n: u64)
        -> Result<u64, TryClaimError>;
        /// Publishes the claimed range `lo..hi`.
        fn publish(&self, lo: u64, hi: u64);
        /// The first sequence at or after `next` that is not published, looking no further
        /// than `limit` (a consumer's batch bound).
        fn available(&self, next: u64, limit: u64) -> u64;
        /// Closes the ring (idempotent); the first closer computes and publishes `ctl.end`.
        fn close(&self, ctl: &Control);
        /// `true` once closed.
        fn is_closed(&self) -> bool;
        /// Sequences claimed so far (a snapshot, for the fill-level queries).
        fn claimed(&self, local: &Local) -> u64;
    }
}
