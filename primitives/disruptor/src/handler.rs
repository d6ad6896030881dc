//! What a consumer thread calls for each event: closures `FnMut(&E, u64, bool)`, or any
//! [`EventHandler`] (LMAX's `EventHandler`), which also gets an [`EventContext`] to release its
//! sequence before the end of the batch.

/// Handles the events of one consumer thread, in sequence order.
///
/// Every closure `FnMut(&E, sequence, end_of_batch)` is one. Implement it yourself to use the
/// [`EventContext`], for example to release slots early during a long batch:
///
/// ```
/// use gearset_disruptor::{Disruptor, EventContext, EventHandler};
///
/// /// Persists events in groups of 16, and lets producers reuse each group's slots as soon as
/// /// it is written (LMAX's `setSequenceCallback`).
/// struct Journal {
///     pending: Vec<u64>,
/// }
///
/// impl EventHandler<u64> for Journal {
///     fn on_event(&mut self, event: &u64, _sequence: u64, ctx: &mut EventContext) {
///         self.pending.push(*event);
///         if self.pending.len() == 16 || ctx.end_of_batch() {
///             self.pending.clear(); // "written to disk": the events are no longer needed
///             ctx.release();
///         }
///     }
/// }
///
/// let mut builder = Disruptor::single_producer(64, || 0u64).unwrap();
/// builder.handler(Journal { pending: Vec::new() }).add();
/// let (mut producer, disruptor) = builder.build().unwrap();
/// producer.publish_batch(64, |e, seq| *e = seq).unwrap();
/// disruptor.shutdown().unwrap();
/// ```
pub trait EventHandler<E>: Send + 'static {
    /// Handles `event`, published at `sequence`. `ctx` says whether it ends the batch and can
    /// release it early.
    fn on_event(&mut self, event: &E, sequence: u64, ctx: &mut EventContext);
}

impl<E, F> EventHandler<E> for F
where
    F: FnMut(&E, u64, bool) + Send + 'static,
{
    #[inline(always)]
    fn on_event(&mut self, event: &E, sequence: u64, ctx: &mut EventContext) {
        self(event, sequence, ctx.end_of_batch)
    }
}

/// Per-event context for an [`EventHandler`].
#[derive(Debug)]
pub struct EventContext {
    end_of_batch: bool,
    release: bool,
}

impl EventContext {
    pub(crate) fn new(end_of_batch: bool) -> Self {
        Self {
            end_of_batch,
            release: false,
        }
    }

    /// `true` for the last event of the batch the consumer took (flush buffered work here).
    #[inline]
    pub fn end_of_batch(&self) -> bool {
        self.end_of_batch
    }

    /// Marks this event and every earlier one done as soon as `on_event` returns, instead of
    /// at the end of the batch: producers may then overwrite their slots and downstream
    /// consumers may handle them while this consumer works on the rest of the batch.
    ///
    /// The release happens after `on_event` returns, never during it, so the `&E` the handler
    /// holds stays valid. Releasing the last event of a batch changes nothing (it is released
    /// anyway).
    #[inline]
    pub fn release(&mut self) {
        self.release = true;
    }

    /// `true` if [`release`](Self::release) was called for a non-final event.
    #[inline]
    pub(crate) fn release_requested(&self) -> bool {
        self.release && !self.end_of_batch
    }
}
