//! Single-producer sequencer, after LMAX's `SingleProducerSequencer`: the one producer owns the
//! claim counter, so claiming is a local add and a gating check, with no atomic RMW and no
//! fence on the hot path.
//!
//! # Protocol
//!
//! - **Claim `n`** (`lo = next`, `hi = next + n`): *announce* the claim (`claimed.store(hi)`,
//!   the light half of an asymmetric barrier, `state.load()`), then check room against the
//!   cached gate, refreshing it from the final consumers' cursors (Acquire loads) only when it
//!   does not prove room.
//! - **Publish**: `published.store(hi, Release)`: one store per batch.
//! - **Consumers**: `published.load(Acquire)` once per batch; every sequence below is readable.
//! - **Close** (shutdown or the producer's drop): `state.fetch_or(CLOSED)`, the heavy half of
//!   the barrier, `end = claimed.load()`.
//!
//! `state` holds two bits, so the claim's fast path is one load and one test for zero:
//! `CLOSED`, and `FENCED`, set for good at build time when the light barrier is a real fence
//! (no expedited `membarrier`). With `FENCED` every claim takes the slow path, which runs that
//! fence and loads `state` again: the value it decides on is always loaded after the full
//! light barrier.
//!
//! # Why a claim never races a close into a lost event
//!
//! The claim's announce and the close are a Dekker handshake. The barrier pair
//! ([`Asymmetric`]: a compiler fence against `membarrier` on Linux, two `SeqCst` fences
//! elsewhere and under the model checkers) guarantees that at least one side sees the other's
//! store:
//! 1. the closer sees `claimed >= hi`: `end >= hi` and the consumers drain the claim; the
//!    producer may or may not see `closed`, and if it does, it waits for `end`, finds `lo < end`
//!    and proceeds;
//! 2. the closer reads a `claimed <= lo`: then the producer sees `closed`, waits for `end`,
//!    gets `lo >= end` and returns `Closed` without writing.
//!
//! A claim is always all-or-nothing because `end` is a value of `claimed`, and `claimed` only
//! takes claim boundaries. The closer pays one system call (about a microsecond per running
//! CPU of the process); the producer pays a plain store and a plain load per claim.

use core::fmt;

use gearset_sync::{
    CachePadded,
    atomic::{
        AtomicU8, AtomicU64,
        Ordering::{Acquire, Relaxed, Release},
    },
};

use super::{Local, private::Sequencer};
use crate::{
    barrier::Asymmetric,
    control::Control,
    error::{Closed, TryClaimError},
};

/// The single-producer flavor: one [`Producer`](crate::Producer) handle, which is not `Clone`.
pub struct Single {
    /// Sequences below this are published. Written by the producer (Release), read by
    /// consumers gated on the publisher (Acquire). (SP is not in the TLA+ spec; loom models it.)
    published: CachePadded<AtomicU64>,
    /// Written by the producer on every claim, read by the closer; on its own line so the
    /// consumers' reads of `published` do not contend with it.
    announce: CachePadded<Announce>,
    /// The claim/close barrier pair, chosen once at build time.
    barrier: Asymmetric,
}

/// The producer's claim announcement and the close flag it races with.
struct Announce {
    /// End of the last claim. Written only by the producer; read by the closer.
    claimed: AtomicU64,
    /// `CLOSED | FENCED` bits (module docs). `CLOSED` is set once by the closer; the producer
    /// reads the word after each announce.
    state: AtomicU8,
}

/// [`Announce::state`]: the ring is closed.
const CLOSED: u8 = 1;
/// [`Announce::state`]: the light barrier is a `SeqCst` fence, run on the slow path.
const FENCED: u8 = 2;

impl Single {
    /// Announces the claim `lo..hi`, then looks for a close (see module docs).
    #[inline(always)]
    fn announce(&self, ctl: &Control, lo: u64, hi: u64) -> Result<(), Closed> {
        // Relaxed: ordered by the barrier below. [loom: single_producer_claim_races_shutdown]
        self.announce.claimed.store(hi, Relaxed);
        gearset_sync::trace_action!(
            "SPAnnounce",
            "claimed' = {hi} /\\ ppc'[SELF] = \"check\" /\\ ppc'[SELF] # ppc[SELF]"
        );
        // Light barrier, expedited: orders the store of `claimed` before the load of `state`
        // against the closer's `fetch_or(CLOSED)` -> heavy barrier -> load `claimed` (Dekker).
        // Without `membarrier` this load is not ordered yet: `FENCED` sends us to the slow path.
        Asymmetric::compiler_half();
        // Relaxed: ordered by the barrier above. [loom: single_producer_claim_races_shutdown]
        let state = self.announce.state.load(Relaxed);
        if state != 0 {
            return self.announce_slow(ctl, lo, state);
        }
        gearset_sync::trace_action!(
            "SPCheckClosed",
            "ppc'[SELF] = \"room\" /\\ ppc'[SELF] # ppc[SELF]"
        );
        Ok(())
    }

    /// The rest of [`announce`](Self::announce) when `state` is not zero: the full light
    /// barrier if it is a fence, then the decision on a `state` loaded after it.
    #[cold]
    #[inline(never)]
    fn announce_slow(&self, ctl: &Control, lo: u64, state: u8) -> Result<(), Closed> {
        let state = if state & FENCED == 0 {
            state
        } else {
            // Light barrier, fence form: the Dekker pair with the closer's heavy barrier. The
            // mutant drops it. [loom: single_producer_claim_races_shutdown]
            if !gearset_sync::mutant::on("disruptor_sp_no_fence") {
                self.barrier.light();
            }
            // Relaxed: ordered by the barrier above. [loom: single_producer_claim_races_shutdown]
            self.announce.state.load(Relaxed)
        };
        if state & CLOSED == 0 {
            gearset_sync::trace_action!(
                "SPCheckClosed",
                "ppc'[SELF] = \"room\" /\\ ppc'[SELF] # ppc[SELF]"
            );
            return Ok(());
        }
        Self::claim_while_closing(ctl, lo)
    }

    /// The claim saw `closed`: it proceeds only if the closer's end covers it.
    #[cold]
    #[inline(never)]
    fn claim_while_closing(ctl: &Control, lo: u64) -> Result<(), Closed> {
        let proceed = lo < ctl.wait_end();
        gearset_sync::trace_action!(
            "SPCheckClosed",
            "ppc'[SELF] = \"{}\" /\\ ppc'[SELF] # ppc[SELF]",
            if proceed { "room" } else { "done" }
        );
        if proceed { Ok(()) } else { Err(Closed) }
    }
}

// The trait is sealed (unnameable outside the crate), so its crate-private argument types
// never reach users.
#[allow(private_interfaces)]
impl Sequencer for Single {
    fn new(_capacity: u64) -> Self {
        let barrier = Asymmetric::new();
        let announce = Announce {
            claimed: AtomicU64::new(0),
            state: AtomicU8::new(if barrier.is_expedited() { 0 } else { FENCED }),
        };
        Self {
            published: CachePadded::new(AtomicU64::new(0)),
            announce: CachePadded::new(announce),
            barrier,
        }
    }

    #[inline]
    fn claim(&self, ctl: &Control, local: &mut Local, n: u64) -> Result<u64, Closed> {
        let (lo, hi) = (local.next, local.next + n);
        self.announce(ctl, lo, hi)?;
        // The claim is announced: if the ring closes now, the consumers drain up to `hi`, so
        // waiting for room cannot deadlock. [TLA: CheckRoomCached, ReadGate]
        ctl.wait_for_room(&mut local.room_end, hi)
            .map_err(|_| Closed)?;
        local.next = hi;
        Ok(lo)
    }

    fn try_claim(&self, ctl: &Control, local: &mut Local, n: u64) -> Result<u64, TryClaimError> {
        if self.is_closed() {
            return Err(TryClaimError::Closed);
        }
        let (lo, hi) = (local.next, local.next + n);
        // Room first: an announced claim must not be withdrawn (the closer may have read it).
        if !ctl.has_room(&mut local.room_end, hi) {
            return Err(TryClaimError::Full);
        }
        self.announce(ctl, lo, hi)
            .map_err(|_| TryClaimError::Closed)?;
        local.next = hi;
        Ok(lo)
    }

    #[inline]
    fn publish(&self, _lo: u64, hi: u64) {
        // Release: the slot writes before it are visible to consumers that Acquire-load
        // `published`, in `available`. [TLA: PublishFlag, SP form]
        self.published.store(hi, Release);
        gearset_sync::trace_action!(
            "SPPublish",
            "published' = {hi} /\\ ppc'[SELF] = \"idle\" /\\ ppc'[SELF] # ppc[SELF]"
        );
    }

    #[inline]
    fn available(&self, _next: u64, _limit: u64) -> u64 {
        // Acquire: pairs with the Release store in `publish`. [TLA: ConsumerWait, SP form]
        self.published.load(Acquire)
    }

    fn close(&self, ctl: &Control) {
        // Relaxed RMW: ordered against the producer's announce by the barrier below; it only
        // elects one closer.
        if self.announce.state.fetch_or(CLOSED, Relaxed) & CLOSED != 0 {
            return;
        }
        gearset_sync::trace_action!("SPCloseSwap", "closed' = TRUE /\\ closePc' = \"reading\"");
        // Heavy barrier: the closer's half of the Dekker handshake in `announce`. [loom: single_producer_claim_races_shutdown]
        self.barrier.heavy();
        // Relaxed: ordered by the barrier above. [loom: single_producer_claim_races_shutdown]
        let end = self.announce.claimed.load(Relaxed);
        gearset_sync::trace_action!(
            "SPCloseRead",
            "closeVal' = {end} /\\ closePc' = \"setting\""
        );
        ctl.set_end(end);
    }

    fn is_closed(&self) -> bool {
        // Relaxed: a fast path only; `announce` decides after the barrier.
        self.announce.state.load(Relaxed) & CLOSED != 0
    }

    fn claimed(&self, local: &Local) -> u64 {
        local.next
    }
}

impl fmt::Debug for Single {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Relaxed/Acquire loads here are a racy snapshot for debugging; nothing pairs with them.
        f.debug_struct("Single")
            .field("published", &self.published.load(Relaxed))
            .field("closed", &self.is_closed())
            .field("membarrier", &self.barrier.is_expedited())
            .finish()
    }
}

#[cfg(test)]
mod tests {
    //! Single-threaded: the orderings in these tests pair with nothing.
    use gearset_sync::atomic::Ordering::Release;

    use super::*;

    #[test]
    fn claims_publish_through_the_cursor() {
        let (ctl, cursor) = Control::for_test(2);
        let single = Single::new(2);
        let mut local = Local::new(ctl.capacity);
        assert_eq!(single.claim(&ctl, &mut local, 2), Ok(0));
        assert_eq!(single.available(0, 8), 0);
        single.publish(0, 2);
        assert_eq!(single.available(0, 8), 2);
        assert_eq!(
            single.try_claim(&ctl, &mut local, 1),
            Err(TryClaimError::Full)
        );
        cursor.store(1, Release);
        assert_eq!(single.try_claim(&ctl, &mut local, 1), Ok(2));
    }

    #[test]
    fn close_ends_at_the_last_announced_claim() {
        let (ctl, _cursor) = Control::for_test(4);
        let single = Single::new(4);
        let mut local = Local::new(ctl.capacity);
        assert_eq!(single.claim(&ctl, &mut local, 3), Ok(0));
        single.close(&ctl);
        assert_eq!(ctl.end(), 3);
        assert_eq!(single.claim(&ctl, &mut local, 1), Err(Closed));
        assert_eq!(local.next, 3, "a refused claim does not advance");
    }

    #[test]
    fn a_claim_that_sees_closed_proceeds_only_below_the_end() {
        let (ctl, _cursor) = Control::for_test(4);
        let single = Single::new(4);
        // The closer already read `claimed == 2` (the claim announced below), then ...
        single.announce.claimed.store(2, Relaxed);
        single.announce.state.fetch_or(CLOSED, Relaxed);
        ctl.set_end(2);
        // ... the producer's announce for 0..2 sees `closed`: 0 < end, it must proceed.
        assert_eq!(single.announce(&ctl, 0, 2), Ok(()));
        // A claim at the end is refused.
        assert_eq!(single.announce(&ctl, 2, 3), Err(Closed));
    }
}
