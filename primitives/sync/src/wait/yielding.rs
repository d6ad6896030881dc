//! Spin a little, then yield the time slice on every check. (LMAX `YieldingWaitStrategy`.)

use super::{TimedOut, WaitStrategy, poll_until};
use crate::{
    Backoff,
    time::{Duration, Instant},
};

/// Spins with exponential backoff, then yields the core between checks; never sleeps.
///
/// A good default when threads outnumber cores but latency still matters.
///
/// ```
/// use gearset_sync::wait::{WaitStrategy, Yielding};
/// let mut calls = 0;
/// let got = Yielding::new().wait_for(|| { calls += 1; (calls == 3).then_some(calls) });
/// assert_eq!(got, Ok(3));
/// ```
#[derive(Debug, Clone, Default)]
pub struct Yielding {
    timeout: Option<Duration>,
}

impl Yielding {
    /// Yields until the condition holds.
    pub const fn new() -> Self {
        Self { timeout: None }
    }

    /// Yields for at most `timeout`.
    pub const fn with_timeout(timeout: Duration) -> Self {
        Self {
            timeout: Some(timeout),
        }
    }
}

impl WaitStrategy for Yielding {
    /// Polls only: a notify never has anyone to wake.
    const CAN_SLEEP: bool = false;

    fn wait_until<T>(
        &self,
        ready: impl FnMut() -> Option<T>,
        deadline: Option<Instant>,
    ) -> Result<T, TimedOut> {
        let backoff = Backoff::new();
        poll_until(ready, deadline, || backoff.snooze())
    }

    #[inline]
    fn notify_all(&self) {}

    fn timeout(&self) -> Option<Duration> {
        self.timeout
    }
}
