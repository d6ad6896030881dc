//! Batch event processors: one thread per handler, LMAX's `BatchEventProcessor`.
//!
//! # Loop
//!
//! 1. Ask the barrier for the first unavailable sequence `avail` (the publisher's: cursor or
//!    availability scan; a stage's: the minimum of its upstream cursors), bounded by the
//!    maximum batch size. If nothing is available, wait with this consumer's strategy until
//!    something is, the stream ended (`end <= next`), or the graph halted.
//! 2. Call the handler on `next..avail` in order, `end_of_batch` on the last one.
//! 3. Store the cursor once per batch (Release) and wake downstream consumers (and producers,
//!    for a final consumer) whose strategies can sleep.
//!
//! If the handler panics, a drop guard stores the cursor of the last *completed* event, halts
//! the graph and closes the ring, so downstream consumers stop after the complete events and
//! producers get `Closed`; the panic is then reported by `Disruptor::shutdown`.

use core::fmt;

use gearset_sync::{
    Arc,
    atomic::Ordering::{Acquire, Release},
    thread,
    wait::WaitStrategy,
};

use crate::{
    control::Notify,
    flavors::Flavor,
    handler::{EventContext, EventHandler},
    ring::Cursor,
    shared::Shared,
    slip::Slip,
};

/// What a consumer waits on.
pub(crate) enum Barrier {
    /// The producers' publications.
    Publisher,
    /// Upstream consumers: a sequence is available once each of them finished it.
    Upstream(Box<[Arc<Cursor>]>),
}

impl Barrier {
    /// The first sequence `>= next` that is not available, at most `limit` when that bound
    /// matters to the scan (callers clamp).
    #[inline]
    pub(crate) fn available<E, S: Flavor>(
        &self,
        shared: &Shared<E, S>,
        next: u64,
        limit: u64,
    ) -> u64 {
        match self {
            Self::Publisher => shared.seq.available(next, limit),
            Self::Upstream(cursors) => {
                let mut min = u64::MAX;
                for c in cursors.iter() {
                    // Acquire: pairs with the upstream's Release in `Links::release`, so its
                    // work on these events happens before ours. [TLA: ConsumerWait]
                    min = min.min(c.load(Acquire));
                }
                min
            }
        }
    }
}

/// A consumer's place in the graph.
pub(crate) struct Links {
    /// Sequences below this are done by this consumer. Written only by it (Release).
    pub(crate) cursor: Arc<Cursor>,
    pub(crate) barrier: Barrier,
    /// Sleeping-capable strategies of the consumers that depend on this one.
    pub(crate) downstream: Box<[Box<dyn Notify>]>,
    /// `true` for a final consumer when the producer wait strategy can sleep.
    pub(crate) wakes_producers: bool,
}

impl Links {
    /// Marks every sequence below `done` finished and wakes whoever waits on that.
    #[inline]
    pub(crate) fn release<E, S: Flavor>(&self, shared: &Shared<E, S>, done: u64) {
        // Release: our reads of the slots happen before a producer's overwrite (its Acquire in
        // `Control::min_gating`) and before downstream reads (`Barrier::available`). [TLA: ReleaseCursor]
        self.cursor.store(done, Release);
        gearset_sync::trace_action!(
            "ReleaseCursor",
            "cursor'[SELF] = {done} /\\ cpc'[SELF] = \"wait\" /\\ cpc'[SELF] # cpc[SELF]"
        );
        for n in self.downstream.iter() {
            n.notify();
        }
        if self.wakes_producers {
            shared.ctl.producer_wait.notify();
        }
    }

    /// The next step for a consumer at `next`: `Some(avail)` with `avail > next`, or `None`
    /// when it should stop (stream ended, or graph halted and nothing is left). With `slip`
    /// on, a short batch may wait for a streaming producer to get ahead (`slip.rs`).
    pub(crate) fn poll_state<E, S: Flavor>(
        &self,
        shared: &Shared<E, S>,
        next: u64,
        limit: u64,
        slip: Slip,
    ) -> Step {
        let avail = self.barrier.available(shared, next, limit);
        if avail > next {
            let avail = slip.settle(next, avail, |from| {
                self.barrier.available(shared, from, limit)
            });
            return ready(avail, limit);
        }
        if shared.ctl.end() <= next {
            gearset_sync::trace_action!(
                "ConsumerWait",
                "cpc'[SELF] = \"done\" /\\ cpc'[SELF] # cpc[SELF]"
            );
            return Step::Done;
        }
        if shared.ctl.is_halted() {
            // Re-read after seeing the halt: a panicking upstream stored its cursor before it
            // set the flag, and those complete events are still ours to handle.
            let avail = self.barrier.available(shared, next, limit);
            return if avail > next {
                ready(avail, limit)
            } else {
                Step::Done
            };
        }
        Step::Empty
    }
}

/// A batch `next..min(avail, limit)` is ready: the spec's `ConsumerWait` to "read".
#[inline]
#[cfg_attr(not(gearset_trace), allow(unused_variables))]
fn ready(avail: u64, limit: u64) -> Step {
    gearset_sync::trace_action!(
        "ConsumerWait",
        "cpc'[SELF] = \"read\" /\\ bhi'[SELF] = {} /\\ cpc'[SELF] # cpc[SELF]",
        avail.min(limit)
    );
    Step::Ready(avail)
}

/// See [`Links::poll_state`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Step {
    Ready(u64),
    Empty,
    Done,
}

/// Stores the progress of a consumer that unwinds, then halts the graph.
pub(crate) struct Progress<'a, E, S: Flavor> {
    pub(crate) shared: &'a Shared<E, S>,
    pub(crate) links: &'a Links,
    /// Events below this were handled completely.
    pub(crate) done: u64,
    /// Halt the graph on a panic (consumer threads do; pollers leave that to their owner).
    pub(crate) halt_on_panic: bool,
}

impl<E, S: Flavor> Drop for Progress<'_, E, S> {
    fn drop(&mut self) {
        if !thread::panicking() {
            return;
        }
        self.links.release(self.shared, self.done);
        if self.halt_on_panic {
            self.shared.ctl.halt();
            self.shared.close();
        }
    }
}

/// One handler on its own thread.
pub(crate) struct Processor<E, S: Flavor, H, W> {
    pub(crate) shared: Arc<Shared<E, S>>,
    pub(crate) links: Links,
    pub(crate) handler: H,
    pub(crate) wait: Arc<W>,
    pub(crate) max_batch: u64,
    /// How far a streaming producer may get ahead before this consumer reads on.
    pub(crate) slip: Slip,
}

impl<E, S, H, W> Processor<E, S, H, W>
where
    S: Flavor,
    H: EventHandler<E>,
    W: WaitStrategy,
{
    /// The consumer thread's body: runs until the stream ends or the graph halts.
    pub(crate) fn run(mut self) {
        let shared = &*self.shared;
        let mut progress = Progress {
            shared,
            links: &self.links,
            done: 0,
            halt_on_panic: true,
        };
        loop {
            let next = progress.done;
            let limit = next.saturating_add(self.max_batch);
            let Some(avail) =
                wait_available(&*self.wait, shared, progress.links, next, limit, self.slip)
            else {
                break;
            };
            let hi = avail.min(limit);
            for seq in next..hi {
                let mut ctx = EventContext::new(seq + 1 == hi);
                // SAFETY: `seq < avail`, so it is published (or finished upstream, which read
                // it after publication), and our cursor is `<= seq` until `release` below (or
                // an early release after this call returned), so no producer can reclaim the
                // slot. [TLA: NoReadUnpublished, NoOverwriteUnread]
                unsafe {
                    shared
                        .ring
                        .read(seq, |e| self.handler.on_event(e, seq, &mut ctx))
                };
                progress.done = seq + 1;
                // Early release (LMAX's `setSequenceCallback`): after the handler returned,
                // so its `&E` is gone. Constant-false for closure handlers.
                if ctx.release_requested() {
                    progress.links.release(shared, seq + 1);
                }
            }
            progress.links.release(shared, hi);
        }
    }
}

/// Waits with `wait` until [`Links::poll_state`] is not `Empty`; `None` means stop.
///
/// Only the first poll may slip: a batch found after waiting is handled at once.
fn wait_available<E, S: Flavor, W: WaitStrategy>(
    wait: &W,
    shared: &Shared<E, S>,
    links: &Links,
    next: u64,
    limit: u64,
    slip: Slip,
) -> Option<u64> {
    let step = links.poll_state(shared, next, limit, slip);
    let step = match step {
        Step::Empty => loop {
            let ready = || match links.poll_state(shared, next, limit, Slip::OFF) {
                Step::Empty => None,
                step => Some(step),
            };
            // A timeout only re-enters the wait: the processor has no timeout callback.
            if let Ok(step) = wait.wait_for(ready) {
                break step;
            }
        },
        step => step,
    };
    match step {
        Step::Ready(avail) => Some(avail),
        _ => None,
    }
}

impl fmt::Debug for Links {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Relaxed/Acquire loads here are a racy snapshot for debugging; nothing pairs with them.
        f.debug_struct("Links")
            .field("cursor", &self.cursor.load(Acquire))
            .field("upstream", &matches!(self.barrier, Barrier::Upstream(_)))
            .finish_non_exhaustive()
    }
}
