//! Errors. Failed sends give the value back.

use core::fmt;

/// A send found no live reader: nobody could ever receive the value, which is returned.
///
/// ```
/// use gearset_bcast::{Policy, SendError, channel};
///
/// let (publisher, subscriber) = channel::<u32>(4, Policy::Backpressure);
/// drop(subscriber);
/// assert_eq!(publisher.send(7), Err(SendError(7)));
/// ```
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct SendError<T>(pub T);

impl<T> fmt::Debug for SendError<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SendError(..)")
    }
}

impl<T> fmt::Display for SendError<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("sending on a broadcast channel with no reader")
    }
}

impl<T> std::error::Error for SendError<T> {}

/// Why [`Subscriber::recv`](crate::Subscriber::recv) returned no message.
///
/// ```
/// use gearset_bcast::{Policy, RecvError, channel};
///
/// let (publisher, mut reader) = channel(1, Policy::Overwrite);
/// publisher.send(1).unwrap();
/// publisher.send(2).unwrap();
/// drop(publisher);
/// assert_eq!(reader.recv(), Err(RecvError::Lagged(1)));
/// assert_eq!(reader.recv(), Ok(2));
/// assert_eq!(reader.recv(), Err(RecvError::Closed));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RecvError {
    /// The reader fell a full ring behind (Overwrite mode) and lost exactly this many
    /// messages; its next receive returns the oldest retained one.
    Lagged(u64),
    /// Every writer is gone and the reader has received everything left.
    Closed,
}

/// Why [`Subscriber::try_recv`](crate::Subscriber::try_recv) returned no message.
///
/// ```
/// use gearset_bcast::{Policy, TryRecvError, channel};
///
/// let (_publisher, mut reader) = channel::<u8>(1, Policy::Overwrite);
/// assert_eq!(reader.try_recv(), Err(TryRecvError::Empty));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TryRecvError {
    /// The next message is not published yet.
    Empty,
    /// As [`RecvError::Lagged`].
    Lagged(u64),
    /// As [`RecvError::Closed`].
    Closed,
}

/// Why [`Subscriber::recv_timeout`](crate::Subscriber::recv_timeout) returned no message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RecvTimeoutError {
    /// The timeout passed before the next message was published.
    Timeout,
    /// As [`RecvError::Lagged`].
    Lagged(u64),
    /// As [`RecvError::Closed`].
    Closed,
}

impl fmt::Display for RecvError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Lagged(n) => write!(f, "the reader lagged behind and lost {n} messages"),
            Self::Closed => f.write_str("every writer is gone and the channel is drained"),
        }
    }
}

impl fmt::Display for TryRecvError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Empty => f.write_str("no message is published yet"),
            Self::Lagged(n) => RecvError::Lagged(*n).fmt(f),
            Self::Closed => RecvError::Closed.fmt(f),
        }
    }
}

impl fmt::Display for RecvTimeoutError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Timeout => f.write_str("timed out waiting for a message"),
            Self::Lagged(n) => RecvError::Lagged(*n).fmt(f),
            Self::Closed => RecvError::Closed.fmt(f),
        }
    }
}

impl std::error::Error for RecvError {}
impl std::error::Error for TryRecvError {}
impl std::error::Error for RecvTimeoutError {}
