//! Pull-style consumption: the caller's thread asks for events when it wants them
//! (LMAX's `EventPoller`), for threads with other duties (a game loop, a socket poller).

use core::fmt;

use gearset_sync::Arc;

use crate::{
    consumer::{Links, Progress, Step},
    flavors::Flavor,
    shared::Shared,
    slip::Slip,
};

/// What one [`EventPoller::poll`] call found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PollState {
    /// The handler ran on this many events (at least one).
    Processed(usize),
    /// Nothing available now; more may come.
    Idle,
    /// The stream ended and everything before the end was handled (or the graph halted and
    /// nothing complete is left). Every later poll says `Closed` too.
    Closed,
}

/// A consumer driven by its owner's thread. It gates producers like any other consumer: a
/// poller that stops polling eventually stalls them.
///
/// ```
/// use gearset_disruptor::{Disruptor, PollState};
///
/// let mut builder = Disruptor::single_producer(16, || 0u32).unwrap();
/// let id = builder.poller(&[]);
/// let (mut producer, mut disruptor) = builder.build().unwrap();
/// let mut poller = disruptor.take_poller(id).unwrap();
/// producer.publish_batch(3, |e, seq| *e = seq as u32).unwrap();
/// let mut seen = Vec::new();
/// assert_eq!(poller.poll(|e, _seq, _end| seen.push(*e)), PollState::Processed(3));
/// assert_eq!(seen, [0, 1, 2]);
/// assert_eq!(poller.poll(|_, _, _| {}), PollState::Idle);
/// drop(producer); // the last producer closes the ring
/// assert_eq!(poller.poll(|_, _, _| {}), PollState::Closed);
/// ```
pub struct EventPoller<E, S: Flavor> {
    shared: Arc<Shared<E, S>>,
    links: Links,
    /// Sequences below this are done (mirrors the cursor; only this handle writes it).
    done: u64,
}

impl<E, S: Flavor> EventPoller<E, S> {
    pub(crate) fn new(shared: Arc<Shared<E, S>>, links: Links) -> Self {
        Self {
            shared,
            links,
            done: 0,
        }
    }

    /// Handles every available event (up to the capacity) with `handler(event, sequence,
    /// end_of_batch)`, then releases them in one cursor store.
    ///
    /// If `handler` panics, the events it completed are released and the panic continues;
    /// the graph is not halted (the poller's owner decides what happens next).
    pub fn poll(&mut self, handler: impl FnMut(&E, u64, bool)) -> PollState {
        self.poll_batch(usize::MAX, handler)
    }

    /// Like [`poll`](Self::poll), handling at most `max` events (LMAX's batch limit).
    pub fn poll_batch(&mut self, max: usize, mut handler: impl FnMut(&E, u64, bool)) -> PollState {
        let shared = &*self.shared;
        let next = self.done;
        let limit = next.saturating_add((max as u64).min(shared.ctl.capacity));
        let avail = match self.links.poll_state(shared, next, limit, Slip::OFF) {
            Step::Ready(avail) => avail.min(limit),
            Step::Empty => return PollState::Idle,
            Step::Done => return PollState::Closed,
        };
        let mut progress = Progress {
            shared,
            links: &self.links,
            done: next,
            halt_on_panic: false,
        };
        for seq in next..avail {
            // SAFETY: `seq < avail` is published (or finished upstream) and our cursor is still
            // `<= seq`, so no producer reclaims the slot while we read it. [TLA: NoReadUnpublished]
            unsafe { shared.ring.read(seq, |e| handler(e, seq, seq + 1 == avail)) };
            progress.done = seq + 1;
        }
        drop(progress);
        self.links.release(shared, avail);
        self.done = avail;
        PollState::Processed((avail - next) as usize)
    }

    /// `true` if a `poll` now would handle at least one event. A snapshot: it can only turn
    /// from `false` to `true` until this poller polls.
    pub fn has_available(&self) -> bool {
        self.links
            .barrier
            .available(&self.shared, self.done, self.done + 1)
            > self.done
    }

    /// The next sequence this poller will handle.
    pub fn sequence(&self) -> u64 {
        self.done
    }
}

impl<E, S: Flavor> fmt::Debug for EventPoller<E, S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("EventPoller")
            .field("next", &self.done)
            .finish_non_exhaustive()
    }
}
