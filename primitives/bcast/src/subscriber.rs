//! The reader handle: an owned cursor over the global sequence.

use core::fmt;

use gearset_sync::{
    Arc,
    atomic::Ordering::{Relaxed, Release},
    mutant,
    time::{self, Duration},
    trace_action,
    wait::{Phased, WaitStrategy},
};

use crate::{
    Policy, RecvError, RecvTimeoutError, StartAt, TryRecvError,
    shared::{Cursor, Shared, Start},
    slot::Read,
};

/// A reader. It owns its cursor: every message from its starting point on, in global
/// sequence order, or `Lagged(n)` for exactly the `n` messages it lost (Overwrite mode).
/// Drop it to unsubscribe; clone it for a second reader at the same position.
///
/// `Send` (and `Sync`) when `T: Send + Sync`; receiving takes `&mut self`.
///
/// ```
/// use gearset_bcast::{Policy, RecvError, channel};
///
/// let (publisher, mut a) = channel(4, Policy::Backpressure);
/// let mut b = a.clone();
/// publisher.send("hello").unwrap();
/// drop(publisher);
/// assert_eq!(a.recv(), Ok("hello"));
/// assert_eq!(b.recv(), Ok("hello"));
/// assert_eq!(a.recv(), Err(RecvError::Closed));
/// ```
pub struct Subscriber<T, W: WaitStrategy = Phased> {
    shared: Arc<Shared<T, W>>,
    /// This reader's private position; `cursor` is its published copy.
    state: ReaderState,
    /// The cursor as writers see it (Backpressure).
    publication: Publication,
    /// The registry entry's id.
    id: u64,
}

/// A reader's published cursor (Backpressure): `<= state.next`. Published lazily, to save
/// the release store and the writers' wake-up fence on most receives: once
/// `Shared::publish_every` (`capacity / 4`) messages were received since the last
/// publication, and always when the reader finds nothing to take (empty, lagged, closed) or is
/// about to block.
///
/// Liveness does not depend on the second rule: the lowest claimed, unpublished message `s`
/// is the furthest any blocked reader can be, and its unpublished progress is below
/// `publish_every <= capacity`, so the gate rescan lets the writer of `s` through (shuttle's
/// `backpressure_lazy_publication_*` find the deadlock when `publish_every` exceeds the
/// capacity). Publishing on run-out lets the other writers through as well, so a reader that
/// waits never holds back more than it has to.
#[derive(Debug)]
struct Publication {
    /// Read by gate rescans.
    cursor: Cursor,
    /// The last value stored to `cursor` (this reader's private copy).
    published: u64,
}

/// The reader's private position, owned by its `Subscriber` (kept apart from `shared` so the
/// wait closure can borrow it mutably while the wait strategy is borrowed shared).
#[derive(Debug)]
struct ReaderState {
    /// The next message to receive.
    next: u64,
    /// A lag found in the middle of a batch, reported by the next receive.
    pending_lag: u64,
}

/// One step of the reader's state machine.
enum Step<T> {
    Value(T),
    Empty,
    Lagged(u64),
    Closed,
}

impl<T: Clone, W: WaitStrategy> Subscriber<T, W> {
    pub(crate) fn register(shared: Arc<Shared<T, W>>, start: Start) -> Self {
        let (id, cursor, next) = shared.register(start);
        Self {
            shared,
            state: ReaderState {
                next,
                pending_lag: 0,
            },
            publication: Publication {
                cursor,
                published: next,
            },
            id,
        }
    }

    /// Receives the next message without waiting.
    ///
    /// Under concurrency: `Empty` means the next message was not published when we looked
    /// (in Overwrite mode also: a writer held its slot at that instant, either finishing this
    /// very message or lapping it; the next call then returns it or `Lagged`). `Lagged(n)` is
    /// exact and final: those `n` messages are gone for this reader. `Closed` is final.
    ///
    /// ```
    /// use gearset_bcast::{Policy, TryRecvError, channel};
    ///
    /// let (publisher, mut subscriber) = channel(2, Policy::Overwrite);
    /// assert_eq!(subscriber.try_recv(), Err(TryRecvError::Empty));
    /// publisher.send(5).unwrap();
    /// assert_eq!(subscriber.try_recv(), Ok(5));
    /// drop(publisher);
    /// assert_eq!(subscriber.try_recv(), Err(TryRecvError::Closed));
    /// ```
    pub fn try_recv(&mut self) -> Result<T, TryRecvError> {
        let step = self.state.step(&self.shared);
        let ran_out = !matches!(step, Step::Value(_));
        self.publication
            .publish(&self.shared, self.state.next, ran_out);
        match step {
            Step::Value(value) => Ok(value),
            Step::Empty => Err(TryRecvError::Empty),
            Step::Lagged(n) => Err(TryRecvError::Lagged(n)),
            Step::Closed => Err(TryRecvError::Closed),
        }
    }

    /// Receives the next message, waiting through the channel's reader wait strategy.
    ///
    /// ```
    /// use gearset_bcast::{Policy, channel};
    ///
    /// let (publisher, mut subscriber) = channel(2, Policy::Backpressure);
    /// let reader = std::thread::spawn(move || subscriber.recv());
    /// publisher.send(3).unwrap();
    /// assert_eq!(reader.join().unwrap(), Ok(3));
    /// ```
    pub fn recv(&mut self) -> Result<T, RecvError> {
        match self.wait(None) {
            Ok(value) => Ok(value),
            Err(RecvTimeoutError::Lagged(n)) => Err(RecvError::Lagged(n)),
            Err(_) => Err(RecvError::Closed),
        }
    }

    /// As [`recv`](Self::recv), giving up after `timeout`.
    ///
    /// ```
    /// use gearset_bcast::{Policy, RecvTimeoutError, channel};
    /// use std::time::Duration;
    ///
    /// let (_publisher, mut subscriber) = channel::<u8>(2, Policy::Backpressure);
    /// assert_eq!(
    ///     subscriber.recv_timeout(Duration::from_millis(1)),
    ///     Err(RecvTimeoutError::Timeout)
    /// );
    /// ```
    pub fn recv_timeout(&mut self, timeout: Duration) -> Result<T, RecvTimeoutError> {
        self.wait(time::deadline_after(timeout))
    }

    /// Receives up to `max` messages without waiting, appending them to `out`; returns how
    /// many. Publishes its cursor (and wakes writers) once for the whole batch. `Ok(0)` means
    /// empty.
    ///
    /// ```
    /// use gearset_bcast::{Policy, channel};
    ///
    /// let (publisher, mut subscriber) = channel(8, Policy::Overwrite);
    /// publisher.send_batch(vec![1, 2, 3]).unwrap();
    /// let mut out = Vec::new();
    /// assert_eq!(subscriber.try_recv_batch(&mut out, 2), Ok(2));
    /// assert_eq!(subscriber.try_recv_batch(&mut out, 2), Ok(1));
    /// assert_eq!(out, [1, 2, 3]);
    /// ```
    pub fn try_recv_batch(&mut self, out: &mut Vec<T>, max: usize) -> Result<usize, TryRecvError> {
        let result = self.take_batch(out, max);
        let ran_out = !matches!(result, Ok(n) if n == max);
        self.publication
            .publish(&self.shared, self.state.next, ran_out);
        result
    }

    /// Waits for at least one message, then takes up to `max` like
    /// [`try_recv_batch`](Self::try_recv_batch).
    ///
    /// ```
    /// use gearset_bcast::{Policy, channel};
    ///
    /// let (publisher, mut subscriber) = channel(8, Policy::Backpressure);
    /// publisher.send_batch(vec![1, 2]).unwrap();
    /// let mut out = Vec::new();
    /// assert_eq!(subscriber.recv_batch(&mut out, 8), Ok(2));
    /// ```
    pub fn recv_batch(&mut self, out: &mut Vec<T>, max: usize) -> Result<usize, RecvError> {
        if max == 0 {
            return Ok(0);
        }
        out.push(self.recv()?);
        match self.try_recv_batch(out, max - 1) {
            Ok(n) => Ok(n + 1),
            // Closed or Lagged after a message: report it on the next call.
            Err(TryRecvError::Lagged(n)) => {
                self.state.pending_lag = n;
                Ok(1)
            }
            Err(_) => Ok(1),
        }
    }

    /// A second reader starting at `start`, as
    /// [`Publisher::subscribe`](crate::Publisher::subscribe).
    ///
    /// ```
    /// use gearset_bcast::{Policy, StartAt, channel};
    ///
    /// let (publisher, mut first) = channel(4, Policy::Backpressure);
    /// publisher.send(1).unwrap();
    /// let mut second = first.subscribe(StartAt::Next);
    /// publisher.send(2).unwrap();
    /// assert_eq!(second.try_recv(), Ok(2));
    /// # assert_eq!(first.try_recv(), Ok(1));
    /// ```
    pub fn subscribe(&self, start: StartAt) -> Self {
        Self::register(Arc::clone(&self.shared), Start::New(start))
    }

    /// How many messages were claimed by writers past this reader's cursor: an upper bound of
    /// what `try_recv` can return now (some may be mid-write, some lost in Overwrite mode). It
    /// only grows under concurrent sends; only this reader's receives shrink it.
    ///
    /// ```
    /// use gearset_bcast::{Policy, channel};
    ///
    /// let (publisher, mut subscriber) = channel(4, Policy::Overwrite);
    /// publisher.send(1).unwrap();
    /// assert_eq!(subscriber.len(), 1);
    /// subscriber.try_recv().unwrap();
    /// assert!(subscriber.is_empty());
    /// ```
    pub fn len(&self) -> u64 {
        // Relaxed: a snapshot bound; no data is read through the tail.
        self.shared
            .tail
            .load(Relaxed)
            .saturating_sub(self.state.next)
    }

    /// `len() == 0`, with the same caveats.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Whether every writer is gone. Once `true` it stays `true`; messages may still be left
    /// to drain.
    ///
    /// ```
    /// use gearset_bcast::{Policy, channel};
    ///
    /// let (publisher, subscriber) = channel::<u8>(2, Policy::Overwrite);
    /// drop(publisher);
    /// assert!(subscriber.is_closed());
    /// ```
    pub fn is_closed(&self) -> bool {
        self.shared.writers_gone()
    }

    /// Blocks until a message, a lag, `Closed`, or the deadline.
    fn wait(&mut self, deadline: Option<time::Instant>) -> Result<T, RecvTimeoutError> {
        let shared = &*self.shared;
        let state = &mut self.state;
        let publication = &mut self.publication;
        let ready = || match state.step(shared) {
            Step::Empty => {
                // About to block: a writer may be waiting for exactly this progress.
                publication.publish(shared, state.next, true);
                None
            }
            step => Some(step),
        };
        let step = shared.reader_wait.wait_until(ready, deadline);
        let ran_out = !matches!(step, Ok(Step::Value(_)));
        self.publication
            .publish(&self.shared, self.state.next, ran_out);
        match step {
            Ok(Step::Value(value)) => Ok(value),
            Ok(Step::Lagged(n)) => Err(RecvTimeoutError::Lagged(n)),
            Ok(Step::Closed) => Err(RecvTimeoutError::Closed),
            Ok(Step::Empty) | Err(_) => Err(RecvTimeoutError::Timeout),
        }
    }

    /// Appends up to `max` messages to `out`, stopping at the first non-message.
    fn take_batch(&mut self, out: &mut Vec<T>, max: usize) -> Result<usize, TryRecvError> {
        let mut taken = 0;
        while taken < max {
            match self.state.step(&self.shared) {
                Step::Value(value) => out.push(value),
                Step::Empty => break,
                Step::Lagged(n) if taken == 0 => return Err(TryRecvError::Lagged(n)),
                Step::Closed if taken == 0 => return Err(TryRecvError::Closed),
                Step::Lagged(n) => {
                    self.state.pending_lag = n;
                    break;
                }
                Step::Closed => break,
            }
            taken += 1;
        }
        Ok(taken)
    }
}

impl Publication {
    /// Backpressure: publishes `next` to gate rescans and wakes blocked writers, when it moved
    /// by `publish_every` or when `ran_out` (the reader found nothing to take). Overwrite mode
    /// never reads the cursors: writers do not wait for readers.
    #[inline]
    fn publish<T, W: WaitStrategy>(&mut self, shared: &Shared<T, W>, next: u64, ran_out: bool) {
        let moved = next - self.published;
        if shared.policy == Policy::Overwrite || moved == 0 {
            return;
        }
        if moved < shared.publish_every && !ran_out {
            return;
        }
        self.published = next;
        // Release: pairs with the Acquire cursor loads in `Shared::advance_gate`: our clones
        // happen before any overwrite the gate then allows. [TLA: CloneGated]
        // (Mutant `bcast_cursor_relaxed`.)
        let order = if mutant::on("bcast_cursor_relaxed") {
            Relaxed
        } else {
            Release
        };
        self.cursor.store(next, order);
        // The clone of `next - 1` takes effect for the spec here, at the publication: the gate
        // keeps writers off the slot until now, so the slot still holds what we cloned. With
        // `publish_every == 1` (capacity <= 4, single receives: the conformance scenarios)
        // each publication covers exactly one clone. [TLA: CloneGated]
        trace_action!(
            "CloneGated",
            "recv'[SELF] = {} /\\ cursor'[SELF] = {next} /\\ rpc'[SELF] = \"idle\" /\\ rpc'[SELF] # rpc[SELF]",
            next - 1
        );
        shared.writer_wait.notify_all();
    }
}

impl ReaderState {
    /// One step at the cursor, without publishing it.
    #[inline]
    fn step<T: Clone, W: WaitStrategy>(&mut self, shared: &Shared<T, W>) -> Step<T> {
        if self.pending_lag != 0 {
            return Step::Lagged(core::mem::take(&mut self.pending_lag));
        }
        match self.read(shared) {
            Read::Value(value) => {
                self.next += 1;
                Step::Value(value)
            }
            Read::Overwritten => self.skip_lost(shared),
            Read::Empty if shared.writers_gone() => match self.read(shared) {
                // Every writer published before leaving; re-read after seeing 0 writers.
                Read::Value(value) => {
                    self.next += 1;
                    Step::Value(value)
                }
                Read::Overwritten => self.skip_lost(shared),
                Read::Empty => Step::Closed,
            },
            Read::Empty => Step::Empty,
        }
    }

    /// Reads the slot of `next`.
    #[inline]
    fn read<T: Clone, W: WaitStrategy>(&self, shared: &Shared<T, W>) -> Read<T> {
        let slot = shared.slot(self.next);
        match shared.policy {
            // SAFETY: Backpressure mode, and we are a live registered reader whose published
            // cursor is `<= next` (it is only ever set to `next`), so the gate keeps writers
            // off message `next`.
            Policy::Backpressure => unsafe { slot.read_gated(self.next) },
            Policy::Overwrite => slot.read_locked(self.next, self.next & (shared.capacity() - 1)),
        }
    }

    /// The message at `next` was overwritten: jump to the oldest retained message and report
    /// how many were skipped. [TLA: DoLag]
    #[cold]
    fn skip_lost<T>(&mut self, shared: &Shared<T, impl WaitStrategy>) -> Step<T> {
        // Relaxed: no data is read through the tail (stamps guard every read). The stamp we
        // just loaded with Acquire came from a writer whose claim precedes its stamp store,
        // so coherence already gives `tail > next + capacity`; the `max` keeps the jump
        // positive regardless. [TLA: DoLag]
        let tail = shared.tail.load(Relaxed);
        let resume = tail.saturating_sub(shared.capacity()).max(self.next + 1);
        let lost = resume - self.next;
        trace_action!(
            "LoadTailLag",
            "cursor'[SELF] = {resume} /\\ lost'[SELF] = lost[SELF] + {lost} /\\ recv'[SELF] = -3 /\\ rpc'[SELF] = \"idle\" /\\ rpc'[SELF] # rpc[SELF]"
        );
        self.next = resume;
        Step::Lagged(lost)
    }
}

impl<T: Clone, W: WaitStrategy> Clone for Subscriber<T, W> {
    /// A second reader at this reader's position: it will receive the same messages.
    fn clone(&self) -> Self {
        Self::register(Arc::clone(&self.shared), Start::At(self.state.next))
    }
}

impl<T, W: WaitStrategy> Drop for Subscriber<T, W> {
    fn drop(&mut self) {
        self.shared.unregister(self.id);
    }
}

impl<T, W: WaitStrategy> fmt::Debug for Subscriber<T, W> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Subscriber")
            .field("state", &self.state)
            .field("shared", &*self.shared)
            .finish()
    }
}
