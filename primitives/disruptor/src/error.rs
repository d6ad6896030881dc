//! Errors. Failed publishes give the caller's closure back.

use core::{any::Any, fmt};

pub use gearset_hqueue::PinError;

/// The builder rejected its configuration.
///
/// ```
/// use gearset_disruptor::{BuildError, Disruptor};
///
/// assert_eq!(Disruptor::single_producer(0, || 0u8).unwrap_err(), BuildError::Capacity(0));
/// assert_eq!(Disruptor::single_producer(6, || 0u8).unwrap_err(), BuildError::Capacity(6));
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BuildError {
    /// The capacity is 0, not a power of two, or above 2^62.
    Capacity(usize),
    /// The graph has no consumer (handler or poller): nothing would gate the producers.
    NoConsumers,
    /// A consumer asked to be pinned ([`ConsumerBuilder::pin_to`](crate::ConsumerBuilder::pin_to))
    /// to a CPU set it cannot run on: `Unsupported` off Linux, `Os(EINVAL)` for an empty set
    /// or one with no CPU this process may use.
    Pin {
        /// The consumer's name.
        consumer: String,
        /// Why the set cannot be used.
        error: PinError,
    },
}

impl fmt::Display for BuildError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Capacity(n) => write!(f, "capacity {n} is not a power of two in 1..=2^62"),
            Self::NoConsumers => f.write_str("the disruptor has no consumers"),
            Self::Pin { consumer, error } => write!(f, "cannot pin consumer {consumer}: {error}"),
        }
    }
}

impl std::error::Error for BuildError {}

/// The ring is closed (shut down, every producer dropped, or a handler panicked).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Closed;

impl fmt::Display for Closed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("the disruptor is closed")
    }
}

impl std::error::Error for Closed {}

/// Why a `try_` claim failed (internal; the public error carries the closure).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum TryClaimError {
    Full,
    Closed,
}

/// A `try_publish` failed; the closure that would have written the event is handed back.
///
/// ```
/// use gearset_disruptor::{Disruptor, TryPublishError};
///
/// let mut builder = Disruptor::single_producer(1, || 0u32).unwrap();
/// let poller = builder.poller(&[]);
/// let (mut producer, disruptor) = builder.build().unwrap();
/// producer.try_publish(|e, _| *e = 1).unwrap();
/// // The only slot is unread: the ring is full and the closure comes back.
/// let Err(TryPublishError::Full(write)) = producer.try_publish(|e, _| *e = 2) else { panic!() };
/// # drop((write, poller, disruptor));
/// ```
pub enum TryPublishError<F> {
    /// No room now: a gating consumer has not released the slot. Retry later.
    Full(F),
    /// The ring is closed; every later attempt fails too.
    Closed(F),
}

impl<F> TryPublishError<F> {
    /// The closure that was not run.
    pub fn into_inner(self) -> F {
        match self {
            Self::Full(f) | Self::Closed(f) => f,
        }
    }

    /// `true` for [`Full`](Self::Full).
    pub fn is_full(&self) -> bool {
        matches!(self, Self::Full(_))
    }

    pub(crate) fn new(error: TryClaimError, f: F) -> Self {
        match error {
            TryClaimError::Full => Self::Full(f),
            TryClaimError::Closed => Self::Closed(f),
        }
    }
}

impl<F> fmt::Debug for TryPublishError<F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Full(_) => f.write_str("Full(..)"),
            Self::Closed(_) => f.write_str("Closed(..)"),
        }
    }
}

impl<F> fmt::Display for TryPublishError<F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Full(_) => f.write_str("the ring is full"),
            Self::Closed(_) => f.write_str("the disruptor is closed"),
        }
    }
}

impl<F> std::error::Error for TryPublishError<F> {}

/// One consumer thread that panicked, as reported by [`Disruptor::shutdown`](crate::Disruptor::shutdown).
pub struct ConsumerPanic {
    /// The consumer's name (`Builder::consumer(..).name(..)`, or `consumer-<index>`).
    pub name: String,
    /// The panic payload, as `std::thread::JoinHandle::join` returns it.
    pub payload: Box<dyn Any + Send + 'static>,
}

impl ConsumerPanic {
    /// The panic message, when the payload is a string.
    pub fn message(&self) -> Option<&str> {
        let payload = &*self.payload;
        payload
            .downcast_ref::<&str>()
            .copied()
            .or_else(|| payload.downcast_ref::<String>().map(String::as_str))
    }
}

impl fmt::Debug for ConsumerPanic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ConsumerPanic")
            .field("name", &self.name)
            .field("message", &self.message())
            .finish()
    }
}

/// Consumer handlers panicked; every other consumer was still joined.
#[derive(Debug)]
pub struct ShutdownError {
    /// One entry per panicked consumer, in build order.
    pub panics: Vec<ConsumerPanic>,
}

impl fmt::Display for ShutdownError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} consumer(s) panicked", self.panics.len())?;
        for p in &self.panics {
            write!(
                f,
                "; {}: {}",
                p.name,
                p.message().unwrap_or("<non-string payload>")
            )?;
        }
        Ok(())
    }
}

impl std::error::Error for ShutdownError {}
