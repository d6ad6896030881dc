//! Wait strategies: how a thread waits for another to make progress.
//!
//! Every gearset primitive that waits (a barrier's laggards, a ring's consumers, a broadcast's
//! readers, idle scheduler workers) takes a [`WaitStrategy`] chosen by its user. The waiting
//! side calls [`WaitStrategy::wait_for`] with a condition; the side that makes progress
//! publishes its state first and then calls [`WaitStrategy::notify_all`] (or `notify_one`).
//! Shutdown is just another condition: the closing side sets its flag and notifies, and every
//! condition checks that flag.
//!
//! | strategy          | latency          | CPU while idle | wakes need `notify`? |
//! |-------------------|------------------|----------------|----------------------|
//! | [`BusySpin`]      | lowest           | one core each  | no (notify is free)  |
//! | [`Yielding`]      | low              | high           | no (notify is free)  |
//! | [`Phased`]        | low, then blocks | none once asleep | yes                |
//! | [`Blocking`]      | an OS wake-up    | none           | yes                  |
//!
//! Each strategy takes an optional timeout (`with_timeout`), after which `wait_for` returns
//! [`TimedOut`]: LMAX's `TimeoutBlockingWaitStrategy` is `Blocking::with_timeout`.
//!
//! Under loom and shuttle every spin is a yield to the scheduler (spinning strategies would
//! otherwise never let the notifier run), and timeouts expire at their first check
//! ([`crate::time`]).
//!
//! # Examples
//!
//! ```
//! use gearset_sync::{
//!     Arc,
//!     atomic::{AtomicBool, Ordering::{Acquire, Release}},
//!     thread,
//!     wait::{Phased, WaitStrategy},
//! };
//!
//! let shared = Arc::new((AtomicBool::new(false), Phased::default()));
//! let waiter = {
//!     let shared = Arc::clone(&shared);
//!     // Acquire: pairs with the Release store below.
//!     thread::spawn(move || shared.1.wait_for(|| shared.0.load(Acquire).then_some(())))
//! };
//! shared.0.store(true, Release);
//! shared.1.notify_all();
//! assert_eq!(waiter.join().unwrap(), Ok(()));
//! ```

mod blocking;
mod busy_spin;
mod phased;
mod yielding;

use core::fmt;

pub use blocking::Blocking;
pub use busy_spin::BusySpin;
pub use phased::Phased;
pub use yielding::Yielding;

use crate::time::{self, Duration, Instant};

/// A wait gave up because its deadline passed.
///
/// ```
/// use gearset_sync::wait::{BusySpin, TimedOut, WaitStrategy};
/// use std::time::Duration;
///
/// let spin = BusySpin::with_timeout(Duration::from_millis(1));
/// assert_eq!(spin.wait_for(|| None::<u32>), Err(TimedOut));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct TimedOut;

impl fmt::Display for TimedOut {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("the wait timed out")
    }
}

impl std::error::Error for TimedOut {}

/// How a thread waits for a condition that another thread makes true.
///
/// Contract, for implementors and users alike:
/// - `wait_for` returns `Ok(v)` only with a value `ready` produced, and `Err(TimedOut)` only
///   after the strategy's timeout passed and one last call of `ready` still gave `None`;
/// - a thread that makes a condition true and then calls `notify_all` wakes every thread in
///   `wait_for` on that condition (`notify_one`: at least one of them); no wake-up is lost;
/// - `ready` is called again after every wake-up, so it must be cheap and side-effect free
///   (apart from taking the value it returns).
pub trait WaitStrategy: Send + Sync + fmt::Debug {
    /// `true` if a waiter can sleep, so that the side making progress must call
    /// [`notify_all`](Self::notify_all) or [`notify_one`](Self::notify_one). `false` for the
    /// strategies that only poll ([`BusySpin`], [`Yielding`]): a primitive may then leave the
    /// notify call (free as it is) off its hot path at compile time.
    ///
    /// ```
    /// use gearset_sync::wait::{Blocking, BusySpin, WaitStrategy};
    ///
    /// assert!(!BusySpin::CAN_SLEEP);
    /// assert!(Blocking::CAN_SLEEP);
    /// ```
    const CAN_SLEEP: bool = true;

    /// Waits until `ready` returns `Some`, or `deadline` (if any) passes.
    fn wait_until<T>(
        &self,
        ready: impl FnMut() -> Option<T>,
        deadline: Option<Instant>,
    ) -> Result<T, TimedOut>;

    /// Wakes every waiter after the caller changed what they wait on. Free for spinning
    /// strategies.
    fn notify_all(&self);

    /// Wakes at least one waiter. Defaults to [`notify_all`](Self::notify_all).
    fn notify_one(&self) {
        self.notify_all();
    }

    /// The timeout this strategy was built with, if any.
    fn timeout(&self) -> Option<Duration>;

    /// Waits until `ready` returns `Some`, or the strategy's own timeout passes.
    fn wait_for<T>(&self, ready: impl FnMut() -> Option<T>) -> Result<T, TimedOut> {
        let deadline = self.timeout().and_then(time::deadline_after);
        self.wait_until(ready, deadline)
    }
}

/// Runs `ready` after each `step` until it gives `Some` or `deadline` passes: the loop every
/// non-blocking strategy shares.
fn poll_until<T>(
    mut ready: impl FnMut() -> Option<T>,
    deadline: Option<Instant>,
    mut step: impl FnMut(),
) -> Result<T, TimedOut> {
    loop {
        if let Some(value) = ready() {
            return Ok(value);
        }
        if deadline.is_some_and(time::expired) {
            return ready().ok_or(TimedOut);
        }
        step();
    }
}
