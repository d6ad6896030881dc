//! Conformance of gearset-sched's sleep/wake and termination protocol to
//! `tla/sched/Sched.tla` (config `models/Sched_w2_t2.cfg`).
//!
//! Runs → spec (`sched_runs_are_spec_behaviours`): the spec's scenario under shuttle, random and
//! PCT schedules: a pool of two workers, the owner spawns two empty jobs and drops the pool
//! (quiescence, shutdown, join). The scheduler records `Push`, `Search`, `Finish`, `Recheck`,
//! `Quiesce`, `Shutdown`, `Joined`; the event count underneath records its own actions
//! (`PrepareWait`, `LoadWaiters`, `BumpEpoch`, `ScanQueue`, `Unpark`, `Enqueue`, `Wake`,
//! `Deregister`), which the spec shares with `tla/sync/EventCount.tla`. Every spec action is
//! recorded, so the replay may take no step of its own (`MAX_STUTTER = 0`). Allowances, each a
//! documented simplification of the spec: the pop that misses a landing job and the backoff
//! spin before sleeping change no spec variable and are not recorded.
//!
//! The check can fail (`no_recheck_mutant_is_rejected_at_its_sleep`): runs with the code mutant
//! `sched_no_recheck` (a worker that sleeps without re-checking the queues after
//! `prepare_wait`) are rejected at that worker's `Enqueue`, the step after its `PrepareWait`.
//!
//! Spec → code (`spec_behaviours_replay_on_the_code`): random behaviours of the spec driven
//! through `gearset_sched::replay::Driver` on one thread, comparing after each step the code's
//! `counts` word with `(tasks, pending, shut)` and each search and re-check decision with the
//! spec's; the code's own records of the replay must again be a spec behaviour. Restrictions
//! (`drivable`), as for the event count: no `Wake` and no `Enqueue` that goes to sleep (one
//! thread cannot sleep and wake itself); a notify is one call (while the owner is in it only
//! its steps are taken); `Key::wait` deregisters as it returns (an `Enqueue` to `dereg` is
//! followed by that worker's `Deregister`); the final `Finished` stutter is not taken.
//!
//! Run: `cargo xtask conformance`.
#![cfg(all(gearset_shuttle, gearset_trace))]
#![allow(clippy::disallowed_types)]

use std::{collections::HashMap, panic};

use gearset_models::{
    conformance::{SpecChecker, SpecStep, record_runs, show},
    shuttle_iterations,
};
use gearset_sched::{
    Pool,
    replay::{Driver, SearchOutcome},
};
use gearset_sync::{
    mutant, shuttle,
    trace::{self, Step},
};

const SPEC: &str = "sched/Sched.tla";
const CFG: &str = "sched/models/Sched_w2_t2.cfg";
const WORKERS: usize = 2;
const TASKS: usize = 2;
const MAX_STUTTER: usize = 0;

/// The actions of `Sched.tla`. The queue tree underneath records its own steps (`Inject`,
/// `PopLocal`, `StartClimb`, ...) for `tla/hqueue/HQueue.tla`; they are not this spec's
/// (it abstracts the tree to a count) and are left out of the trace, the one filter here.
const SCHED_ACTIONS: [&str; 15] = [
    "Push",
    "Search",
    "Finish",
    "Recheck",
    "Quiesce",
    "Shutdown",
    "Joined",
    "PrepareWait",
    "LoadWaiters",
    "BumpEpoch",
    "ScanQueue",
    "Unpark",
    "Enqueue",
    "Wake",
    "Deregister",
];

/// The recorded steps of this spec's actions, in order.
fn sched_steps(trace: Vec<Step>) -> Vec<Step> {
    trace
        .into_iter()
        .filter(|s| SCHED_ACTIONS.contains(&s.action))
        .collect()
}

/// A TLA+ boolean as the checker shows it.
fn is_true(shown: String) -> bool {
    shown.eq_ignore_ascii_case("true")
}

fn run_spec_scenario() -> Vec<Step> {
    trace::set_role("p");
    let pool = Pool::new(WORKERS);
    for _ in 0..TASKS {
        drop(pool.spawn(|_| ()));
    }
    drop(pool);
    sched_steps(trace::take())
}

#[test]
fn sched_runs_are_spec_behaviours() {
    let runs = shuttle_iterations(900);
    let traces = record_runs(runs, runs, run_spec_scenario);
    let checker = SpecChecker::load(SPEC, CFG);
    checker.check_runs("Sched", &traces, MAX_STUTTER);
}

/// The index of the first `Enqueue` that directly follows the same worker's `PrepareWait`:
/// a sleep without the re-check.
fn sleep_without_recheck(trace: &[Step]) -> Option<usize> {
    trace.iter().enumerate().position(|(i, s)| {
        s.action == "Enqueue"
            && trace[..i]
                .iter()
                .rev()
                .find(|p| p.role == s.role)
                .map(|p| p.action)
                == Some("PrepareWait")
    })
}

/// Switches a mutant on for the guard's lifetime.
struct MutantOn;
impl MutantOn {
    fn new(name: &str) -> Self {
        mutant::set(Some(name));
        Self
    }
}
impl Drop for MutantOn {
    fn drop(&mut self) {
        mutant::set(None);
    }
}

#[test]
fn no_recheck_mutant_is_rejected_at_its_sleep() {
    let checker = SpecChecker::load(SPEC, CFG);
    let _on = MutantOn::new("sched_no_recheck");
    let mut tried = 0;
    let found = loop {
        assert!(
            tried < 500,
            "no run slept without its re-check in {tried} runs"
        );
        tried += 1;
        // A lost wake-up can leave the owner waiting for quiescence forever: shuttle then
        // reports a deadlock, and the partial trace is still in the log (a run that ends
        // took its own trace, and leaves the log empty).
        let _ = panic::catch_unwind(|| shuttle::check_random(|| drop(run_spec_scenario()), 1));
        let trace = sched_steps(trace::take());
        let trace = if trace.is_empty() {
            continue;
        } else {
            trace
        };
        if let Some(at) = sleep_without_recheck(&trace) {
            break (trace, at);
        }
    };
    let (trace, at) = found;
    let rejection = checker
        .check(&trace, MAX_STUTTER)
        .expect_err("a run that sleeps without the re-check");
    assert_eq!(
        rejection.index,
        at,
        "rejected at {} ({}) instead of the sleep at {at}:\n{}",
        rejection.line,
        rejection.message,
        show(&trace)
    );
    println!(
        "conformance: Sched mutant sched_no_recheck: rejected at step {at} `{}` (run {tried})",
        rejection.line
    );
}

/// Owner steps inside one notify call.
const IN_NOTIFY: [&str; 3] = ["\"bump\"", "\"scan\"", "\"unpark\""];
const ROLES: [&str; WORKERS] = ["w1", "w2"];

/// `pc[w]` as TLA+ shows it (`"run"`), read from the function's display
/// (`(w1 :> "run" @@ w2 :> "search")`).
fn pc_of(state: &gearset_models::conformance::SpecState, w: &str) -> String {
    let all = state.show("pc");
    let from = all.find(&format!("{w} :> ")).expect("a worker of the spec") + w.len() + 4;
    let rest = &all[from..];
    let end = rest[1..].find('"').expect("a quoted pc") + 2;
    rest[..end].to_owned()
}

/// The steps one thread can drive (module docs).
fn drivable(step: &SpecStep) -> bool {
    let in_notify = IN_NOTIFY.contains(&step.before.show("npc").as_str());
    let dereg = ROLES.iter().copied().find(|w| {
        step.before
            .show("pc")
            .contains(&format!("{w} :> \"dereg\""))
    });
    let acting = step.changed_keys("pc");
    match step.action.as_str() {
        "Wake" | "Finished" => false,
        "Enqueue" => step.after.show("pc").contains("\"dereg\"") && !in_notify && dereg.is_none(),
        "Deregister" => !in_notify && dereg.is_none_or(|w| acting == [w]),
        "BumpEpoch" | "ScanQueue" | "Unpark" => true,
        _ => !in_notify && dereg.is_none(),
    }
}

fn worker_index(role: &str) -> usize {
    ROLES
        .iter()
        .position(|r| *r == role)
        .expect("a worker role")
}

/// Drives one spec behaviour through the driver; returns the code's recorded trace.
fn replay(behaviour: &[SpecStep]) -> Vec<Step> {
    let driver = Driver::new(WORKERS);
    let mut keys = HashMap::new();
    for (i, step) in behaviour.iter().enumerate() {
        let acting = step.changed_keys("pc");
        let role = acting.first().map_or("p", String::as_str);
        trace::set_role(role);
        let what = format!("step {i} {}({role})", step.action);
        match step.action.as_str() {
            "Push" => driver.push(),
            "LoadWaiters" => driver.notify(is_true(step.before.show("all"))),
            "BumpEpoch" | "ScanQueue" | "Unpark" | "Joined" => {}
            "Search" => {
                let got = driver.search(worker_index(role));
                let want = match pc_of(&step.after, role).as_str() {
                    "\"run\"" => SearchOutcome::Run,
                    "\"exit\"" => SearchOutcome::Exit,
                    _ => SearchOutcome::Prepare,
                };
                assert_eq!(got, want, "{what}");
            }
            "Finish" => driver.finish(worker_index(role)),
            "PrepareWait" => {
                keys.insert(role.to_owned(), driver.prepare_wait());
            }
            "Recheck" => {
                let cancel = driver.recheck(worker_index(role));
                assert_eq!(cancel, pc_of(&step.after, role) == "\"cancel\"", "{what}");
            }
            // The locked re-check finds the epoch moved (`drivable`): `wait` returns at once
            // and deregisters (the next step, Deregister, is then absorbed).
            "Enqueue" => keys.remove(role).expect("registered").wait(),
            "Deregister" => {
                if let Some(key) = keys.remove(role) {
                    key.cancel();
                }
            }
            "Quiesce" => driver.quiesce(),
            "Shutdown" => driver.shutdown(),
            other => panic!("no code for spec action {other}"),
        }
        let spec = (
            step.after.int("tasks") as u64,
            step.after.int("pending") as u64,
            is_true(step.after.show("shut")),
        );
        assert_eq!(driver.counts(), spec, "(tasks, pending, shut) after {what}");
    }
    drop(keys);
    sched_steps(trace::take())
}

#[test]
fn spec_behaviours_replay_on_the_code() {
    let checker = SpecChecker::load(SPEC, CFG);
    let (behaviours, steps) = checker.replay_behaviours(0..150, 80, drivable, MAX_STUTTER, replay);
    println!("conformance: Sched replay: {behaviours} behaviours, {steps} steps, 0 discrepancies");
}
