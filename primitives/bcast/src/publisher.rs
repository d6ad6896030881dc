//! The writer handle: claim a sequence number, pass the gate, fill the slot, stamp it.

use core::fmt;

use gearset_sync::{
    Arc,
    atomic::Ordering::Relaxed,
    mutant, trace_action,
    wait::{Phased, WaitStrategy},
};

use crate::{
    Policy, SendError, StartAt, Subscriber,
    shared::{Shared, Start},
};

/// A writer. Clone it for more writers; all writers share one global sequence.
///
/// `Send + Sync` when `T: Send + Sync`: `send` takes `&self`, so one `Publisher` may also be
/// shared by reference. When the last `Publisher` is dropped, readers drain what is left and
/// then get `Closed`.
///
/// ```
/// use gearset_bcast::{Policy, channel};
///
/// let (publisher, mut subscriber) = channel(8, Policy::Backpressure);
/// let second = publisher.clone();
/// publisher.send(1).unwrap();
/// second.send(2).unwrap();
/// assert_eq!(subscriber.try_recv(), Ok(1));
/// assert_eq!(subscriber.try_recv(), Ok(2));
/// ```
pub struct Publisher<T, W: WaitStrategy = Phased> {
    pub(crate) shared: Arc<Shared<T, W>>,
}

impl<T, W: WaitStrategy> Publisher<T, W> {
    /// Sends `value` to every live reader, in the global sequence order.
    ///
    /// Backpressure: waits (through the writer wait strategy) while the slowest live reader
    /// is a full ring behind. Overwrite: never waits for readers; it may wait for a writer
    /// that claimed the same slot one lap earlier and has not finished, or for clones already
    /// under way in that one slot.
    ///
    /// Fails, giving `value` back, when no reader is live at the start of the call. A send
    /// already waiting when the last reader leaves completes (see [`StartAt::Oldest`]).
    ///
    /// ```
    /// use gearset_bcast::{Policy, channel};
    ///
    /// let (publisher, mut subscriber) = channel(2, Policy::Overwrite);
    /// for i in 0..5 {
    ///     publisher.send(i).unwrap(); // never blocks in Overwrite mode
    /// }
    /// assert_eq!(subscriber.try_recv(), Err(gearset_bcast::TryRecvError::Lagged(3)));
    /// assert_eq!(subscriber.try_recv(), Ok(3));
    /// ```
    pub fn send(&self, value: T) -> Result<(), SendError<T>> {
        if self.shared.reader_count() == 0 {
            trace_action!(
                "SendNoReader",
                "wpc'[SELF] = \"done\" /\\ wpc'[SELF] # wpc[SELF]"
            );
            return Err(SendError(value));
        }
        // Relaxed: the claim only hands out unique, dense numbers; the slot's stamp
        // publishes the value. [TLA: FetchAddTail]
        let seq = self.shared.tail.fetch_add(1, Relaxed);
        trace_action!(
            "FetchAddTail",
            "tail' = {} /\\ wseq'[SELF] = {seq} /\\ wpc'[SELF] = \"{}\" /\\ wpc'[SELF] # wpc[SELF]",
            seq + 1,
            match self.shared.policy {
                Policy::Backpressure => "claimed",
                Policy::Overwrite => "gated",
            }
        );
        self.write(seq, value);
        self.shared.reader_wait.notify_all();
        Ok(())
    }

    /// Sends every item of `items` as consecutive messages (one claim, one wake-up).
    ///
    /// Other writers' messages do not interleave with the batch. Fails, giving the batch
    /// back, when no reader is live.
    ///
    /// ```
    /// use gearset_bcast::{Policy, channel};
    ///
    /// let (publisher, mut subscriber) = channel(4, Policy::Backpressure);
    /// publisher.send_batch(vec![1, 2, 3]).unwrap();
    /// let mut out = Vec::new();
    /// assert_eq!(subscriber.try_recv_batch(&mut out, 10), Ok(3));
    /// assert_eq!(out, [1, 2, 3]);
    /// ```
    pub fn send_batch(&self, items: Vec<T>) -> Result<(), SendError<Vec<T>>> {
        if self.shared.reader_count() == 0 {
            return Err(SendError(items));
        }
        // Relaxed: as in `send`; a Vec's length is exact, so every claimed number gets
        // published. [TLA: FetchAddTail]
        let first = self.shared.tail.fetch_add(items.len() as u64, Relaxed);
        for (seq, value) in (first..).zip(items) {
            self.write(seq, value);
            if self.shared.policy == Policy::Backpressure {
                // A batch longer than the ring needs readers to move while it is written.
                self.shared.reader_wait.notify_all();
            }
        }
        self.shared.reader_wait.notify_all();
        Ok(())
    }

    /// Writes the claimed message `seq`.
    #[inline]
    fn write(&self, seq: u64, value: T) {
        let shared = &*self.shared;
        let locked = match shared.policy {
            Policy::Backpressure => {
                // (Mutant `bcast_no_gate`: writers ignore the slowest reader.)
                if !mutant::on("bcast_no_gate") {
                    shared.wait_for_room(seq);
                }
                false
            }
            Policy::Overwrite => true,
        };
        shared
            .slot(seq)
            .publish(seq, value, shared.capacity(), locked);
    }

    /// A new reader starting at `start`.
    ///
    /// ```
    /// use gearset_bcast::{Policy, StartAt, channel};
    ///
    /// let (publisher, mut first) = channel(4, Policy::Overwrite);
    /// publisher.send(1).unwrap();
    /// let mut late = publisher.subscribe(StartAt::Oldest);
    /// let mut next = publisher.subscribe(StartAt::Next);
    /// publisher.send(2).unwrap();
    /// assert_eq!(late.try_recv(), Ok(1));
    /// assert_eq!(next.try_recv(), Ok(2));
    /// # assert_eq!(first.try_recv(), Ok(1));
    /// ```
    pub fn subscribe(&self, start: StartAt) -> Subscriber<T, W>
    where
        T: Clone,
    {
        Subscriber::register(Arc::clone(&self.shared), Start::New(start))
    }

    /// The number of live readers. It may change at once under concurrent subscribes and
    /// drops; it is 0 only while no reader handle exists.
    ///
    /// ```
    /// use gearset_bcast::{Policy, channel};
    ///
    /// let (publisher, subscriber) = channel::<u8>(2, Policy::Overwrite);
    /// assert_eq!(publisher.reader_count(), 1);
    /// drop(subscriber);
    /// assert_eq!(publisher.reader_count(), 0);
    /// ```
    pub fn reader_count(&self) -> usize {
        self.shared.reader_count()
    }

    /// The ring's capacity: the requested one rounded up to a power of two.
    ///
    /// ```
    /// let (publisher, _s) = gearset_bcast::channel::<u8>(5, gearset_bcast::Policy::Overwrite);
    /// assert_eq!(publisher.capacity(), 8);
    /// ```
    pub fn capacity(&self) -> usize {
        self.shared.capacity() as usize
    }

    /// The channel's slow-reader policy.
    ///
    /// ```
    /// use gearset_bcast::{Policy, channel};
    /// let (publisher, _s) = channel::<u8>(2, Policy::Overwrite);
    /// assert_eq!(publisher.policy(), Policy::Overwrite);
    /// ```
    pub fn policy(&self) -> Policy {
        self.shared.policy
    }
}

impl<T, W: WaitStrategy> Clone for Publisher<T, W> {
    fn clone(&self) -> Self {
        self.shared.writer_joined();
        Self {
            shared: Arc::clone(&self.shared),
        }
    }
}

impl<T, W: WaitStrategy> Drop for Publisher<T, W> {
    fn drop(&mut self) {
        self.shared.writer_left();
    }
}

impl<T, W: WaitStrategy> fmt::Debug for Publisher<T, W> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Publisher")
            .field("shared", &*self.shared)
            .finish()
    }
}
