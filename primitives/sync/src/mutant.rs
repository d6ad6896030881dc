//! Deliberate bugs, for proving that the model checkers can fail.
//!
//! A check that cannot fail proves nothing. So the code keeps, at a few places where a known bug
//! would be one missing line, a switch: `if !mutant::on("name") { <the line> }`. In a normal
//! build [`on`] is a constant `false` and the switch compiles away. In a loom or shuttle build it
//! reads the `GEARSET_MUTANT` environment variable once, so `cargo xtask loom` runs the same
//! model binary with one bug switched on at a time, without rebuilding, and requires the named
//! model to fail.

/// Whether the mutant `name` is switched on: never outside a model-checker build.
#[inline(always)]
pub fn on(name: &str) -> bool {
    #[cfg(any(gearset_loom, gearset_shuttle))]
    {
        active().is_some_and(|m| m == name)
    }
    #[cfg(not(any(gearset_loom, gearset_shuttle)))]
    {
        let _ = name;
        false
    }
}

#[cfg(any(gearset_loom, gearset_shuttle))]
fn active() -> Option<&'static str> {
    // A std OnceLock, not the model's: this is configuration read before any model thread
    // runs, not synchronization between them.
    #[allow(clippy::disallowed_types)]
    static ACTIVE: std::sync::OnceLock<Option<String>> = std::sync::OnceLock::new();
    ACTIVE
        .get_or_init(|| std::env::var("GEARSET_MUTANT").ok())
        .as_deref()
}
