//! When `join` exposes its second closure: the reclaim throttle.
//!
//! `join` exposes `b` when another worker is idle (`Context::demand`). On inputs too small to
//! share that is wasted: the joiner finishes `a` and pops `b` back before the idle worker
//! (woken, or spinning in its search) reaches it, paying an exposure, a notify and a reclaim
//! for nothing, at every join that happens to find demand. The measured case: 1,000 × fib(10)
//! in one `install` on 2 workers exposed about 4 times per fib(10), and all but a handful of
//! those jobs came back unstolen.
//!
//! So each worker keeps a [`Throttle`]: after an exposed job comes back *unstolen*, the next
//! `window` joins that find demand run inline, without exposing. The window adapts so that, on
//! a worker whose exposures keep coming back, about one exposure happens per [`TARGET`] of
//! time (a heartbeat, as in Acar et al.'s heartbeat scheduling and chili/Spice): it doubles
//! while consecutive unstolen exposures come closer together than `TARGET`, holds while they
//! are `TARGET` to `4 × TARGET` apart, and halves beyond. An exposed job that *is* stolen
//! resets the throttle: the next join that finds demand exposes again. So does every job the
//! worker's main loop starts: the window must not carry over from the tail of one job (an
//! `install` of fib(30), say, whose last exposures came back) to the first, biggest joins of
//! the next, which is where splitting pays most.
//!
//! The clock is read only when an exposed job comes back unstolen (once per exposure, next to
//! the exposure's own atomic read-modify-writes and queue locks); the join fast path is
//! unchanged, and a join that finds demand pays one branch and a decrement while throttled.
//!
//! Why it is sound: the throttle decides only *whether* `b` is exposed, the choice `join`
//! already makes from a relaxed (possibly stale) hint. Running `b` inline is always correct,
//! and an exposed job is pushed, announced and notified exactly as before (`tla/sched`'s
//! `Push`; no wake-up is skipped, so the sleep/wake protocol and its models are unchanged).
//! What it costs: after a run of unstolen exposures, an idle worker may wait up to about
//! `TARGET` (or `4 × TARGET` while the window shrinks) for the next exposure; a stolen job ends
//! that at once.
//!
//! Under loom and shuttle the throttle stays open (no clock reads, which would make a model
//! nondeterministic): the models explore `join` with the same choices as before.

use gearset_sync::{
    MODEL_CHECKED,
    time::{Duration, Instant},
};

/// The interval the throttle aims for between exposures that keep coming back unstolen: the
/// most parallelism one throttled window can withhold, and 100 times the few hundred
/// nanoseconds an exposure and its reclaim cost. (Spice's heartbeat is 100 µs.)
pub(crate) const TARGET: Duration = Duration::from_micros(50);

/// The largest window, in joins (a bound on the doubling; `TARGET` normally stops it first).
const MAX_WINDOW: u32 = 1 << 24;

/// One worker's exposure throttle (module docs). Owned by the worker's `Context`; not shared.
#[derive(Debug, Default)]
pub(crate) struct Throttle {
    /// Joins that find demand and must still run inline before the next exposure.
    skip: u32,
    /// The skip granted after the last unstolen exposure; 0 after a steal.
    window: u32,
    /// When the last unstolen exposure came back; `None` after a steal.
    last: Option<Instant>,
}

impl Throttle {
    /// Whether this join, which found demand, should run inline anyway (counts it).
    #[inline]
    pub(crate) fn holds(&mut self) -> bool {
        if self.skip == 0 {
            return false;
        }
        self.skip -= 1;
        true
    }

    /// Open again, so the next join that finds demand exposes: the exposed job was stolen (a
    /// thief is there), or the worker starts a new job from its search (an `install`, a
    /// spawn, a stolen half), whose first joins are its biggest; a window learned on the tail
    /// of another job says nothing about them.
    pub(crate) fn reopen(&mut self) {
        *self = Self::default();
    }

    /// The exposed job came back unstolen: widen (or narrow) the window.
    pub(crate) fn reclaimed(&mut self) {
        if MODEL_CHECKED {
            return;
        }
        self.reclaimed_at(Instant::now());
    }

    /// [`reclaimed`](Self::reclaimed) at time `now` (tests pass their own clock).
    fn reclaimed_at(&mut self, now: Instant) {
        let since = self.last.map(|last| now.saturating_duration_since(last));
        self.window = next_window(self.window, since);
        self.skip = self.window;
        self.last = Some(now);
    }
}

/// The window after an unstolen exposure that came `since` the previous one (`None`: the
/// first since a steal).
fn next_window(window: u32, since: Option<Duration>) -> u32 {
    match since {
        Some(d) if d > 4 * TARGET => window / 2,
        Some(d) if d >= TARGET => window,
        _ => window.saturating_mul(2).saturating_add(1).min(MAX_WINDOW),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reclaims(t: &mut Throttle, start: Instant, gaps: &[Duration]) -> Vec<u32> {
        let mut now = start;
        gaps.iter()
            .map(|gap| {
                now += *gap;
                t.reclaimed_at(now);
                t.window
            })
            .collect()
    }

    #[test]
    fn window_doubles_while_reclaims_come_faster_than_the_target() {
        let mut t = Throttle::default();
        let fast = TARGET / 10;
        let windows = reclaims(&mut t, Instant::now(), &[fast; 5]);
        assert_eq!(windows, [1, 3, 7, 15, 31]);
    }

    #[test]
    fn window_holds_near_the_target_and_halves_beyond() {
        let mut t = Throttle::default();
        let fast = TARGET / 10;
        let windows = reclaims(
            &mut t,
            Instant::now(),
            &[fast, fast, fast, TARGET, 2 * TARGET, 5 * TARGET, 5 * TARGET],
        );
        assert_eq!(windows, [1, 3, 7, 7, 7, 3, 1]);
    }

    #[test]
    fn a_window_is_spent_one_join_at_a_time_and_a_steal_reopens() {
        let mut t = Throttle::default();
        assert!(!t.holds(), "open before any reclaim");
        let now = Instant::now();
        reclaims(&mut t, now, &[Duration::ZERO, Duration::ZERO]);
        assert_eq!((0..3).map(|_| t.holds()).collect::<Vec<_>>(), [true; 3]);
        assert!(!t.holds(), "a window of 3 holds 3 joins");
        reclaims(&mut t, now, &[Duration::ZERO]);
        t.reopen();
        assert!(!t.holds(), "a steal reopens at once");
        assert_eq!(
            reclaims(&mut t, now, &[Duration::ZERO]),
            [1],
            "and restarts at 1"
        );
    }

    #[test]
    fn window_is_bounded() {
        assert_eq!(next_window(MAX_WINDOW, None), MAX_WINDOW);
        assert_eq!(next_window(u32::MAX, Some(Duration::ZERO)), MAX_WINDOW);
    }
}
