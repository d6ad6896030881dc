//! Single steps of a send, for replaying spec behaviours against the code (the conformance
//! suite `models/tests/conformance_bcast.rs`). Only under `--cfg gearset_trace`; not part of
//! the API and outside semver.
//!
//! A spec behaviour interleaves the steps of one send with other processes' steps (a writer
//! claims a number, other steps happen, then it passes the gate and publishes). A replay on
//! one thread needs those steps separately: [`Publisher::replay_claim`] is `FetchAddTail`,
//! [`Publisher::replay_has_room`] `CheckGate`, [`Publisher::replay_advance_gate`]
//! `AdvanceGate` and [`Publisher::replay_publish`] the steps from `WaitPrevLap` to
//! `UnlockWrite` (which a single thread cannot interleave with anything, so they are absorbed
//! into one call). Each is the code `Publisher::send` runs, not a copy of it.

use gearset_sync::{
    atomic::Ordering::{Acquire, Relaxed},
    wait::WaitStrategy,
};

use crate::{Policy, Publisher};

impl<T, W: WaitStrategy> Publisher<T, W> {
    /// Claims the next sequence number, as `send` does. [TLA: FetchAddTail]
    #[doc(hidden)]
    pub fn replay_claim(&self) -> u64 {
        // Relaxed: as in `send`.
        self.shared.tail.fetch_add(1, Relaxed)
    }

    /// Whether the claimed `seq` passes the gate as it stands (no rescan). [TLA: CheckGate]
    #[doc(hidden)]
    pub fn replay_has_room(&self, seq: u64) -> bool {
        // Acquire: as in `Shared::wait_for_room`.
        seq < self.shared.gate.load(Acquire) + self.shared.capacity()
    }

    /// Rescans the readers' cursors and returns the new gate. [TLA: AdvanceGate]
    #[doc(hidden)]
    pub fn replay_advance_gate(&self) -> u64 {
        self.shared.advance_gate()
    }

    /// Writes and stamps the claimed `seq` (which must have passed the gate in Backpressure
    /// mode), then wakes readers. [TLA: WaitPrevLap .. UnlockWrite]
    #[doc(hidden)]
    pub fn replay_publish(&self, seq: u64, value: T) {
        let shared = &*self.shared;
        let locked = shared.policy == Policy::Overwrite;
        shared
            .slot(seq)
            .publish(seq, value, shared.capacity(), locked);
        shared.reader_wait.notify_all();
    }

    /// The next sequence number to claim.
    #[doc(hidden)]
    pub fn replay_tail(&self) -> u64 {
        // Relaxed: a single-threaded replay.
        self.shared.tail.load(Relaxed)
    }

    /// The gate (Backpressure; stays 0 in Overwrite mode).
    #[doc(hidden)]
    pub fn replay_gate(&self) -> u64 {
        // Relaxed: a single-threaded replay.
        self.shared.gate.load(Relaxed)
    }
}
