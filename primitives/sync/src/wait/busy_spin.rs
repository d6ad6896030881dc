//! Busy spinning: the lowest latency, one core burnt per waiter. (LMAX `BusySpinWaitStrategy`.)

use super::{TimedOut, WaitStrategy, poll_until};
use crate::{
    hint,
    time::{Duration, Instant},
};

/// Spins on the condition with `spin_loop` hints, never yielding the core.
///
/// Use it only with a core per waiting thread. Under a model checker each spin is a yield.
///
/// ```
/// use gearset_sync::wait::{BusySpin, WaitStrategy};
/// assert_eq!(BusySpin::new().wait_for(|| Some(7)), Ok(7));
/// ```
#[derive(Debug, Clone, Default)]
pub struct BusySpin {
    timeout: Option<Duration>,
}

impl BusySpin {
    /// Spins until the condition holds.
    pub const fn new() -> Self {
        Self { timeout: None }
    }

    /// Spins for at most `timeout`.
    pub const fn with_timeout(timeout: Duration) -> Self {
        Self {
            timeout: Some(timeout),
        }
    }
}

impl WaitStrategy for BusySpin {
    /// Polls only: a notify never has anyone to wake.
    const CAN_SLEEP: bool = false;

    fn wait_until<T>(
        &self,
        ready: impl FnMut() -> Option<T>,
        deadline: Option<Instant>,
    ) -> Result<T, TimedOut> {
        poll_until(ready, deadline, hint::spin_loop)
    }

    #[inline]
    fn notify_all(&self) {}

    fn timeout(&self) -> Option<Duration> {
        self.timeout
    }
}
