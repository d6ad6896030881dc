//! Deadlines, on a clock the model checkers can live with.
//!
//! loom and shuttle do not model time: their timed waits never time out, and reading the real
//! clock would make a model nondeterministic. So under either checker [`expired`] answers `true`
//! as soon as it is asked: a deadline passes the first time a waiter checks it after one wait
//! attempt. That is one legal timing of a real run (the thread was descheduled for the whole
//! timeout), so every path a model explores is a path production can take.

pub use std::time::{Duration, Instant};

/// The deadline `timeout` from now, or `None` (wait forever) when it does not fit in an
/// `Instant`, as with `Duration::MAX`.
///
/// ```
/// use gearset_sync::time::{deadline_after, Duration};
/// assert!(deadline_after(Duration::from_secs(1)).is_some());
/// assert!(deadline_after(Duration::MAX).is_none());
/// ```
pub fn deadline_after(timeout: Duration) -> Option<Instant> {
    Instant::now().checked_add(timeout)
}

/// Whether `deadline` has passed. Always `true` under a model checker (see the module docs).
///
/// ```
/// use gearset_sync::time::{expired, Instant};
/// assert!(expired(Instant::now()));
/// ```
pub fn expired(deadline: Instant) -> bool {
    crate::MODEL_CHECKED || Instant::now() >= deadline
}

/// How long is left until `deadline` (zero once it passed, and always zero under a model
/// checker).
pub fn remaining(deadline: Instant) -> Duration {
    if crate::MODEL_CHECKED {
        return Duration::ZERO;
    }
    deadline.saturating_duration_since(Instant::now())
}
