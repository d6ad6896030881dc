//! Conformance of gearset-starbarrier to `tla/starbarrier/StarBarrier.tla`, both directions.
//!
//! **Recorded runs → spec.** Shuttle runs of the superstep runtime, recorded under
//! `--cfg gearset_trace`, each replayed by tla-checker against the config whose constants
//! match the scenario:
//!
//! - `two_workers` (`models/StarBarrier_n2_k2.cfg`: N = 2, K = 2, messages, one panic): each
//!   worker sends to the other, takes its serial turn and syncs, twice; variants where worker
//!   1 leaves, or panics, in superstep 1.
//! - `three_workers` (`models/StarBarrier_n3_k3.cfg`: N = 3, K = 3, no messages): the serial
//!   section rotating over three workers; variants where worker 2 leaves in superstep 1, and
//!   where worker 0 ends supersteps with the fuzzy `sync_with`.
//!
//! Every spec action is recorded where it takes effect (`barrier.rs`, `runtime.rs`), so the
//! replay takes no unrecorded step (`MAX_STUTTER = 0`); `Finished` is a stutter and never
//! needed. A worker's handle is dropped when its thread returns, which records the spec's
//! `Leave` from `done` or `failed` (see the spec's `Leave`).
//!
//! **The check can fail.** `injected_early_pass_is_rejected` re-runs this binary with the
//! code mutant `starbarrier_skip_last_peer` (a waiter's scan stops one peer early, the spec's
//! `MutantSomeArrived` in code) switched on for that child process only, and the child
//! requires every recorded trace to be rejected exactly at the first early `PassPhase`.
//!
//! **Spec behaviours → code.** `spec_behaviours_replay_on_the_code` walks random behaviours of
//! both configs and drives the workers through the same operations on one thread, with the
//! split-phase `Worker::arrive` / `Worker::try_sync`, comparing after every step. Absorbed:
//! `LoadEpochAcquire` (internal to `try_sync`'s scan; the code scans in index order, and since
//! epochs are monotone the order cannot change whether the phase completes), `ExitSerial`
//! (the code's `serial` runs the closure in one call, at `EnterSerial`) and `Finished`.
//!
//! Run: `cargo xtask conformance`.
#![cfg(all(gearset_shuttle, gearset_trace))]
#![allow(clippy::disallowed_types, clippy::disallowed_methods)]

use std::{
    collections::HashSet,
    panic::{AssertUnwindSafe, catch_unwind},
};

use gearset_models::{
    conformance::{SpecChecker, SpecStep, on_one_thread, record_runs},
    shuttle_iterations,
};
use gearset_starbarrier::{BarrierError, Worker, workers};
use gearset_sync::{
    mutant,
    thread::{self, JoinHandle},
    trace::{self, Step},
    wait::{BusySpin, Phased, WaitStrategy, Yielding},
};
use tla_checker::ast::Value;

const MAX_STUTTER: usize = 0;
const SPEC: &str = "starbarrier/StarBarrier.tla";
const CFG_N2: &str = "starbarrier/models/StarBarrier_n2_k2.cfg";
const CFG_N3: &str = "starbarrier/models/StarBarrier_n3_k3.cfg";
/// N = 2, K = 2, messages and a panic, and no `Leave` before a participant's run ended, so
/// that random walks do not end after a few steps (every process may leave at every step).
const CFG_STAY: &str = "starbarrier/models/StarBarrier_n2_k2_stay.cfg";
const EARLY_PASS: &str = "starbarrier_skip_last_peer";

/// What the scenario's odd participant does in superstep 1.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Twist {
    None,
    Leaves,
    Panics,
    Fuzzy,
}

/// A message: (sender, superstep sent in).
type Msg = (usize, u64);
/// The serial section's state: (superstep, holder) for every turn taken.
type Log = Vec<(u64, usize)>;

/// Spawns one thread per worker running `body` inside `catch_unwind` (a panic drops the
/// worker while unwinding, which breaks the barrier), with the worker's index as its role.
fn spawn_all<W: WaitStrategy + 'static>(
    ws: Vec<Worker<Log, Msg, W>>,
    body: fn(&mut Worker<Log, Msg, W>, Twist),
    twist: Twist,
) -> Vec<JoinHandle<()>> {
    ws.into_iter()
        .map(|mut w| {
            thread::spawn(move || {
                trace::set_role(&w.id().to_string());
                let _ = catch_unwind(AssertUnwindSafe(move || body(&mut w, twist)));
            })
        })
        .collect()
}

/// The actions of `StarBarrier.tla`. The parking wait strategies (`Phased`, `Blocking`) run
/// the event count, which records the steps of its own spec (`tla/sync/EventCount.tla`,
/// checked by `conformance_sync.rs`); those are dropped from the barrier's trace.
const ACTIONS: &[&str] = &[
    "StoreEpochRelease",
    "ArriveBroken",
    "LoadEpochAcquire",
    "PassPhase",
    "LoadBrokenAcquire",
    "PushMessage",
    "EnterSerial",
    "ExitSerial",
    "Leave",
    "CasBroken",
];

fn finish(handles: Vec<JoinHandle<()>>) -> Vec<Step> {
    for handle in handles {
        handle.join().unwrap();
    }
    let mut steps = trace::take();
    steps.retain(|s| ACTIONS.contains(&s.action));
    steps
}

/// Keeps the panics the scenarios cause on purpose (messages ending in "(intended)") out of
/// the output; every other panic is reported as usual.
fn quiet_intended_panics() {
    let report = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        let message = info
            .payload()
            .downcast_ref::<String>()
            .map(String::as_str)
            .or_else(|| info.payload().downcast_ref::<&str>().copied())
            .unwrap_or_default();
        if !message.ends_with("(intended)") {
            report(info);
        }
    }));
}

/// N = 2, K = 2: send to the other worker, serial turn, sync; worker 1 may leave or panic in
/// superstep 1.
fn two_workers_body(w: &mut Worker<Log, Msg, Yielding>, twist: Twist) {
    let me = w.id();
    for k in 0..2 {
        if me == 1 && k == 1 && twist == Twist::Leaves {
            w.leave().unwrap();
            return;
        }
        let _ = w.send(1 - me, (me, k)); // fails once the receiver left
        w.serial(|log| log.push((k, me)));
        if me == 1 && k == 1 && twist == Twist::Panics {
            panic!("worker 1 fails in superstep 1 (intended)");
        }
        if w.sync().is_err() {
            return;
        }
        let _ = w.messages().count();
    }
}

fn two_workers(twist: Twist) -> Vec<Step> {
    let ws = workers(2, Yielding::new(), Log::new()).unwrap();
    finish(spawn_all(ws, two_workers_body, twist))
}

/// N = 3, K = 3, no messages: serial turn, sync; worker 2 may leave in superstep 1, worker 0
/// may sync fuzzily.
fn three_workers_body(w: &mut Worker<Log, Msg, Phased>, twist: Twist) {
    let me = w.id();
    for k in 0..3 {
        if me == 2 && k == 1 && twist == Twist::Leaves {
            w.leave().unwrap();
            return;
        }
        w.serial(|log| log.push((k, me)));
        let mut idle = 2;
        let synced = if me == 0 && twist == Twist::Fuzzy {
            w.sync_with(|| {
                idle -= 1;
                idle > 0
            })
        } else {
            w.sync()
        };
        if synced.is_err() {
            return;
        }
    }
}

fn three_workers(twist: Twist) -> Vec<Step> {
    let ws = workers(3, Phased::new(), Log::new()).unwrap();
    finish(spawn_all(ws, three_workers_body, twist))
}

#[test]
fn recorded_runs_are_spec_behaviours() {
    assert!(!mutant::on(EARLY_PASS), "run without GEARSET_MUTANT");
    quiet_intended_panics();
    let runs = shuttle_iterations(200);
    let n2 = SpecChecker::load(SPEC, CFG_N2);
    let n3 = SpecChecker::load(SPEC, CFG_N3);
    for twist in [Twist::None, Twist::Leaves, Twist::Panics] {
        let traces = record_runs(runs, runs, move || two_workers(twist));
        n2.check_runs(
            &format!("StarBarrier 2 workers {twist:?}"),
            &traces,
            MAX_STUTTER,
        );
    }
    for twist in [Twist::None, Twist::Leaves, Twist::Fuzzy] {
        let traces = record_runs(runs, runs, move || three_workers(twist));
        n3.check_runs(
            &format!("StarBarrier 3 workers {twist:?}"),
            &traces,
            MAX_STUTTER,
        );
    }
}

/// The child half of `injected_early_pass_is_rejected`: only meaningful with the mutant on,
/// which it asserts (so it cannot pass vacuously when run by hand without it).
#[test]
#[ignore = "run by injected_early_pass_is_rejected with GEARSET_MUTANT set"]
fn early_pass_mutant_child() {
    assert!(
        mutant::on(EARLY_PASS),
        "GEARSET_MUTANT={EARLY_PASS} must be set"
    );
    let checker = SpecChecker::load(SPEC, CFG_N3);
    let traces = record_runs(20, 20, || three_workers(Twist::None));
    for trace in traces.iter().collect::<HashSet<_>>() {
        // Workers 0 and 1 skip peer 2 (the last); worker 2's own scan is whole.
        let early = trace
            .iter()
            .position(|s| s.action == "PassPhase" && s.role != "2")
            .expect("workers 0 and 1 pass at least once");
        let rejection = checker
            .check(trace, MAX_STUTTER)
            .expect_err("a trace with an early pass");
        assert_eq!(
            rejection.index, early,
            "rejected at {} ({}), not at the early pass",
            rejection.line, rejection.message
        );
    }
    println!(
        "mutant {EARLY_PASS}: {} traces, each rejected at its first early PassPhase",
        traces.len()
    );
}

#[test]
fn injected_early_pass_is_rejected() {
    let out = std::process::Command::new(std::env::current_exe().unwrap())
        .args([
            "early_pass_mutant_child",
            "--exact",
            "--ignored",
            "--nocapture",
        ])
        .args(["--test-threads=1"])
        .env("GEARSET_MUTANT", EARLY_PASS)
        .env("SHUTTLE_SILENCE_WARNINGS", "1")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success() && stdout.contains("1 passed"),
        "the mutant child failed:\n{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let line = stdout
        .lines()
        .find(|l| l.contains("each rejected"))
        .unwrap();
    let summary = &line[line.find("mutant ").unwrap()..];
    println!("conformance: StarBarrier injected discrepancy: {summary}");
}

// ---------------------------------------------------------------------------------------
// Spec behaviours → code.
// ---------------------------------------------------------------------------------------

fn int(value: &Value) -> i64 {
    match value {
        Value::Int(i) => *i,
        other => panic!("not an integer: {other:?}"),
    }
}

fn elements(value: &Value) -> Vec<Value> {
    match value {
        Value::Set(set) => set.iter().cloned().collect(),
        other => panic!("not a set: {other:?}"),
    }
}

fn field(record: &Value, name: &str) -> i64 {
    match record {
        Value::Record(fields) => int(&fields[name]),
        other => panic!("not a record: {other:?}"),
    }
}

/// The process whose `var` entry the step changed.
fn actor(step: &SpecStep, var: &str) -> usize {
    let keys = step.changed_keys(var);
    assert_eq!(keys.len(), 1, "{}: one process acts", step.action);
    keys[0].parse().unwrap()
}

/// The elements of set variable `var` added by the step.
fn added(step: &SpecStep, var: &str) -> Vec<Value> {
    let before = elements(step.before.get(var));
    let mut after = elements(step.after.get(var));
    after.retain(|v| !before.contains(v));
    after
}

/// The code's side of one replay: the workers (`None` once crashed).
struct Replay {
    workers: Vec<Option<Worker<Log, Msg, BusySpin>>>,
}

impl Replay {
    fn worker(&mut self, p: usize) -> &mut Worker<Log, Msg, BusySpin> {
        self.workers[p]
            .as_mut()
            .expect("the spec never moves a crashed process")
    }

    /// Applies one spec step to the code and compares; `false` if the code cannot take it
    /// from one thread (the behaviour ends there).
    fn apply(&mut self, step: &SpecStep) -> bool {
        let (before, after) = (&step.before, &step.after);
        match step.action.as_str() {
            "StoreEpochRelease" => {
                let p = actor(step, "pc");
                if int(before.get("broken")) != self.workers.len() as i64 {
                    // The spec's arrival after a break stands for an arrival whose `broken`
                    // check ran before the break: a race one thread cannot interleave.
                    return false;
                }
                assert_eq!(self.worker(p).arrive(), Ok(()));
            }
            "ArriveBroken" => {
                let p = actor(step, "pc");
                let by = int(before.get("broken")) as usize;
                let got = self.worker(p).arrive();
                assert_eq!(got, Err(BarrierError::Broken { participant: by }));
            }
            "PassPhase" => {
                let p = actor(step, "pc");
                assert_eq!(self.worker(p).try_sync(), Ok(true), "{p} passes");
                let mut got: Vec<Msg> = self.worker(p).messages().map(|(_, m)| m).collect();
                let mut want: Vec<Msg> = added(step, "recv")
                    .iter()
                    .map(|r| (field(r, "from") as usize, field(r, "k") as u64))
                    .collect();
                got.sort_unstable();
                want.sort_unstable();
                assert_eq!(got, want, "messages delivered to {p}");
            }
            "LoadBrokenAcquire" => {
                let p = actor(step, "pc");
                let by = int(before.get("broken")) as usize;
                let got = self.worker(p).try_sync();
                assert_eq!(got, Err(BarrierError::Broken { participant: by }));
            }
            "PushMessage" => {
                let msg = &added(step, "sent")[0];
                let (p, q) = (field(msg, "from") as usize, field(msg, "to") as usize);
                let k = field(msg, "k") as u64;
                assert!(self.worker(p).send(q, (p, k)).is_ok(), "{p} sends to {q}");
            }
            "EnterSerial" => {
                let p = elements(after.get("inCS"))[0].clone();
                let p = int(&p) as usize;
                let want = serial_log(before.get("serialLog"));
                let k = self.worker(p).superstep();
                let seen = self.worker(p).serial(|log| {
                    let seen = log.clone();
                    log.push((k, p));
                    seen
                });
                assert_eq!(seen, Some(want), "serial state seen by {p}");
            }
            "Leave" => {
                let p = actor(step, "pc");
                assert_eq!(self.worker(p).leave(), Ok(()));
            }
            "CasBroken" => {
                let p = actor(step, "pc");
                let doomed = self.workers[p].take();
                let crashed = catch_unwind(AssertUnwindSafe(move || {
                    let _doomed = doomed;
                    panic!("replayed crash of {p} (intended)");
                }));
                assert!(crashed.is_err());
            }
            "LoadEpochAcquire" | "ExitSerial" | "Finished" => {}
            other => panic!("unknown action {other}"),
        }
        self.compare(after);
        true
    }

    /// Every live worker's superstep is the spec's `step`.
    fn compare(&mut self, state: &gearset_models::conformance::SpecState) {
        for (p, w) in self.workers.iter().enumerate() {
            if let Some(w) = w {
                let step = state.int_at("step", &p.to_string());
                assert_eq!(w.superstep() as i64, step, "superstep of {p}");
            }
        }
    }
}

/// Every process has returned (`Finished` would only stutter from here).
fn all_terminal(state: &gearset_models::conformance::SpecState, n: usize) -> bool {
    (0..n).all(|p| match state.at("pc", &p.to_string()) {
        Value::Str(pc) => ["done", "left", "crashed", "failed"].contains(&&**pc),
        other => panic!("pc is {other:?}"),
    })
}

fn serial_log(value: &Value) -> Log {
    match value {
        Value::Tuple(entries) => entries
            .iter()
            .map(|e| match e {
                Value::Tuple(pair) => (int(&pair[0]) as u64, int(&pair[1]) as usize),
                other => panic!("not a pair: {other:?}"),
            })
            .collect(),
        Value::Set(set) if set.is_empty() => Log::new(),
        Value::Fn(map) if map.is_empty() => Log::new(),
        other => panic!("not a sequence: {other:?}"),
    }
}

/// Replays `behaviour` on fresh workers inside one shuttle execution; returns the steps
/// replayed (a behaviour may end early, see `Replay::apply`).
fn replay(n: usize, behaviour: Vec<SpecStep>) -> usize {
    let replayed = on_one_thread(move || {
        let ws = workers(n, BusySpin::new(), Log::new()).unwrap();
        let mut code = Replay {
            workers: ws.into_iter().map(Some).collect(),
        };
        behaviour.iter().take_while(|s| code.apply(s)).count()
    });
    trace::take();
    replayed
}

/// A uniform random walk of the spec often ends within a few steps (a process may `Leave` or
/// crash at every step), so the replay walks `StarBarrier_n2_k2_stay.cfg` (no early leave)
/// and `StarBarrier_n3_k3.cfg`, and draws seeds until it has `per_config` behaviours of each
/// in which at least `n - 1` phases are passed; it reports how many it drew (the short ones
/// are prefixes of what it replays anyway).
#[test]
fn spec_behaviours_replay_on_the_code() {
    quiet_intended_panics();
    let per_config = shuttle_iterations(100);
    let (mut behaviours, mut steps, mut drawn) = (0, 0, 0);
    for (cfg, n) in [(CFG_STAY, 2), (CFG_N3, 3)] {
        let checker = SpecChecker::load(SPEC, cfg);
        let mut kept = 0;
        for seed in 0..50 * per_config as u64 {
            if kept == per_config {
                break;
            }
            drawn += 1;
            let behaviour = checker.random_behaviour(seed, 200, |s| all_terminal(s, n));
            if behaviour.iter().filter(|s| s.action == "PassPhase").count() < n - 1 {
                continue;
            }
            steps += replay(n, behaviour);
            kept += 1;
        }
        assert_eq!(kept, per_config, "{cfg}: not enough long behaviours");
        behaviours += kept;
    }
    println!(
        "conformance: StarBarrier replay: {behaviours} behaviours ({drawn} drawn), {steps} steps, 0 discrepancies"
    );
}
