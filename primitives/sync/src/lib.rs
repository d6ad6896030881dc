//! The one synchronization facade of gearset: atomics, cells, threads, wait strategies and an
//! event count, on std, [loom] or [shuttle].
//!
//! Every gearset primitive imports its atomics, `Arc`, `Mutex`, `Condvar`, threads, spin hints
//! and `UnsafeCell` from here and nowhere else (`clippy.toml` enforces it). That is what lets one
//! compiler flag put the whole workspace under a model checker:
//!
//! | `RUSTFLAGS`                | backend     | what it checks                                   |
//! |----------------------------|-------------|--------------------------------------------------|
//! | (none)                     | `std`, `core` | nothing: zero-cost re-exports                  |
//! | `--cfg gearset_loom`       | [loom]      | every interleaving and C11 weak-memory outcome (bounded) |
//! | `--cfg gearset_shuttle`    | [shuttle]   | random and PCT schedules of many threads; atomics as `SeqCst` |
//!
//! Setting both is a compile error. The cfgs carry the `gearset_` prefix so that a downstream
//! crate's own `--cfg loom` never flips gearset.
//!
//! Progress and allocation: the re-exports are whatever the backend gives. [`Backoff`] and the
//! spinning [`wait`] strategies are lock-free. [`EventCount`] is lock-free for notifiers when
//! nobody sleeps (one `SeqCst` fence and one load) and blocking for waiters; it allocates only
//! on its sleeping path (the sleeper queue grows to the largest number of concurrent sleepers).
//!
//! # Examples
//!
//! Blocking on a flag without a lost wake-up, through the event count:
//!
//! ```
//! use gearset_sync::{
//!     Arc, EventCount,
//!     atomic::{AtomicBool, Ordering::{Acquire, Release}},
//!     thread,
//! };
//!
//! let ready = Arc::new((AtomicBool::new(false), EventCount::new()));
//! let waiter = {
//!     let ready = Arc::clone(&ready);
//!     thread::spawn(move || {
//!         // Acquire: pairs with the Release store below.
//!         ready.1.wait_until(|| ready.0.load(Acquire).then_some(()));
//!     })
//! };
//! // Release: publishes everything written before the flag.
//! ready.0.store(true, Release);
//! ready.1.notify_all();
//! waiter.join().unwrap();
//! ```
//!
//! # Trade-offs
//!
//! - loom has no timed waits and no real clock, and shuttle's timed waits never time out. Under
//!   either model checker a deadline counts as expired the first time it is checked after a
//!   wait attempt (see [`time`]). That is one legal timing of a real run, and it keeps models
//!   deterministic; a model that needs a blocking wait uses an untimed one.
//! - loom treats `SeqCst` accesses as `AcqRel` (loom#180), so every Dekker-style handshake in
//!   gearset is written with `SeqCst` *fences*, which loom does model.
//! - [`CachePadded`] is crossbeam-utils' type, re-exported: its per-architecture alignment table
//!   is maintained there, with sources.
//!
//! # How it works
//!
//! `src/backend/{std,loom,shuttle}.rs` each re-export one backend under the same names; `lib.rs`
//! picks one by cfg. [`cell::UnsafeCell`] wraps each backend's cell behind the loom-style
//! `with`/`with_mut` closure API, so unsafe accesses are tracked under loom and free elsewhere.
//! The event count follows Dmitry Vyukov's and Folly's design; its TLA+ spec is
//! `tla/sync/EventCount.tla` in the repository, with the action-to-function table in
//! `tla/sync/README.md`.
//!
//! # Feature flags
//!
//! None. The backend is chosen by `--cfg`, not by features, because a feature unified by Cargo
//! would silently put a release build under a model checker.
//!
//! [loom]: https://docs.rs/loom
//! [shuttle]: https://docs.rs/shuttle
#![deny(unsafe_op_in_unsafe_fn, missing_docs)]
#![warn(missing_debug_implementations, unreachable_pub, rust_2018_idioms)]

#[cfg(all(gearset_loom, gearset_shuttle))]
compile_error!("`--cfg gearset_loom` and `--cfg gearset_shuttle` are exclusive: set only one");

#[cfg_attr(gearset_loom, path = "backend/loom.rs")]
#[cfg_attr(gearset_shuttle, path = "backend/shuttle.rs")]
#[cfg_attr(not(any(gearset_loom, gearset_shuttle)), path = "backend/std.rs")]
mod backend;

mod backoff;
pub mod cell;
mod event_count;
#[doc(hidden)]
pub mod mutant;
pub mod time;
#[cfg(gearset_trace)]
pub mod trace;
pub mod wait;

pub use backend::{Arc, Condvar, Mutex, MutexGuard, atomic, hint, thread};
pub use backoff::Backoff;
pub use crossbeam_utils::CachePadded;
pub use event_count::{EventCount, Key};

/// Which backend this build of gearset runs on.
///
/// ```
/// assert_eq!(gearset_sync::BACKEND, gearset_sync::Backend::Std);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    /// `std` and `core`: the production build.
    Std,
    /// loom, selected by `--cfg gearset_loom`.
    Loom,
    /// shuttle, selected by `--cfg gearset_shuttle`.
    Shuttle,
}

/// The backend selected at compile time.
pub const BACKEND: Backend = backend::BACKEND;

/// `true` under loom or shuttle. Primitives use it to shrink constants (ring capacity, spin
/// counts) so that model-checked state spaces stay small, as tokio does with its queue size.
///
/// ```
/// let spins = if gearset_sync::MODEL_CHECKED { 1 } else { 64 };
/// assert!(spins > 0);
/// ```
pub const MODEL_CHECKED: bool = !matches!(BACKEND, Backend::Std);

/// Records that a TLA+ action took effect, with a predicate over the primed spec variables it
/// set, formatted like `format!`: `trace_action!("BumpEpoch", "epoch' = {}", epoch)`.
///
/// Under `--cfg gearset_trace` it appends to [`trace`]'s log; otherwise it expands to nothing
/// and its arguments are not evaluated.
#[cfg(gearset_trace)]
#[macro_export]
macro_rules! trace_action {
    ($action:literal, $($format:tt)+) => {
        $crate::trace::record($action, format!($($format)+))
    };
}

/// Records that a TLA+ action took effect (a no-op without `--cfg gearset_trace`; see the
/// traced build's docs).
#[cfg(not(gearset_trace))]
#[macro_export]
macro_rules! trace_action {
    ($($ignored:tt)*) => {};
}

/// loom itself, for the harnesses in `models/` (so that only this crate depends on it).
/// Outside semver, like the backend.
#[cfg(gearset_loom)]
pub use loom;
/// shuttle itself, for the harnesses in `models/` (so that only this crate depends on it).
/// Outside semver, like the backend.
#[cfg(gearset_shuttle)]
pub use shuttle;
