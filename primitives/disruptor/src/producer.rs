//! Producer handles: claim a range, write it in place, publish it.
//!
//! Every publish method runs the caller's closure on the claimed slots and publishes them when
//! it returns *or unwinds*: a claimed sequence that is never published would stall every
//! consumer (the hazard the LMAX docs answer with `try/finally`). Slots always hold a valid `E`
//! (preallocated by the factory), so publishing a half-written batch is safe, if unhelpful.

use core::{fmt, ops::Range};

use gearset_sync::{Arc, atomic::Ordering::Acquire};

use crate::{
    builder::ConsumerId,
    error::{Closed, TryPublishError},
    flavors::{Flavor, Local, Multi},
    shared::Shared,
};

/// A handle that publishes events. `Send`; `Clone` only for the [`Multi`] flavor.
///
/// Dropping the last producer closes the ring: consumers process everything already published,
/// then stop.
///
/// ```
/// use gearset_disruptor::Disruptor;
///
/// let mut builder = Disruptor::single_producer(8, || 0u64).unwrap();
/// builder.handle_events_with(|e: &u64, seq, _end_of_batch| assert_eq!(*e, seq * 10));
/// let (mut producer, disruptor) = builder.build().unwrap();
/// for i in 0..100 {
///     producer.publish(|e, seq| *e = seq * 10).unwrap();
///     # let _ = i;
/// }
/// disruptor.shutdown().unwrap();
/// assert!(producer.publish(|e, _| *e = 0).is_err()); // Closed
/// ```
pub struct Producer<E, S: Flavor> {
    shared: Arc<Shared<E, S>>,
    /// This handle's claim counter (single producer) and gate cache.
    local: Local,
}

impl<E, S: Flavor> Producer<E, S> {
    pub(crate) fn new(shared: Arc<Shared<E, S>>) -> Self {
        Self {
            local: Local::new(shared.ctl.capacity),
            shared,
        }
    }

    /// Claims the next slot (waiting with the producer wait strategy while the ring is full),
    /// runs `write(event, sequence)` on it, and publishes it. Returns the sequence.
    ///
    /// `Err(Closed)` once the ring is closed; `write` is then not called.
    #[inline]
    pub fn publish<F: FnOnce(&mut E, u64)>(&mut self, write: F) -> Result<u64, Closed> {
        let lo = self
            .shared
            .seq
            .claim(&self.shared.ctl, &mut self.local, 1)?;
        self.fill_one_and_publish(lo, write);
        Ok(lo)
    }

    /// Like [`publish`](Self::publish) but never waits: `Err(Full(write))` when the slowest
    /// final consumer still holds the slot.
    ///
    /// ```
    /// use gearset_disruptor::Disruptor;
    ///
    /// let mut builder = Disruptor::single_producer(2, || 0u8).unwrap();
    /// let id = builder.poller(&[]);
    /// let (mut producer, mut disruptor) = builder.build().unwrap();
    /// let mut poller = disruptor.take_poller(id).unwrap();
    /// assert!(producer.try_publish(|e, _| *e = 1).is_ok());
    /// assert!(producer.try_publish(|e, _| *e = 2).is_ok());
    /// assert!(producer.try_publish(|e, _| *e = 3).unwrap_err().is_full());
    /// poller.poll(|_, _, _| {});
    /// assert!(producer.try_publish(|e, _| *e = 3).is_ok());
    /// ```
    #[inline]
    pub fn try_publish<F: FnOnce(&mut E, u64)>(
        &mut self,
        write: F,
    ) -> Result<u64, TryPublishError<F>> {
        let lo = match self
            .shared
            .seq
            .try_claim(&self.shared.ctl, &mut self.local, 1)
        {
            Ok(lo) => lo,
            Err(e) => return Err(TryPublishError::new(e, write)),
        };
        self.fill_one_and_publish(lo, write);
        Ok(lo)
    }

    /// Claims `n` consecutive slots at once (one claim, one gating check, one publish for the
    /// single-producer flavor), runs `write(event, sequence)` on each in order, and publishes
    /// them. Returns the claimed range.
    ///
    /// # Panics
    /// If `n` exceeds the capacity. `n == 0` returns an empty range.
    ///
    /// ```
    /// use gearset_disruptor::Disruptor;
    ///
    /// let mut builder = Disruptor::multi_producer(64, || 0u64).unwrap();
    /// builder.handle_events_with(|e: &u64, seq, _| assert_eq!(*e, seq));
    /// let (mut producer, disruptor) = builder.build().unwrap();
    /// let range = producer.publish_batch(10, |e, seq| *e = seq).unwrap();
    /// assert_eq!(range, 0..10);
    /// disruptor.shutdown().unwrap();
    /// ```
    #[inline]
    pub fn publish_batch<F: FnMut(&mut E, u64)>(
        &mut self,
        n: usize,
        write: F,
    ) -> Result<Range<u64>, Closed> {
        let n = self.check_batch(n);
        if n == 0 {
            return Ok(0..0);
        }
        let lo = self
            .shared
            .seq
            .claim(&self.shared.ctl, &mut self.local, n)?;
        self.fill_and_publish(lo, lo + n, write);
        Ok(lo..lo + n)
    }

    /// Like [`publish_batch`](Self::publish_batch) but never waits: all `n` slots or nothing.
    #[inline]
    pub fn try_publish_batch<F: FnMut(&mut E, u64)>(
        &mut self,
        n: usize,
        write: F,
    ) -> Result<Range<u64>, TryPublishError<F>> {
        let n = self.check_batch(n);
        if n == 0 {
            return Ok(0..0);
        }
        let lo = match self
            .shared
            .seq
            .try_claim(&self.shared.ctl, &mut self.local, n)
        {
            Ok(lo) => lo,
            Err(e) => return Err(TryPublishError::new(e, write)),
        };
        self.fill_and_publish(lo, lo + n, write);
        Ok(lo..lo + n)
    }

    /// Number of slots in the ring.
    pub fn capacity(&self) -> usize {
        self.shared.ctl.capacity as usize
    }

    /// Events claimed but not yet released by the slowest final consumer: the fill level.
    ///
    /// A snapshot: consumers may release slots (the value drops) and other producers may claim
    /// (it grows) while you look. For the single-producer flavor, only consumers move it, so it
    /// can only drop until this handle publishes again.
    ///
    /// ```
    /// use gearset_disruptor::Disruptor;
    ///
    /// let mut builder = Disruptor::single_producer(4, || 0u8).unwrap();
    /// builder.poller(&[]);
    /// let (mut producer, _disruptor) = builder.build().unwrap();
    /// producer.publish(|e, _| *e = 1).unwrap();
    /// assert_eq!(producer.len(), 1);
    /// assert_eq!(producer.remaining_capacity(), 3);
    /// ```
    pub fn len(&self) -> usize {
        let claimed = self.shared.seq.claimed(&self.local);
        claimed.saturating_sub(self.shared.ctl.min_gating()) as usize
    }

    /// How many claimed events consumer `id` has not finished yet: its lag behind the
    /// producers. A snapshot, like [`len`](Self::len); for a final consumer it is at most
    /// `len()`, the slowest final consumer's lag.
    ///
    /// # Panics
    /// If `id` does not come from the builder of this disruptor.
    ///
    /// ```
    /// use gearset_disruptor::Disruptor;
    ///
    /// let mut builder = Disruptor::single_producer(8, || 0u8).unwrap();
    /// let first = builder.poller(&[]);
    /// let second = builder.poller(&[first]);
    /// let (mut producer, mut disruptor) = builder.build().unwrap();
    /// producer.publish_batch(5, |e, _| *e = 1).unwrap();
    /// let mut poller = disruptor.take_poller(first).unwrap();
    /// poller.poll_batch(2, |_, _, _| {});
    /// assert_eq!(producer.lag(first), 3);
    /// assert_eq!(producer.lag(second), 5);
    /// ```
    pub fn lag(&self, id: ConsumerId) -> u64 {
        let cursors = &self.shared.ctl.cursors;
        assert!(
            id.index() < cursors.len(),
            "{id:?} does not belong to this disruptor"
        );
        let claimed = self.shared.seq.claimed(&self.local);
        // Acquire: pairs with the consumer's Release cursor store; a snapshot for the query.
        claimed.saturating_sub(cursors[id.index()].load(Acquire))
    }

    /// `true` if [`len`](Self::len) is 0 (same snapshot caveats).
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// `capacity() - len()`: how many events a `publish` could claim now without waiting.
    pub fn remaining_capacity(&self) -> usize {
        self.capacity().saturating_sub(self.len())
    }

    /// `true` once the ring is closed. Monotone: never goes back to `false`.
    pub fn is_closed(&self) -> bool {
        self.shared.seq.is_closed()
    }

    fn check_batch(&self, n: usize) -> u64 {
        assert!(
            n <= self.capacity(),
            "batch of {n} exceeds the capacity {}",
            self.capacity()
        );
        n as u64
    }

    /// Writes `lo..hi` and publishes it, also when `write` unwinds.
    #[inline]
    fn fill_and_publish(&self, lo: u64, hi: u64, mut write: impl FnMut(&mut E, u64)) {
        let _publish = self.publish_on_drop(lo, hi);
        for seq in lo..hi {
            // SAFETY: `lo..hi` was claimed by this handle and passed the gating check.
            unsafe { self.write_slot(seq, hi, |e| write(e, seq)) };
        }
    }

    /// [`fill_and_publish`](Self::fill_and_publish) for the one slot `seq`, without the loop
    /// (one event at a time is the hot path the benchmarks measure).
    #[inline(always)]
    fn fill_one_and_publish(&self, seq: u64, write: impl FnOnce(&mut E, u64)) {
        let _publish = self.publish_on_drop(seq, seq + 1);
        // SAFETY: `seq` was claimed by this handle and passed the gating check.
        unsafe { self.write_slot(seq, seq + 1, |e| write(e, seq)) };
    }

    /// The guard that publishes `lo..hi` when the fill returns or unwinds.
    #[inline(always)]
    fn publish_on_drop(&self, lo: u64, hi: u64) -> PublishOnDrop<'_, E, S> {
        if gearset_sync::mutant::on("disruptor_publish_before_write") {
            // The bug conformance must catch: the range is visible before it is written.
            self.shared.seq.publish(lo, hi);
        }
        PublishOnDrop {
            shared: &self.shared,
            lo,
            hi,
        }
    }

    /// Runs `write` on slot `seq` of the claimed range ending at `hi`.
    ///
    /// # Safety
    /// `seq` lies in a range claimed by this handle that passed the gating check and is not
    /// published yet, so no consumer reads the slot and no other producer writes it.
    #[inline(always)]
    #[cfg_attr(not(gearset_trace), allow(unused_variables))]
    unsafe fn write_slot(&self, seq: u64, hi: u64, write: impl FnOnce(&mut E)) {
        // SAFETY: delegated to the caller (exclusive access to a claimed, gated slot).
        unsafe { self.shared.ring.write(seq, write) };
        gearset_sync::trace_action!(
            "WriteSlot",
            "slot'[{}] = {} /\\ {}",
            self.shared.ring.index(seq),
            seq + 1,
            if seq + 1 == hi {
                "ppc'[SELF] = \"publish\" /\\ ppc'[SELF] # ppc[SELF]".to_owned()
            } else {
                format!("cur'[SELF] = {} /\\ cur'[SELF] # cur[SELF]", seq + 1)
            }
        );
    }
}

/// Publishes a claimed range when dropped (normally or while unwinding).
struct PublishOnDrop<'a, E, S: Flavor> {
    shared: &'a Shared<E, S>,
    lo: u64,
    hi: u64,
}

impl<E, S: Flavor> Drop for PublishOnDrop<'_, E, S> {
    #[inline]
    fn drop(&mut self) {
        self.shared.seq.publish(self.lo, self.hi);
        self.shared.ctl.notify_published();
    }
}

impl<E> Clone for Producer<E, Multi> {
    /// Another producer handle on the same ring.
    fn clone(&self) -> Self {
        self.shared.ctl.add_producer();
        Self {
            shared: Arc::clone(&self.shared),
            local: Local {
                next: 0,
                room_end: self.local.room_end,
            },
        }
    }
}

impl<E, S: Flavor> Drop for Producer<E, S> {
    fn drop(&mut self) {
        if self.shared.ctl.remove_producer() {
            self.shared.close();
        }
    }
}

impl<E, S: Flavor> fmt::Debug for Producer<E, S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Producer")
            .field("sequencer", &self.shared.seq)
            .field("room_end", &self.local.room_end)
            .finish_non_exhaustive()
    }
}
