//! Block on an event count at once. (LMAX `BlockingWaitStrategy` and, with a timeout,
//! `TimeoutBlockingWaitStrategy`; ours has no lock on the notify path.)

use super::{TimedOut, WaitStrategy};
use crate::{
    EventCount,
    time::{Duration, Instant},
};

/// Parks the waiting thread on an [`EventCount`] until notified: no CPU while idle, an OS
/// wake-up of latency. `notify_all` costs one fence and one load when nobody sleeps.
///
/// ```
/// use gearset_sync::wait::{Blocking, TimedOut, WaitStrategy};
/// use std::time::Duration;
///
/// let blocking = Blocking::with_timeout(Duration::from_millis(1));
/// assert_eq!(blocking.wait_for(|| None::<()>), Err(TimedOut));
/// ```
#[derive(Debug, Default)]
pub struct Blocking {
    event_count: EventCount,
    timeout: Option<Duration>,
}

impl Blocking {
    /// Blocks until notified.
    pub fn new() -> Self {
        Self::default()
    }

    /// Blocks for at most `timeout`.
    pub fn with_timeout(timeout: Duration) -> Self {
        Self {
            event_count: EventCount::new(),
            timeout: Some(timeout),
        }
    }
}

impl WaitStrategy for Blocking {
    fn wait_until<T>(
        &self,
        ready: impl FnMut() -> Option<T>,
        deadline: Option<Instant>,
    ) -> Result<T, TimedOut> {
        self.event_count.wait_until_deadline(ready, deadline)
    }

    fn notify_all(&self) {
        self.event_count.notify_all();
    }

    fn notify_one(&self) {
        self.event_count.notify_one();
    }

    fn timeout(&self) -> Option<Duration> {
        self.timeout
    }
}
