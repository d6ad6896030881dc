//! Conformance of the event count to `tla/sync/EventCount.tla`: shuttle runs of the spec's own
//! scenario (two waiters, one producer adding two items with notify_one after each), recorded
//! under `--cfg gearset_trace`, each replayed by tla-checker against
//! `models/EventCount_w2_i2_one.cfg`. Every action is recorded, so the replay may take no step
//! of its own (`MAX_STUTTER = 0`).
//!
//! The other direction, `spec_behaviours_replay_on_the_code`: random behaviours of the spec,
//! each driven through one event count on one thread (every process's step in turn, the thread
//! taking the process's role), checking after each step that the code's item counts are the
//! spec's and, at the end, that what the code recorded is a behaviour of the spec. One thread
//! cannot sleep and wake itself, and the code takes some spec steps in one call, so the walks
//! are restricted (`drivable`), each restriction a documented allowance:
//! - no `Enqueue` that goes to sleep and no `Wake`: a sleeping replay thread would never
//!   return (an `Enqueue` that finds the epoch moved, the locked re-check, is driven);
//! - `notify` is one call: while the producer is in it (`bump`, `scan`, `unpark`) only its own
//!   steps are taken, and `LoadWaiters` drives the whole call;
//! - `Key::wait` deregisters as it returns: after an `Enqueue` to `dereg` the next step is
//!   that waiter's `Deregister`.
//!
//! Run: `cargo xtask conformance`.
#![cfg(all(gearset_shuttle, gearset_trace))]
#![allow(clippy::disallowed_types)]

use std::{
    collections::{HashMap, HashSet},
    sync::atomic::AtomicUsize as StdAtomicUsize,
};

use gearset_models::{
    conformance::{SpecChecker, SpecStep, on_one_thread, record_runs},
    shuttle_iterations,
};
use gearset_sync::{
    Arc, EventCount,
    atomic::{
        AtomicUsize,
        Ordering::{AcqRel, Acquire, Relaxed, Release},
    },
    thread,
    trace::{self, Step},
    trace_action,
};

const MAX_STUTTER: usize = 0;

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

fn run_spec_scenario() -> Vec<Step> {
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
    trace::take()
}

#[test]
fn event_count_runs_are_spec_behaviours() {
    let runs = shuttle_iterations(1_000);
    let traces = record_runs(runs, runs, run_spec_scenario);
    let distinct: HashSet<Vec<Step>> = traces.iter().cloned().collect();
    let checker = SpecChecker::load(
        "sync/EventCount.tla",
        "sync/models/EventCount_w2_i2_one.cfg",
    );
    checker.check_runs("EventCount", &traces, MAX_STUTTER);

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

/// Producer steps inside one `notify` call.
const IN_NOTIFY: [&str; 3] = ["\"bump\"", "\"scan\"", "\"unpark\""];

/// The steps one thread can drive, given the code's granularity (module docs).
fn drivable(step: &SpecStep) -> bool {
    let waiters = ["w1", "w2", "w3"];
    let acting = step.changed_keys("pc");
    let in_notify = IN_NOTIFY.contains(&step.before.show("npc").as_str());
    let dereg = waiters.into_iter().find(|w| {
        step.before
            .show("pc")
            .contains(&format!("{w} :> \"dereg\""))
    });
    match step.action.as_str() {
        // Sleeping cannot be driven; `Finished` only stutters.
        "Wake" | "Finished" => false,
        "Enqueue" => step.after.show("pc").contains("\"dereg\"") && !in_notify && dereg.is_none(),
        "Deregister" => !in_notify && dereg.is_none_or(|w| acting == [w]),
        "BumpEpoch" | "ScanQueue" | "Unpark" => true,
        _ => !in_notify && dereg.is_none(),
    }
}

/// Drives one spec behaviour through an event count; returns the code's recorded trace.
fn replay(behaviour: &[SpecStep], notify_all: bool) -> Vec<Step> {
    let shared = Shared {
        items: AtomicUsize::new(0),
        consumed: StdAtomicUsize::new(0),
        ec: EventCount::new(),
    };
    let mut keys = HashMap::new();
    for (i, step) in behaviour.iter().enumerate() {
        let acting = step.changed_keys("pc");
        let role = acting.first().map_or("p", String::as_str);
        trace::set_role(role);
        match step.action.as_str() {
            "CheckCondition" | "Recheck" => {
                let took = take(&shared, role).is_some();
                let spec_took = step.after.int("consumed") > step.before.int("consumed");
                assert_eq!(took, spec_took, "step {i} {}({role})", step.action);
            }
            "PrepareWait" => {
                keys.insert(role.to_owned(), shared.ec.prepare_wait());
            }
            // The locked re-check finds the epoch moved (`drivable`): `wait` returns at once.
            "Enqueue" => keys.remove(role).expect("registered").wait(),
            "Deregister" => drop(keys.remove(role)),
            "AddItem" => {
                // Release: as in `run_spec_scenario`.
                let items = shared.items.fetch_add(1, Release) + 1;
                let produced = step.after.int("produced");
                trace_action!("AddItem", "items' = {items} /\\ produced' = {produced}");
            }
            "LoadWaiters" if notify_all => shared.ec.notify_all(),
            "LoadWaiters" => shared.ec.notify_one(),
            // Taken inside the `notify` call that LoadWaiters drove.
            "BumpEpoch" | "ScanQueue" | "Unpark" => {}
            other => panic!("no code for spec action {other}"),
        }
        let code = (
            shared.items.load(Relaxed) as i64,
            shared.consumed.load(Relaxed) as i64,
        );
        let spec = (step.after.int("items"), step.after.int("consumed"));
        assert_eq!(
            code, spec,
            "(items, consumed) after step {i} {}",
            step.action
        );
    }
    drop(keys);
    trace::take()
}

/// [`replay`] on one thread inside a shuttle execution.
fn replay_on_shuttle(behaviour: &[SpecStep], notify_all: bool) -> Vec<Step> {
    let behaviour = behaviour.to_vec();
    on_one_thread(move || replay(&behaviour, notify_all))
}

#[test]
fn spec_behaviours_replay_on_the_code() {
    let configs = [
        ("sync/models/EventCount_w2_i2_one.cfg", false),
        ("sync/models/EventCount_w3_i3_all.cfg", true),
    ];
    let (mut behaviours, mut steps) = (0, 0);
    for (cfg, notify_all) in configs {
        let checker = SpecChecker::load("sync/EventCount.tla", cfg);
        let drive = move |behaviour: &[SpecStep]| replay(behaviour, notify_all);
        let (b, s) = checker.replay_behaviours(0..100, 60, drivable, MAX_STUTTER, drive);
        (behaviours, steps) = (behaviours + b, steps + s);
    }
    println!(
        "conformance: EventCount replay: {behaviours} behaviours, {steps} steps, 0 discrepancies"
    );
}

/// The replay can fail: without the epoch re-check under the lock, the code sleeps where the
/// spec's `Enqueue` sees the epoch moved and returns, and the one replay thread never wakes
/// (shuttle reports the deadlock).
#[test]
fn replay_catches_the_missing_locked_recheck() {
    let checker = SpecChecker::load(
        "sync/EventCount.tla",
        "sync/models/EventCount_w2_i2_one.cfg",
    );
    let locked_recheck = |b: &Vec<SpecStep>| b.iter().any(|s| s.action == "Enqueue");
    let behaviour = (0..1_000)
        .map(|seed| checker.random_behaviour_where(seed, 60, drivable))
        .find(locked_recheck)
        .expect("some behaviour re-checks the epoch under the lock");
    gearset_sync::mutant::set(Some("eventcount_no_locked_recheck"));
    let run = std::panic::catch_unwind(|| replay_on_shuttle(&behaviour, false));
    gearset_sync::mutant::set(None);
    let message = run.expect_err("the mutant sleeps through a moved epoch");
    let message = message
        .downcast_ref::<String>()
        .map(String::as_str)
        .or_else(|| message.downcast_ref::<&str>().copied())
        .unwrap_or("");
    assert!(
        message.contains("deadlock"),
        "failed for another reason: {message}"
    );
}
