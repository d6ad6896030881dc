//! Conformance of the event count to `tla/sync/EventCount.tla`: shuttle runs of the spec's own
//! scenario (two waiters, one producer adding two items with notify_one after each), recorded
//! under `--cfg gearset_trace`, each replayed by tla-checker against
//! `models/EventCount_w2_i2_one.cfg`. Every action is recorded, so the replay may take no step
//! of its own (`MAX_STUTTER = 0`).
//!
//! Run: `cargo xtask conformance`.
#![cfg(all(gearset_shuttle, gearset_trace))]
#![allow(clippy::disallowed_types)]

use std::{
    collections::HashSet,
    sync::{Mutex, atomic::AtomicUsize as StdAtomicUsize},
};

use gearset_models::{
    conformance::{SpecChecker, scenario_line},
    shuttle_iterations,
};
use gearset_sync::{
    Arc, EventCount,
    atomic::{
        AtomicUsize,
        Ordering::{AcqRel, Acquire, Relaxed, Release},
    },
    shuttle, thread,
    trace::{self, Step},
    trace_action,
};

const MAX_STUTTER: usize = 0;
static TRACES: Mutex<Vec<Vec<Step>>> = Mutex::new(Vec::new());

struct Shared {
    items: AtomicUsize,
    /// The spec's `consumed`: a std atomic, so that counting is not a shuttle scheduling point
    /// between the claim and its record.
    consumed: StdAtomicUsize,
    ec: EventCount,
}

/// The condition: claim an item. Recorded as the spec's CheckCondition, or Recheck when it
/// runs right after this waiter's prepare_wait.
fn take(shared: &Shared, role: &str) -> Option<()> {
    let recheck = trace::last_action_of(role) == Some("PrepareWait");
    // AcqRel: claims an item, pairing with the producer's Release fetch_add.
    let claimed = shared
        .items
        .fetch_update(AcqRel, Acquire, |n| n.checked_sub(1));
    let (action, took, missed) = if recheck {
        ("Recheck", "cancel", "lock")
    } else {
        ("CheckCondition", "done", "prepare")
    };
    match claimed {
        Ok(before) => {
            let consumed = shared.consumed.fetch_add(1, Relaxed) + 1;
            trace::record(
                action,
                format!(
                    "items' = {} /\\ consumed' = {consumed} /\\ pc'[SELF] = \"{took}\" /\\ pc'[SELF] # pc[SELF]",
                    before - 1
                ),
            );
            Some(())
        }
        Err(_) => {
            trace::record(
                action,
                format!("pc'[SELF] = \"{missed}\" /\\ pc'[SELF] # pc[SELF]"),
            );
            None
        }
    }
}

fn run_spec_scenario() {
    let shared = Arc::new(Shared {
        items: AtomicUsize::new(0),
        consumed: StdAtomicUsize::new(0),
        ec: EventCount::new(),
    });
    trace::set_role("p");
    let waiters: Vec<_> = ["w1", "w2"]
        .into_iter()
        .map(|role| {
            let shared = Arc::clone(&shared);
            thread::spawn(move || {
                trace::set_role(role);
                shared.ec.wait_until(|| take(&shared, role));
            })
        })
        .collect();
    for produced in 1..=2 {
        // Release: publishes the item to a waiter's claim.
        let items = shared.items.fetch_add(1, Release) + 1;
        trace_action!("AddItem", "items' = {items} /\\ produced' = {produced}");
        shared.ec.notify_one();
    }
    for waiter in waiters {
        waiter.join().unwrap();
    }
    TRACES.lock().unwrap().push(trace::take());
}

#[test]
fn event_count_runs_are_spec_behaviours() {
    let runs = shuttle_iterations(1_000);
    shuttle::check_random(run_spec_scenario, runs);
    shuttle::check_pct(run_spec_scenario, runs, 3);
    let traces = std::mem::take(&mut *TRACES.lock().unwrap());
    assert_eq!(traces.len(), 2 * runs, "every run recorded a trace");
    let distinct: HashSet<Vec<Step>> = traces.iter().cloned().collect();
    let checker = SpecChecker::load(
        "sync/EventCount.tla",
        "sync/models/EventCount_w2_i2_one.cfg",
    );
    let mut steps = 0;
    for trace in &distinct {
        if let Err(rejection) = checker.check(trace, MAX_STUTTER) {
            let lines: Vec<String> = trace.iter().map(scenario_line).collect();
            panic!(
                "the spec rejects step {} `{}`: {}\ntrace:\n{}",
                rejection.index,
                rejection.line,
                rejection.message,
                lines.join("\n")
            );
        }
        steps += trace.len();
    }
    println!(
        "conformance: EventCount: {} runs, {} distinct traces, {steps} steps, 0 discrepancies",
        traces.len(),
        distinct.len()
    );

    // The check can fail: drop one waiter's failed re-check from a trace (the
    // `eventcount_no_recheck` bug as a trace). A failed re-check changes only that waiter's pc,
    // so every other step stays valid and the spec must reject exactly that waiter's next step.
    // (A successful one also takes an item; another waiter's step could then break first.)
    let failed_recheck = |s: &Step| s.action == "Recheck" && s.predicate.contains("\"lock\"");
    let with_recheck = distinct.iter().find(|t| t.iter().any(failed_recheck));
    let mut broken = with_recheck
        .expect("some run re-checks in vain after prepare_wait")
        .clone();
    let at = broken.iter().position(failed_recheck).unwrap();
    let removed = broken.remove(at);
    let next_of_waiter = broken[at..]
        .iter()
        .position(|s| s.role == removed.role)
        .map(|i| at + i);
    let rejection = checker
        .check(&broken, MAX_STUTTER)
        .expect_err("a trace without its re-check");
    assert_eq!(
        Some(rejection.index),
        next_of_waiter,
        "rejected at {}: {}",
        rejection.line,
        rejection.message
    );
}
