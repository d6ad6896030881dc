//! Shared helpers for the loom and shuttle harnesses in `tests/`.
//!
//! Every harness file starts with `#![cfg(gearset_loom)]` or `#![cfg(gearset_shuttle)]`, so it
//! compiles to an empty test binary without its flag; `cargo xtask loom` / `cargo xtask shuttle`
//! set the flag and fail when a suite ran zero tests.
#![warn(missing_docs)]

#[cfg(gearset_trace)]
pub mod conformance;

/// Iterations for each shuttle scheduler run: `SHUTTLE_ITERATIONS` if set (the nightly tier
/// raises it), else `default`.
pub fn shuttle_iterations(default: usize) -> usize {
    std::env::var("SHUTTLE_ITERATIONS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}
