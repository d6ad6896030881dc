//! Recording spec actions, for checking real runs against their TLA+ spec
//! (`--cfg gearset_trace`; nothing is compiled in otherwise).
//!
//! Each primitive calls [`trace_action!`](crate::trace_action) at the point where a TLA+ action
//! takes effect (right after the atomic operation or inside the critical section that is the
//! action), with a TLA+ predicate over the primed spec variables the action sets. Under shuttle
//! only one thread runs at a time and threads switch only at atomics and locks, so the log's
//! order is the run's real interleaving. The conformance harnesses in `models/` turn each log
//! into a tla-checker scenario and ask whether the spec has that behaviour.
//!
//! Threads are named after the spec's processes with [`set_role`] (`w1`, `p`, ...).
//!
//! The log is process-global: run one recording test at a time (`--test-threads=1`).

#![allow(clippy::disallowed_types)]

use std::{collections::HashMap, sync::Mutex};

use crate::thread::{self, ThreadId};

/// One recorded step: the spec action's name, the process that took it, and the predicate
/// over primed variables it made true.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Step {
    /// The TLA+ action, as named in the spec's `Next`.
    pub action: &'static str,
    /// The role of the thread that took it (see [`set_role`]).
    pub role: String,
    /// A TLA+ predicate over primed (and unprimed) spec variables.
    pub predicate: String,
}

// std locks, not the model's: recording must not add scheduling points of its own.
static LOG: Mutex<Vec<Step>> = Mutex::new(Vec::new());
static ROLES: Mutex<Option<HashMap<ThreadId, String>>> = Mutex::new(None);

/// Names the calling thread after a process of the spec (`w1`, `p`, ...).
pub fn set_role(role: &str) {
    let mut roles = ROLES.lock().unwrap_or_else(|e| e.into_inner());
    roles
        .get_or_insert_with(HashMap::new)
        .insert(thread::current().id(), role.to_owned());
}

/// The calling thread's role, or `"?"` if it has none.
pub fn role() -> String {
    let roles = ROLES.lock().unwrap_or_else(|e| e.into_inner());
    let role = roles
        .as_ref()
        .and_then(|r| r.get(&thread::current().id()).cloned());
    role.unwrap_or_else(|| "?".to_owned())
}

/// The role of another thread (a sleeper in a queue, say).
pub fn role_of(id: ThreadId) -> String {
    let roles = ROLES.lock().unwrap_or_else(|e| e.into_inner());
    roles
        .as_ref()
        .and_then(|r| r.get(&id).cloned())
        .unwrap_or_else(|| "?".to_owned())
}

/// Appends a step taken by the calling thread. Use [`trace_action!`](crate::trace_action).
pub fn record(action: &'static str, predicate: String) {
    let step = Step {
        action,
        role: role(),
        predicate,
    };
    LOG.lock().unwrap_or_else(|e| e.into_inner()).push(step);
}

/// The last action recorded by the thread with `role`, if any.
pub fn last_action_of(role: &str) -> Option<&'static str> {
    let log = LOG.lock().unwrap_or_else(|e| e.into_inner());
    log.iter().rev().find(|s| s.role == role).map(|s| s.action)
}

/// Takes the log recorded so far and forgets every role: the end of one run.
pub fn take() -> Vec<Step> {
    *ROLES.lock().unwrap_or_else(|e| e.into_inner()) = None;
    std::mem::take(&mut *LOG.lock().unwrap_or_else(|e| e.into_inner()))
}
