//! The graph handle: owns the consumer threads, shuts them down, reports their panics.

use core::fmt;

use gearset_sync::{Arc, thread};

use crate::{
    builder::{Builder, ConsumerId},
    error::{BuildError, ConsumerPanic, ShutdownError},
    flavors::{Flavor, Multi, Single},
    poller::EventPoller,
    shared::Shared,
};

/// A consumer as the handle sees it.
pub(crate) enum Worker<E, S: Flavor> {
    Thread(String, thread::JoinHandle<()>),
    /// `None` once taken.
    Poller(Option<EventPoller<E, S>>),
}

/// A running disruptor: the ring, its consumer threads and pollers.
///
/// Dropping it shuts it down (like [`shutdown`](Self::shutdown), discarding panic reports).
///
/// ```
/// use gearset_disruptor::Disruptor;
/// use gearset_sync::wait::Yielding;
///
/// // A 3-stage pipeline: parse -> enrich -> journal.
/// let mut builder = Disruptor::single_producer(256, || 0u64).unwrap();
/// let parse = builder.consumer(|_: &u64, _, _| {}).wait_strategy(Yielding::new()).add();
/// let enrich = builder.then(&[parse], |_: &u64, _, _| {});
/// builder.then(&[enrich], |_: &u64, _, _| {});
/// let (mut producer, disruptor) = builder.build().unwrap();
/// producer.publish_batch(200, |e, seq| *e = seq).unwrap();
/// disruptor.shutdown().unwrap();
/// ```
pub struct Disruptor<E, S: Flavor> {
    shared: Arc<Shared<E, S>>,
    workers: Vec<Worker<E, S>>,
}

impl<E: Send + Sync + 'static> Disruptor<E, Single> {
    /// A builder for a ring of `capacity` slots, filled by `factory`, with one producer that
    /// claims without atomic read-modify-writes.
    ///
    /// `Err(Capacity)` unless `capacity` is a power of two (at most 2^62).
    pub fn single_producer(
        capacity: usize,
        factory: impl FnMut() -> E,
    ) -> Result<Builder<E, Single>, BuildError> {
        Builder::new(capacity, factory)
    }
}

impl<E: Send + Sync + 'static> Disruptor<E, Multi> {
    /// A builder for a ring of `capacity` slots, filled by `factory`, whose producer handle
    /// can be cloned across threads (`fetch_add` claims, per-slot availability flags).
    ///
    /// `Err(Capacity)` unless `capacity` is a power of two (at most 2^62).
    ///
    /// ```
    /// use gearset_disruptor::Disruptor;
    /// use gearset_sync::{Arc, atomic::{AtomicU64, Ordering::Relaxed}, thread};
    ///
    /// let count = Arc::new(AtomicU64::new(0));
    /// let mut builder = Disruptor::multi_producer(64, || 0u64).unwrap();
    /// let seen = Arc::clone(&count);
    /// builder.handle_events_with(move |_: &u64, _, _| { seen.fetch_add(1, Relaxed); });
    /// let (producer, disruptor) = builder.build().unwrap();
    /// let threads: Vec<_> = (0..3)
    ///     .map(|_| {
    ///         let mut producer = producer.clone();
    ///         thread::spawn(move || for i in 0..100 { producer.publish(|e, _| *e = i).unwrap(); })
    ///     })
    ///     .collect();
    /// drop(producer);
    /// for t in threads { t.join().unwrap(); }
    /// disruptor.join().unwrap(); // every producer dropped: consumers drain, then stop
    /// assert_eq!(count.load(Relaxed), 300);
    /// ```
    pub fn multi_producer(
        capacity: usize,
        factory: impl FnMut() -> E,
    ) -> Result<Builder<E, Multi>, BuildError> {
        Builder::new(capacity, factory)
    }
}

impl<E, S: Flavor> Disruptor<E, S> {
    pub(crate) fn new(shared: Arc<Shared<E, S>>, workers: Vec<Worker<E, S>>) -> Self {
        Self { shared, workers }
    }

    /// Closes the ring, lets every consumer handle every event published before the close
    /// (including claims in flight, which their producers finish), then joins the consumer
    /// threads. Producers get `Closed` from then on.
    ///
    /// Waits for producers holding a claim to publish it, and for pollers in the graph to
    /// poll the events their downstream consumers need. `Err` lists the handlers that panicked.
    pub fn shutdown(mut self) -> Result<(), ShutdownError> {
        self.shared.close();
        self.join_threads()
    }

    /// Waits until the consumers stop by themselves: after every producer was dropped (and
    /// the events were drained), or after a handler panicked. Does not close the ring.
    pub fn join(mut self) -> Result<(), ShutdownError> {
        self.join_threads()
    }

    /// Takes the [`EventPoller`] added with [`Builder::poller`]; `None` if `id` is not a
    /// poller or was already taken.
    pub fn take_poller(&mut self, id: ConsumerId) -> Option<EventPoller<E, S>> {
        match self.workers.get_mut(id.index())? {
            Worker::Poller(poller) => poller.take(),
            Worker::Thread(..) => None,
        }
    }

    /// `true` once the ring is closed (shutdown, last producer dropped, or a panic). Monotone.
    pub fn is_closed(&self) -> bool {
        self.shared.seq.is_closed()
    }

    /// `true` once a handler panicked. Monotone.
    pub fn is_halted(&self) -> bool {
        self.shared.ctl.is_halted()
    }

    /// Number of slots.
    pub fn capacity(&self) -> usize {
        self.shared.ctl.capacity as usize
    }

    fn join_threads(&mut self) -> Result<(), ShutdownError> {
        let mut panics = Vec::new();
        for worker in self.workers.drain(..) {
            if let Worker::Thread(name, handle) = worker
                && let Err(payload) = handle.join()
            {
                panics.push(ConsumerPanic { name, payload });
            }
        }
        if panics.is_empty() {
            Ok(())
        } else {
            Err(ShutdownError { panics })
        }
    }
}

impl<E, S: Flavor> Drop for Disruptor<E, S> {
    fn drop(&mut self) {
        if self.workers.iter().any(|w| matches!(w, Worker::Thread(..))) {
            self.shared.close();
            let _ = self.join_threads();
        }
    }
}

impl<E, S: Flavor> fmt::Debug for Disruptor<E, S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Disruptor")
            .field("sequencer", &self.shared.seq)
            .field("control", &self.shared.ctl)
            .field("consumers", &self.workers.len())
            .finish()
    }
}
