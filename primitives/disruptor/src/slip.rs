//! Temporal slipping: a consumer that catches up with a *streaming* producer lets it get a few
//! cache lines ahead before reading on.
//!
//! # Why
//!
//! A consumer that keeps up reads the slot line the producer is still filling. That line then
//! crosses cores twice: once to the consumer, and back to the producer for its next write to the
//! same line, which stalls the producer's stores. With small events (eight `u64`s per line) a
//! keeping-up consumer turns every few events into such a round trip, and 1P→1C throughput drops
//! *because* the consumer is fast: on the 2-core dev box, a consumer that reads as soon as
//! anything is published ran at 0.70–0.74× the `disruptor` crate's throughput, whose slower
//! consumer lets the ring fill.
//!
//! FastForward (Giacomoni, Moseley, Vachharajani, PPoPP 2008) names the cure *temporal
//! slipping*: keep the consumer some cache lines behind the producer while both are streaming,
//! so each line crosses once, fully written.
//!
//! # Rule
//!
//! Only where a batch follows the previous one without a wait (the producer is streaming), and
//! fewer than [`Slip::distance`] sequences are available: spin for [`INTERVAL`] *without
//! touching the producer's lines*, poll again, and repeat, at most [`MAX_POLLS`] times; stop as
//! soon as the distance is reached **or a poll finds no new sequence** (the producer paused,
//! so holding back would only add latency). A consumer that had to wait for its batch never
//! slips, so a lone event after a quiet spell is handled as soon as it is seen, and a
//! [`ConsumerBuilder::slip`](crate::ConsumerBuilder::slip)`(false)` consumer never does.
//!
//! The interval is measured in time, not in spin hints: a `pause` takes 27 ns on the dev box's
//! Zen 5 and a few nanoseconds on older cores. Polling is what costs: every poll pulls the
//! line the producer is writing. On the dev box, paired 1P→1C rounds gave the `disruptor`
//! crate's time over ours as 0.79–0.89 with a poll after every spin hint (27 ns), 1.02–1.05
//! every 110 ns, 1.00–1.27 (seven runs) every 440 ns, 0.96–1.00 every 880 ns and 0.65–0.78
//! every 1.8 µs (`docs/design/disruptor.md`).
//!
//! What it costs: inside a stream, a batch may wait up to `MAX_POLLS × INTERVAL` (3.2 µs)
//! while the producer keeps publishing, and the last events of a burst up to one `INTERVAL`
//! after the producer stopped.
//!
//! The distance is [`LINES`] cache lines of slots, at most a quarter of the ring (so the
//! producer is never gated by a slipping consumer) and at most the maximum batch size; it is 0,
//! and slipping off, for rings of fewer than four slots (the loom models' rings).
//!
//! Slipping only delays *when* a consumer reads availability; it never changes what it reads,
//! so the protocol and its proof (`Disruptor.tla`, the loom models) are unchanged.

use gearset_sync::{
    hint,
    time::{self, Duration},
};

/// Slip distance in cache lines of slots.
pub(crate) const LINES: u64 = 16;
/// At most this many extra polls per batch.
pub(crate) const MAX_POLLS: u32 = 8;
/// Time between two polls while slipping.
pub(crate) const INTERVAL: Duration = Duration::from_nanos(400);
/// The cache line size the distance is counted in.
const LINE_BYTES: u64 = 64;

/// One consumer's slip distance (see the module docs).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Slip {
    /// Sequences a streaming consumer lets the producer get ahead; 0 turns slipping off.
    pub(crate) distance: u64,
}

impl Slip {
    /// The distance for events of type `E` in a ring of `capacity` slots, read in batches of
    /// at most `max_batch`.
    pub(crate) fn new<E>(capacity: u64, max_batch: u64) -> Self {
        let slot_bytes = (core::mem::size_of::<E>() as u64).max(1);
        let per_line = (LINE_BYTES / slot_bytes).max(1);
        Self {
            distance: (LINES * per_line).min(capacity / 4).min(max_batch),
        }
    }

    /// No slipping (pollers, and the first poll after a wait).
    pub(crate) const OFF: Self = Self { distance: 0 };

    /// The availability to use, given a first poll `avail > next`: `avail` itself, or a later
    /// poll's result while the producer keeps publishing and the distance is not reached.
    /// `poll(from)` is the barrier's availability scanned from `from` (everything below it is
    /// known to be available, so a multi-producer scan does not start over).
    #[inline]
    pub(crate) fn settle(self, next: u64, avail: u64, poll: impl FnMut(u64) -> u64) -> u64 {
        if avail - next >= self.distance {
            return avail;
        }
        self.wait_while_streaming(next, avail, poll)
    }

    #[inline(never)]
    fn wait_while_streaming(
        self,
        next: u64,
        mut seen: u64,
        mut poll: impl FnMut(u64) -> u64,
    ) -> u64 {
        for _ in 0..MAX_POLLS {
            pause(INTERVAL);
            let now = poll(seen);
            if now == seen || now - next >= self.distance {
                return now;
            }
            seen = now;
        }
        seen
    }
}

/// Spins for about `interval` without touching shared memory. Under the model checkers the
/// facade's clock has always expired, so this is one spin hint (which yields to them).
fn pause(interval: Duration) {
    let deadline = time::deadline_after(interval);
    loop {
        hint::spin_loop();
        if deadline.is_none_or(time::expired) {
            return;
        }
    }
}

#[cfg(test)]
mod tests {
    use core::cell::Cell;

    use super::*;

    #[test]
    fn distance_is_lines_of_slots_capped_by_ring_and_batch() {
        assert_eq!(Slip::new::<u64>(1024, 1024).distance, 16 * 8);
        assert_eq!(Slip::new::<[u8; 256]>(1024, 1024).distance, 16);
        assert_eq!(
            Slip::new::<u64>(64, 1024).distance,
            16,
            "a quarter of the ring"
        );
        assert_eq!(Slip::new::<u64>(1024, 10).distance, 10, "the batch bound");
        assert_eq!(Slip::new::<u64>(2, 2).distance, 0, "off for tiny rings");
        assert_eq!(Slip::new::<()>(1024, 1024).distance, 256);
    }

    #[test]
    fn enough_available_returns_at_once() {
        let slip = Slip { distance: 4 };
        assert_eq!(slip.settle(10, 14, |_| unreachable!("no extra poll")), 14);
        assert_eq!(Slip::OFF.settle(10, 11, |_| unreachable!("off")), 11);
    }

    #[test]
    fn stops_when_the_producer_pauses() {
        let slip = Slip { distance: 100 };
        let polls = Cell::new(0);
        // The producer publishes two more, then nothing: the third poll repeats.
        let got = slip.settle(0, 1, |from| {
            polls.set(polls.get() + 1);
            assert_eq!(from, [1, 2, 3][polls.get() - 1], "scans from what it saw");
            [2, 3, 3][polls.get() - 1]
        });
        assert_eq!((got, polls.get()), (3, 3));
    }

    #[test]
    fn stops_at_the_distance() {
        let slip = Slip { distance: 8 };
        let polls = Cell::new(0u64);
        let got = slip.settle(0, 1, |_| {
            polls.set(polls.get() + 1);
            1 + 3 * polls.get()
        });
        assert_eq!((got, polls.get()), (10, 3));
    }

    #[test]
    fn bounded_while_the_producer_trickles() {
        let slip = Slip { distance: u64::MAX };
        let polls = Cell::new(0u64);
        let got = slip.settle(0, 1, |_| {
            polls.set(polls.get() + 1);
            1 + polls.get()
        });
        assert_eq!(polls.get(), u64::from(MAX_POLLS));
        assert_eq!(got, 1 + u64::from(MAX_POLLS));
    }
}
