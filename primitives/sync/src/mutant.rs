//! Deliberate bugs, for proving that the model checkers can fail.
//!
//! A check that cannot fail proves nothing. So the code keeps, at a few places where a known bug
//! would be one missing line, a switch: `if !mutant::on("name") { <the line> }`. In a normal
//! build [`on`] is a constant `false` and the switch compiles away. In a loom or shuttle build it
//! reads the `GEARSET_MUTANT` environment variable once, so `cargo xtask loom` runs the same
//! model binary with one bug switched on at a time, without rebuilding, and requires the named
//! model to fail. A conformance suite switches one on for a single run with `set`.

/// Whether the mutant `name` is switched on: never outside a model-checker build.
#[inline(always)]
pub fn on(name: &str) -> bool {
    #[cfg(any(gearset_loom, gearset_shuttle))]
    {
        is_active(name)
    }
    #[cfg(not(any(gearset_loom, gearset_shuttle)))]
    {
        let _ = name;
        false
    }
}

/// Switches mutant `name` on (or, with `None`, every mutant off) for the rest of this process,
/// overriding `GEARSET_MUTANT`: a conformance suite shows that the spec rejects a buggy run by
/// switching the bug on for that run only. Only in model-checker builds; not for use while
/// another test of the same process runs (the switch is process-wide).
#[cfg(any(gearset_loom, gearset_shuttle))]
pub fn set(name: Option<&str>) {
    *switch().write().unwrap_or_else(|e| e.into_inner()) = name.map(str::to_owned);
}

/// The process-wide switch, read from `GEARSET_MUTANT` on first use. A std lock, not the
/// model's: this is configuration, not synchronization between model threads.
#[cfg(any(gearset_loom, gearset_shuttle))]
#[allow(clippy::disallowed_types)]
fn switch() -> &'static std::sync::RwLock<Option<String>> {
    static SWITCH: std::sync::OnceLock<std::sync::RwLock<Option<String>>> =
        std::sync::OnceLock::new();
    SWITCH.get_or_init(|| std::sync::RwLock::new(std::env::var("GEARSET_MUTANT").ok()))
}

#[cfg(any(gearset_loom, gearset_shuttle))]
fn is_active(name: &str) -> bool {
    let active = switch().read().unwrap_or_else(|e| e.into_inner());
    active.as_deref() == Some(name)
}
