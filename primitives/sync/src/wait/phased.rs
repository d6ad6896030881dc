//! Spin, then yield, then park. (LMAX `PhasedBackoffWaitStrategy` with a blocking fallback.)

use super::{TimedOut, WaitStrategy};
use crate::{
    Backoff, EventCount, MODEL_CHECKED,
    time::{self, Duration, Instant},
};

/// Spins and yields for a short while (crossbeam's backoff schedule: about 2^7 spins, then a
/// few yields), then parks on an [`EventCount`]. Low latency when the wait is short, no CPU
/// when it is long: the default for most of gearset.
///
/// ```
/// use gearset_sync::wait::{Phased, WaitStrategy};
/// assert_eq!(Phased::new().wait_for(|| Some("ready")), Ok("ready"));
/// ```
#[derive(Debug, Default)]
pub struct Phased {
    event_count: EventCount,
    timeout: Option<Duration>,
}

impl Phased {
    /// Spins, yields, then blocks until notified.
    pub fn new() -> Self {
        Self::default()
    }

    /// As [`new`](Self::new), giving up after `timeout` in all.
    pub fn with_timeout(timeout: Duration) -> Self {
        Self {
            event_count: EventCount::new(),
            timeout: Some(timeout),
        }
    }
}

impl WaitStrategy for Phased {
    fn wait_until<T>(
        &self,
        mut ready: impl FnMut() -> Option<T>,
        deadline: Option<Instant>,
    ) -> Result<T, TimedOut> {
        // Under a model checker the spin phase would only multiply the explored schedules by
        // its yields; the event count's own first check stands in for it.
        if !MODEL_CHECKED {
            let backoff = Backoff::new();
            while !backoff.is_completed() {
                if let Some(value) = ready() {
                    return Ok(value);
                }
                if deadline.is_some_and(time::expired) {
                    return ready().ok_or(TimedOut);
                }
                backoff.snooze();
            }
        }
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
