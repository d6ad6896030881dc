//! Errors of the barrier and the superstep runtime. Failed operations give their value back.

use core::fmt;

use crate::barrier::ArrivalToken;

/// Why a barrier operation failed.
///
/// Every variant names a misuse or a failure of *another* participant; none of them is
/// transient except [`TimedOut`](Self::TimedOut).
///
/// ```
/// use gearset_starbarrier::{BarrierError, barrier};
/// use gearset_sync::wait::BusySpin;
///
/// assert_eq!(barrier(0, BusySpin::new()).unwrap_err(), BarrierError::ZeroParticipants);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum BarrierError {
    /// A barrier (or runtime) was built for zero participants.
    ZeroParticipants,
    /// The participant with this index dropped its handle while panicking: the barrier is
    /// broken, and no phase it has not arrived at will ever complete.
    Broken {
        /// Index of the first participant that panicked.
        participant: usize,
    },
    /// This handle has left the barrier ([`Member::leave`](crate::Member::leave)); it can no
    /// longer arrive or wait.
    Left,
    /// `arrive` (or `wait`) was called while an earlier arrival of this handle is still
    /// outstanding: pass that token to `wait_token` / `try_wait` first.
    ArrivalPending,
    /// The token was not issued by this handle for its outstanding arrival (it belongs to
    /// another member or another barrier).
    ForeignToken,
    /// The wait strategy's timeout passed before the phase completed. Only returned by the
    /// runtime's [`Worker::sync`](crate::Worker::sync), which keeps the arrival and resumes
    /// waiting on the next call.
    TimedOut,
}

impl fmt::Display for BarrierError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::ZeroParticipants => f.write_str("a barrier needs at least one participant"),
            Self::Broken { participant } => {
                write!(
                    f,
                    "the barrier is broken: participant {participant} panicked"
                )
            }
            Self::Left => f.write_str("this participant has left the barrier"),
            Self::ArrivalPending => {
                f.write_str("an earlier arrival is still outstanding: wait on its token first")
            }
            Self::ForeignToken => {
                f.write_str("the token belongs to another member or barrier, or was already used")
            }
            Self::TimedOut => f.write_str("the barrier phase did not complete before the timeout"),
        }
    }
}

impl std::error::Error for BarrierError {}

/// Why a wait on an [`ArrivalToken`] did not pass.
///
/// ```
/// use gearset_starbarrier::{WaitError, barrier};
/// use gearset_sync::wait::BusySpin;
///
/// let mut members = barrier(2, BusySpin::new()).unwrap();
/// let token = members[0].arrive().unwrap();
/// // Member 1 has not arrived: the token comes back.
/// let Err(WaitError::NotYet(token)) = members[0].try_wait(token) else { panic!() };
/// members[1].wait().unwrap();
/// assert_eq!(members[0].try_wait(token).unwrap(), 1);
/// ```
#[derive(Debug, PartialEq, Eq)]
pub enum WaitError {
    /// The phase has not completed (`try_wait`), or the wait strategy timed out (`wait`,
    /// `wait_token`). The arrival stands; wait on the returned token again.
    NotYet(ArrivalToken),
    /// The wait can never succeed.
    Failed(BarrierError),
}

impl WaitError {
    /// The barrier error, if this is [`Failed`](Self::Failed).
    pub fn failure(&self) -> Option<BarrierError> {
        match self {
            Self::NotYet(_) => None,
            Self::Failed(error) => Some(*error),
        }
    }
}

impl From<BarrierError> for WaitError {
    fn from(error: BarrierError) -> Self {
        Self::Failed(error)
    }
}

impl fmt::Display for WaitError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::NotYet(token) => write!(f, "phase {} has not completed yet", token.phase()),
            Self::Failed(error) => fmt::Display::fmt(error, f),
        }
    }
}

impl std::error::Error for WaitError {}

/// Why [`Worker::send`](crate::Worker::send) refused a message; the message comes back.
///
/// ```
/// use gearset_starbarrier::{SendError, run};
/// use gearset_sync::wait::BusySpin;
///
/// let (_, errors) = run(1, BusySpin::new(), (), |worker| worker.send(5, "hi")).unwrap();
/// assert_eq!(errors, vec![Err(SendError::NoSuchParticipant("hi"))]);
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SendError<M> {
    /// The destination index is not below the number of participants.
    NoSuchParticipant(M),
    /// The destination has left: nobody would ever read the message.
    ReceiverLeft(M),
    /// The sender has left, is between a timed-out arrival and its pass, or its last `sync`
    /// failed (broken barrier): sending now could race with the receiver.
    NotInSuperstep(M),
}

impl<M> SendError<M> {
    /// Takes the refused message back.
    pub fn into_inner(self) -> M {
        match self {
            Self::NoSuchParticipant(m) | Self::ReceiverLeft(m) | Self::NotInSuperstep(m) => m,
        }
    }
}

impl<M> fmt::Display for SendError<M> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::NoSuchParticipant(_) => "no participant with that index",
            Self::ReceiverLeft(_) => "the receiving participant has left",
            Self::NotInSuperstep(_) => "the sender is not inside a superstep",
        })
    }
}

impl<M: fmt::Debug> std::error::Error for SendError<M> {}
