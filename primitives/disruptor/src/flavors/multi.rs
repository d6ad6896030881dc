//! Multi-producer sequencer, after LMAX 4's `MultiProducerSequencer`: producers claim with one
//! `fetch_add` on a shared counter and publish through a per-slot availability flag, so a
//! consumer never reads a claimed-but-unpublished slot, even when producers publish out of order.
//!
//! # Encoding
//!
//! - `claim`: `{ closed: bit 63, next: bits 0..63 }`. `next` is the first unclaimed sequence.
//! - `available[i]`: `seq + 1` of the last sequence published in slot `i` (0: never). Slot `i`
//!   holds a readable `seq` iff `available[seq & mask] == seq + 1`. LMAX stores the lap number
//!   `seq >> log2(capacity)`; `seq + 1` carries the same information without a shift, and with
//!   u64 sequences it cannot wrap.
//!
//! # Protocol
//!
//! - **Claim `n`**: `prev = claim.fetch_add(n)`; if `prev` has the closed bit, `Closed` (the
//!   counter is past `end`, nobody waits for it); else wait for room for `prev + n`.
//! - **Try-claim `n`**: a CAS loop that claims only when the gate proves room, so a failed
//!   attempt leaves nothing claimed.
//! - **Publish `lo..hi`**: `available[s & mask].store(s + 1, Release)` for each `s`.
//! - **Consumers**: scan `available` from their next sequence while it matches (Acquire); the
//!   first mismatch is the first unpublished sequence. They never read `claim`: reading the
//!   claim counter instead is the bug of gnuradio4 #275 and our TLA+ mutant `ReadClaimCursor`.
//! - **Close**: `prev = claim.fetch_or(CLOSED)`; the caller that saw the bit clear sets
//!   `end = prev`. Claims and the close are RMWs of one location, so each claim lies wholly
//!   before `end` (and will be published) or wholly after it (and got `Closed`).
//!
//! The scan is bounded: producers cannot write `seq` before this consumer's downstream finals
//! finished `seq - capacity`, so flags past the first gap belong to older laps and never match.

use core::fmt;

use gearset_sync::{
    CachePadded,
    atomic::{
        AtomicU64,
        Ordering::{Acquire, Relaxed, Release},
    },
};

use super::{Local, private::Sequencer};
use crate::{
    control::Control,
    error::{Closed, TryClaimError},
};

const CLOSED: u64 = 1 << 63;

/// The multi-producer flavor: [`Producer`](crate::Producer) handles are `Clone`.
pub struct Multi {
    /// `{ closed: bit 63, next claim: bits 0..63 }`. RMW'd by every producer and the closer;
    /// never read by consumers. [TLA: claim]
    claim: CachePadded<AtomicU64>,
    /// Per-slot `seq + 1` of the last publish. Written by the publishing producer (Release),
    /// read by consumers gated on the publisher (Acquire). [TLA: avail]
    available: Box<[AtomicU64]>,
    /// `capacity - 1`.
    mask: u64,
}

impl Multi {
    #[inline]
    fn index(&self, seq: u64) -> usize {
        (seq & self.mask) as usize
    }

    #[inline]
    fn flag(&self, seq: u64) -> &AtomicU64 {
        &self.available[self.index(seq)]
    }
}

// The trait is sealed (unnameable outside the crate), so its crate-private argument types
// never reach users.
#[allow(private_interfaces)]
impl Sequencer for Multi {
    fn new(capacity: u64) -> Self {
        Self {
            claim: CachePadded::new(AtomicU64::new(0)),
            available: (0..capacity).map(|_| AtomicU64::new(0)).collect(),
            mask: capacity - 1,
        }
    }

    fn claim(&self, ctl: &Control, local: &mut Local, n: u64) -> Result<u64, Closed> {
        // Relaxed: the counter only hands out unique ranges (its modification order does);
        // slot ownership is established by the gating Acquire loads below. [TLA: FetchAddClaim]
        let prev = self.claim.fetch_add(n, Relaxed);
        if prev & CLOSED != 0 {
            gearset_sync::trace_action!(
                "FetchAddClaim",
                "ppc'[SELF] = \"done\" /\\ ppc'[SELF] # ppc[SELF]"
            );
            return Err(Closed);
        }
        gearset_sync::trace_action!(
            "FetchAddClaim",
            "claim' = {} /\\ hi'[SELF] = {} /\\ ppc'[SELF] = \"room\" /\\ ppc'[SELF] # ppc[SELF]",
            prev + n,
            prev + n
        );
        // Separate step from the claim, as in LMAX 4: wait until the range is clear of the
        // final consumers. [TLA: CheckRoomCached, ReadGate]
        ctl.wait_for_room(&mut local.room_end, prev + n)
            .map_err(|_| Closed)?;
        Ok(prev)
    }

    fn try_claim(&self, ctl: &Control, local: &mut Local, n: u64) -> Result<u64, TryClaimError> {
        // Relaxed: as in `claim`; the CAS below re-validates the value.
        let mut current = self.claim.load(Relaxed);
        loop {
            if current & CLOSED != 0 {
                return Err(TryClaimError::Closed);
            }
            if !ctl.has_room(&mut local.room_end, current + n) {
                return Err(TryClaimError::Full);
            }
            // Relaxed: as in `claim` (uniqueness only). [TLA: FetchAddClaim, try variant]
            match self
                .claim
                .compare_exchange_weak(current, current + n, Relaxed, Relaxed)
            {
                Ok(_) => return Ok(current),
                Err(actual) => current = actual,
            }
        }
    }

    #[inline]
    fn publish(&self, lo: u64, hi: u64) {
        for seq in lo..hi {
            // Release: the write of slot `seq` is visible to a consumer whose Acquire load in
            // `available` reads `seq + 1`. [TLA: PublishFlag]
            self.flag(seq).store(seq + 1, Release);
            gearset_sync::trace_action!(
                "PublishFlag",
                "avail'[{}] = {} /\\ {}",
                self.index(seq),
                seq + 1,
                if seq + 1 == hi {
                    "ppc'[SELF] = \"idle\" /\\ ppc'[SELF] # ppc[SELF]".to_owned()
                } else {
                    format!("cur'[SELF] = {} /\\ cur'[SELF] # cur[SELF]", seq + 1)
                }
            );
        }
    }

    #[inline]
    fn available(&self, next: u64, limit: u64) -> u64 {
        let mut seq = next;
        // Acquire: pairs with the Release store in `publish`. [TLA: ConsumerWait]
        // (`disruptor_relaxed_available` weakens it; loom must report the race.)
        let order = if gearset_sync::mutant::on("disruptor_relaxed_available") {
            Relaxed
        } else {
            Acquire
        };
        while seq < limit && self.flag(seq).load(order) == seq + 1 {
            seq += 1;
        }
        seq
    }

    fn close(&self, ctl: &Control) {
        // Relaxed: claims and the close are ordered by the modification order of `claim`; the
        // end reaches consumers through `set_end` (Release). [TLA: CloseFetchOr]
        let prev = self.claim.fetch_or(CLOSED, Relaxed);
        if prev & CLOSED == 0 {
            gearset_sync::trace_action!("CloseFetchOr", "closed' = TRUE /\\ closeVal' = {}", prev);
            ctl.set_end(prev);
        }
    }

    fn is_closed(&self) -> bool {
        // Relaxed: a snapshot for queries.
        self.claim.load(Relaxed) & CLOSED != 0
    }

    fn claimed(&self, _local: &Local) -> u64 {
        // Relaxed: a snapshot for queries.
        self.claim.load(Relaxed) & !CLOSED
    }
}

impl fmt::Debug for Multi {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Relaxed/Acquire loads here are a racy snapshot for debugging; nothing pairs with them.
        f.debug_struct("Multi")
            .field("claimed", &(self.claim.load(Relaxed) & !CLOSED))
            .field("closed", &self.is_closed())
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    //! Single-threaded: the orderings in these tests pair with nothing.
    use gearset_sync::atomic::Ordering::Release;

    use super::*;

    #[test]
    fn out_of_order_publish_is_invisible_until_the_gap_fills() {
        let (ctl, _cursor) = Control::for_test(4);
        let multi = Multi::new(4);
        let (mut first, mut second) = (Local::new(ctl.capacity), Local::new(ctl.capacity));
        assert_eq!(multi.claim(&ctl, &mut first, 1), Ok(0));
        assert_eq!(multi.claim(&ctl, &mut second, 2), Ok(1));
        multi.publish(1, 3); // the later claim publishes first
        assert_eq!(
            multi.available(0, 4),
            0,
            "sequence 0 is claimed, not published"
        );
        multi.publish(0, 1);
        assert_eq!(multi.available(0, 4), 3);
        assert_eq!(
            multi.available(0, 2),
            2,
            "the scan stops at the batch limit"
        );
    }

    #[test]
    fn flags_of_an_older_lap_do_not_count() {
        let (ctl, cursor) = Control::for_test(2);
        let multi = Multi::new(2);
        let mut local = Local::new(ctl.capacity);
        assert_eq!(multi.claim(&ctl, &mut local, 2), Ok(0));
        multi.publish(0, 2);
        cursor.store(2, Release); // the consumer finished 0 and 1
        assert_eq!(multi.claim(&ctl, &mut local, 1), Ok(2));
        assert_eq!(multi.available(2, 4), 2, "slot 0 still holds lap 0's flag");
        multi.publish(2, 3);
        assert_eq!(multi.available(2, 4), 3);
    }

    #[test]
    fn try_claim_is_all_or_nothing() {
        let (ctl, cursor) = Control::for_test(4);
        let multi = Multi::new(4);
        let mut local = Local::new(ctl.capacity);
        assert_eq!(multi.try_claim(&ctl, &mut local, 3), Ok(0));
        assert_eq!(
            multi.try_claim(&ctl, &mut local, 2),
            Err(TryClaimError::Full)
        );
        assert_eq!(
            multi.claimed(&local),
            3,
            "a failed try-claim claims nothing"
        );
        cursor.store(1, Release);
        assert_eq!(multi.try_claim(&ctl, &mut local, 2), Ok(3));
    }

    #[test]
    fn close_fixes_the_end_at_the_claim_counter() {
        let (ctl, _cursor) = Control::for_test(4);
        let multi = Multi::new(4);
        let mut local = Local::new(ctl.capacity);
        assert_eq!(multi.claim(&ctl, &mut local, 2), Ok(0));
        multi.close(&ctl);
        multi.close(&ctl); // idempotent
        assert_eq!(ctl.end(), 2);
        assert_eq!(multi.claim(&ctl, &mut local, 1), Err(Closed));
        assert_eq!(
            multi.try_claim(&ctl, &mut local, 1),
            Err(TryClaimError::Closed)
        );
        assert!(multi.is_closed());
    }
}
