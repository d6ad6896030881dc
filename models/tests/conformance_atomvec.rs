//! Conformance of `AtomicVec` to `tla/atomvec/AtomicVec.tla`, both directions.
//!
//! **Code → spec.** Shuttle runs of the spec's own scenarios (two writers on cell 0, the
//! resizer `r` growing and shrinking, `reclaim` once everyone is done), recorded under
//! `--cfg gearset_trace` at every atomic step the spec names (`LoadCurrent`, `LoadLen`,
//! `LoadCell`, `CasCell`, `StartResize`, `FetchOrFreezeLen`, `CasSetLen`, `FetchOrFreezeCell`,
//! `CasCopyCell`, `CasSwingCurrent`, `Reclaim`), each distinct trace replayed by tla-checker
//! against the config of the same scenario. Every spec action the code takes is recorded, so
//! the replay may take no step of its own (`MAX_STUTTER = 0`). Loads whose result the code
//! discards (the fast path's, and `copy_cell`'s re-read of the frozen length) are not
//! recorded: they change no spec variable.
//!
//! **A discrepancy is caught.** The same scenarios with the `atomvec_naive_copy` code mutant
//! (the anchor's copy-then-swap: migration copies cells without freezing them) must be
//! rejected at the step that broke the protocol: the resizer's first `FetchOrFreezeLen`, which
//! leaves the length live where the spec freezes it.
//!
//! **Spec → code.** Random behaviours of the same configs are replayed against the code on one
//! thread (inside a one-iteration shuttle execution, since shuttle's atomics need one). The
//! code is driven at API granularity: a writer's operation runs when the spec's `CasCell`
//! succeeds (its linearization point), a resize when the spec's `StartResize` ends it in place
//! or its `CasSwingCurrent` completes the migration, `reclaim` at `Reclaim`; the other steps
//! are internal steps of those calls and are absorbed. After every step the value of cell 0,
//! the previous value each write returns, and (whenever no migration is in flight) the length,
//! the capacity and the retired capacity must match the spec's state.
//!
//! Run: `cargo xtask conformance`.
#![cfg(all(gearset_shuttle, gearset_trace))]
#![allow(clippy::disallowed_types)]

use std::collections::HashSet;

use gearset_atomvec::AtomicVec;
use gearset_models::{
    conformance::{SpecChecker, SpecState, SpecStep, record_runs, show},
    shuttle_iterations,
};
use gearset_sync::{
    Arc, mutant, shuttle, thread,
    trace::{self, Step},
};
use tla_checker::ast::Value;

const MAX_STUTTER: usize = 0;

/// One writer operation on cell 0, as in the configs' `WOps`.
#[derive(Clone, Copy, Debug)]
enum WOp {
    Add(u64),
    Store(u64),
}

/// One resizer operation, as in the configs' `ROps`.
#[derive(Clone, Copy, Debug)]
enum ROp {
    Grow(usize),
    Shrink(usize),
}

/// A spec configuration and the same scenario in Rust (the constants must match the cfg).
struct Scenario {
    cfg: &'static str,
    writers: [(&'static str, WOp); 2],
    resizes: &'static [ROp],
    /// The values cell 0 may end with (every interleaving's).
    finals: &'static [u64],
}

const SCENARIOS: [Scenario; 2] = [
    Scenario {
        cfg: "atomvec/models/AtomicVec_w2_grow_shrink.cfg",
        writers: [("w1", WOp::Add(1)), ("w2", WOp::Store(5))],
        resizes: &[ROp::Grow(2), ROp::Shrink(1)],
        finals: &[5, 6],
    },
    Scenario {
        cfg: "atomvec/models/AtomicVec_w2_grow_shrink_grow.cfg",
        writers: [("w1", WOp::Add(1)), ("w2", WOp::Add(2))],
        resizes: &[ROp::Grow(2), ROp::Shrink(1), ROp::Grow(2)],
        finals: &[3],
    },
];

fn write(v: &AtomicVec, op: WOp) -> u64 {
    match op {
        WOp::Add(d) => v.fetch_add(0, d),
        WOp::Store(x) => v.swap(0, x),
    }
    .expect("cell 0 survives every resize")
}

fn resize(v: &AtomicVec, op: ROp) -> usize {
    match op {
        ROp::Grow(n) => v.grow_to(n),
        ROp::Shrink(n) => v.shrink_to(n),
    }
    .expect("tiny resizes stay within the garbage bound")
}

/// One run of `scenario`: the writers on their own threads, the resizer on this one, then
/// `reclaim` (every thread done: a quiescent point). Returns the recorded trace.
fn run(scenario: &Scenario) -> Vec<Step> {
    let _ = trace::take(); // nothing of an earlier run
    trace::set_role("r");
    let v = Arc::new(AtomicVec::with_len(1));
    let writers: Vec<_> = scenario
        .writers
        .iter()
        .map(|&(role, op)| {
            let v = Arc::clone(&v);
            thread::spawn(move || {
                trace::set_role(role);
                write(&v, op);
            })
        })
        .collect();
    for &op in scenario.resizes {
        resize(&v, op);
    }
    for w in writers {
        w.join().unwrap();
    }
    let mut v = Arc::try_unwrap(v).unwrap_or_else(|_| panic!("every writer joined"));
    v.reclaim();
    let recorded = trace::take();
    let last = v.get(0).unwrap();
    assert!(scenario.finals.contains(&last), "cell 0 ends at {last}");
    recorded
}

/// `runs` random and `runs` PCT runs of `scenario`.
fn record(scenario: &'static Scenario, runs: usize) -> Vec<Vec<Step>> {
    record_runs(runs, runs, move || run(scenario))
}

#[test]
fn atomic_vec_runs_are_spec_behaviours() {
    let runs = shuttle_iterations(500);
    for scenario in &SCENARIOS {
        let traces = record(scenario, runs);
        let checker = SpecChecker::load("atomvec/AtomicVec.tla", scenario.cfg);
        checker.check_runs(&format!("AtomicVec {}", scenario.cfg), &traces, MAX_STUTTER);
    }
}

#[test]
fn naive_copy_mutant_is_rejected_at_the_unfrozen_length() {
    let scenario = &SCENARIOS[0];
    mutant::set(Some("atomvec_naive_copy"));
    let traces = record_lossy(scenario, shuttle_iterations(500) / 5);
    mutant::set(None);
    let checker = SpecChecker::load("atomvec/AtomicVec.tla", scenario.cfg);
    let distinct: HashSet<Vec<Step>> = traces.into_iter().collect();
    for trace in &distinct {
        let first_freeze = trace
            .iter()
            .position(|s| s.action == "FetchOrFreezeLen")
            .expect("every run migrates");
        let rejection = checker
            .check(trace, MAX_STUTTER)
            .expect_err("a migration that freezes nothing");
        assert_eq!(
            rejection.index,
            first_freeze,
            "rejected at `{}` ({}), not at the first freeze\n{}",
            rejection.line,
            rejection.message,
            show(trace)
        );
    }
    println!(
        "conformance: AtomicVec naive-copy mutant: {} distinct traces, each rejected at its first FetchOrFreezeLen",
        distinct.len()
    );
}

/// Like [`record`], but the mutant may lose a write, so the final value is not checked: a
/// run's trace is kept whatever cell 0 holds.
fn record_lossy(scenario: &'static Scenario, runs: usize) -> Vec<Vec<Step>> {
    let lossy = Scenario {
        finals: &[0, 1, 2, 3, 4, 5, 6, 7, 8],
        ..*scenario
    };
    let lossy: &'static Scenario = Box::leak(Box::new(lossy));
    record(lossy, runs)
}

/// `.v` of a `[st, v]` record (a buffer's length or a cell).
fn field_v(value: &Value) -> i64 {
    match value {
        Value::Record(r) => match r.get("v") {
            Some(Value::Int(v)) => *v,
            other => panic!("`v` is {other:?}"),
        },
        other => panic!("not a record: {other:?}"),
    }
}

/// The code's state against the spec's after one step.
fn compare(v: &AtomicVec, spec: &SpecState, at: usize, action: &str) {
    let ctx = || format!("after step {at} ({action})");
    let model = spec.int("model") as u64;
    assert_eq!(v.get(0), Ok(model), "cell 0 {}", ctx());
    let current = spec.int("current").to_string();
    let migrating = spec.at("next", &current) != &Value::Int(0);
    if !migrating {
        let len = field_v(spec.at("len", &current)) as usize;
        assert_eq!(v.len(), len, "len {}", ctx());
        let cap = spec.int_at("cap", &current) as usize;
        assert_eq!(v.capacity(), cap, "capacity {}", ctx());
    }
    let Value::Set(retired) = spec.get("retired") else {
        panic!("retired is a set")
    };
    let retired_cap: i64 = retired
        .iter()
        .map(|b| match b {
            Value::Int(b) => spec.int_at("cap", &b.to_string()),
            other => panic!("buffer id {other:?}"),
        })
        .sum();
    assert_eq!(v.retired_cells() as i64, retired_cap, "retired {}", ctx());
}

/// The spec's final state: every thread done and nothing retired (only `Done` stutters on).
fn finished(spec: &SpecState) -> bool {
    let Value::Fn(pc) = spec.get("pc") else {
        panic!("pc is a function")
    };
    let all_done = pc
        .values()
        .all(|p| matches!(p, Value::Str(s) if &**s == "done"));
    all_done && matches!(spec.get("retired"), Value::Set(r) if r.is_empty())
}

/// Drives `v` through one spec step (see the module docs for which steps are API calls).
/// Returns whether the step was an API call.
fn drive(v: &mut AtomicVec, scenario: &Scenario, step: &SpecStep, resizes: &mut usize) -> bool {
    let acted = step.changed_keys("pc");
    let ended = |who: &str| {
        acted.iter().any(|a| a == who)
            && matches!(step.after.at("pc", who), Value::Str(s) if &**s == "start" || &**s == "done" || &**s == "rstart")
    };
    match step.action.as_str() {
        "CasCell" => {
            let mut called = false;
            for &(role, op) in &scenario.writers {
                if ended(role) {
                    let expected = step.before.int_at("exp", role) as u64;
                    assert_eq!(write(v, op), expected, "{role}'s {op:?} returned");
                    called = true;
                }
            }
            called
        }
        "StartResize" | "CasSwingCurrent" if ended("r") => {
            resize(v, scenario.resizes[*resizes]);
            *resizes += 1;
            true
        }
        "Reclaim" => {
            v.reclaim();
            true
        }
        _ => false,
    }
}

#[test]
fn spec_behaviours_replay_on_the_code() {
    let behaviours = shuttle_iterations(500) / 5;
    let (mut replayed, mut steps) = (0, 0);
    let calls = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    for scenario in &SCENARIOS {
        let checker = SpecChecker::load("atomvec/AtomicVec.tla", scenario.cfg);
        for seed in 0..behaviours as u64 {
            let walk = checker.random_behaviour(seed, 400, finished);
            let last = &walk.last().expect("the spec takes a step").after;
            assert!(
                finished(last),
                "seed {seed}: the walk ends before every thread is done"
            );
            steps += walk.len();
            let calls = std::sync::Arc::clone(&calls);
            shuttle::check_random(
                move || {
                    let mut v = AtomicVec::with_len(1);
                    let mut resizes = 0;
                    for (at, step) in walk.iter().enumerate() {
                        if drive(&mut v, scenario, step, &mut resizes) {
                            calls.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                        }
                        compare(&v, &step.after, at, &step.action);
                    }
                    assert_eq!(resizes, scenario.resizes.len(), "every resize ran");
                },
                1,
            );
            replayed += 1;
        }
    }
    let _ = trace::take(); // the replay's own records
    let calls = calls.load(std::sync::atomic::Ordering::Relaxed);
    println!(
        "conformance: AtomicVec replay: {replayed} behaviours, {steps} steps ({calls} API calls, the other steps absorbed), 0 discrepancies"
    );
}
