//! Conformance of gearset-hqueue to `tla/hqueue/HQueue.tla`, both directions, on the spec's
//! `models/HQueue_g1_p2_i4.cfg` shape: `l3:1 core:2` (one group queue, two leaf rings, the
//! root), leaf capacity 2, batches of at most 2, four items (worker `<<1, 1>>` owns frames 1
//! and 0, worker `<<1, 2>>` frame 0, the injector frame 1) and an outside stealer.
//!
//! **Runs are spec behaviours.** Shuttle runs (random and PCT) of two workers pushing their
//! items and popping a few times, the injector and a thief stealing from both rings, recorded
//! under `--cfg gearset_trace`, are replayed by tla-checker. Every spec action is recorded
//! where it takes effect (a ring's CAS or tail store, a shared queue's critical section after
//! its hints are stored), so the replay may take no step of its own (`MAX_STUTTER = 0`).
//! Items are named by frame, not id: items of one frame and owner are interchangeable in the
//! spec, so the greedy replay's choice among them cannot matter.
//!
//! **A discrepancy is caught.** With the code mutant `hqueue_copy_steal` (a claim that copies
//! items without advancing the ring's head), the first run whose trace has a claim by a
//! climber or the thief is rejected at that claim: the recorded count of items left in the
//! victim is the spec's plus the claimed ones.
//!
//! **Spec behaviours run on the code.** Random walks of the spec drive one tree on one thread
//! (inside a one-iteration shuttle execution): each push, pop, steal and injection the spec
//! takes is made on the code, and what the code returns (frames, counts, whether a climb
//! found anything) must match the spec's state. Restrictions (`drivable`), each because the
//! code decides deterministically where the spec may choose: while a worker climbs or holds a
//! batch, only its steps are taken (one `Worker::pop` does the whole climb); a climb examines
//! its group queue before its sibling (the code's ring order); a push goes up only when the
//! code would send it up (a higher frame than the ring's), to the queue the code picks; a
//! priority take only from the ancestor the code's check picks; no `SpillClaim` (a spill is
//! the inside of one `push` call, chosen by the frame of an item the walk has not picked yet;
//! the recorded direction and loom cover spills).
//!
//! Run: `cargo xtask conformance`.
#![cfg(all(gearset_shuttle, gearset_trace))]
#![allow(clippy::disallowed_types)]

use std::{
    collections::BTreeMap,
    sync::atomic::{AtomicUsize as StdAtomicUsize, Ordering::Relaxed},
};

use gearset_hqueue::{Config, Injector, Placement, Topology, Worker};
use gearset_models::{
    conformance::{SpecChecker, SpecState, SpecStep, on_one_thread, record_runs, show},
    shuttle_iterations,
};
use gearset_sync::{
    mutant, thread,
    trace::{self, Step},
};
use tla_checker::ast::Value;

const SPEC: &str = "hqueue/HQueue.tla";
const CFG: &str = "hqueue/models/HQueue_g1_p2_i4.cfg";
const MAX_STUTTER: usize = 0;
const ROLES: [&str; 2] = ["<<1, 1>>", "<<1, 2>>"];
/// The frames each worker pushes (the spec's `Owned`, with `Frame(i) = i % 2`).
const PUSHES: [&[u64]; 2] = [&[1, 0], &[0]];
/// Counts runs, to alternate worker `<<1, 1>>`'s push order (a std atomic: not a scheduling
/// point).
static RUN: StdAtomicUsize = StdAtomicUsize::new(0);

fn config() -> Config {
    Config {
        leaf_capacity: 2,
        max_batch: 2,
        placement: Placement::PerCore,
        priority_check: true,
        numa_patience: 0,
    }
}

fn tree() -> (Injector<u32>, Vec<Worker<u32>>) {
    gearset_hqueue::new(Topology::synthetic("l3:1 core:2").unwrap(), config())
}

/// One run: both workers push their items (worker `<<1, 1>>` in either order, alternating
/// from run to run) and pop twice; the injector pushes; the thief steals once
/// from each ring.
fn run_scenario() -> Vec<Step> {
    let (injector, workers) = tree();
    trace::set_role("main");
    let threads: Vec<_> = workers
        .into_iter()
        .zip(ROLES.iter().zip(PUSHES))
        .map(|(mut w, (&role, frames))| {
            thread::spawn(move || {
                trace::set_role(role);
                let reversed = frames.len() > 1 && RUN.fetch_add(1, Relaxed) % 2 == 1;
                for i in 0..frames.len() {
                    let k = if reversed { frames.len() - 1 - i } else { i };
                    w.push(frames[k], k as u32);
                }
                for _ in 0..2 {
                    let _ = w.pop();
                }
            })
        })
        .collect();
    let stealers = [injector.stealer(0), injector.stealer(1)];
    let thief = thread::spawn(move || {
        trace::set_role("thief");
        for s in &stealers {
            let _ = s.steal();
        }
    });
    let outside = thread::spawn(move || {
        trace::set_role("inj");
        injector.push(1, 9);
    });
    for t in threads.into_iter().chain([thief, outside]) {
        t.join().unwrap();
    }
    trace::take()
}

#[test]
fn hqueue_runs_are_spec_behaviours() {
    let runs = shuttle_iterations(1_000);
    let traces = record_runs(runs, runs, run_scenario);
    SpecChecker::load(SPEC, CFG).check_runs("HQueue", &traces, MAX_STUTTER);
}

/// The index of the first claim (by a climber or the thief) in `trace`.
fn first_claim(trace: &[Step]) -> Option<usize> {
    trace
        .iter()
        .position(|s| s.action == "ClaimBatch" || s.action == "StealOne")
}

#[test]
fn copy_steal_mutant_is_rejected_at_its_claim() {
    mutant::set(Some("hqueue_copy_steal"));
    let buggy = record_runs(shuttle_iterations(100), 0, run_scenario);
    mutant::set(None);
    let checker = SpecChecker::load(SPEC, CFG);
    let mut rejected = 0;
    for trace in buggy {
        // A claim from a ring: the mutant's only change. (A climb's claim from a shared queue
        // is a correct critical section.)
        let Some(at) = trace.iter().position(|s| {
            (s.action == "StealOne" || s.action == "ClaimBatch") && s.predicate.contains("LeafQ")
        }) else {
            continue;
        };
        let r = checker
            .check(&trace, MAX_STUTTER)
            .expect_err("a trace with a claim that did not claim");
        assert_eq!(
            r.index,
            at,
            "rejected at `{}` ({}), not at the first ring claim; first claim at {:?}\n{}",
            r.line,
            r.message,
            first_claim(&trace),
            show(&trace)
        );
        rejected += 1;
    }
    assert!(rejected > 0, "some run claimed from a ring");
    println!(
        "conformance: HQueue mutant hqueue_copy_steal: {rejected} traces, each rejected at its first ring claim"
    );
}

// ------------------------------ Replay: spec behaviours on the code ------------------------------

/// The item ids in `var[key]` (a set of integers).
fn ids(state: &SpecState, var: &str, key: &str) -> Vec<i64> {
    set_of(state.at(var, key))
}

fn frames(items: &[i64]) -> Vec<u64> {
    let mut f: Vec<u64> = items.iter().map(|i| (i % 2) as u64).collect();
    f.sort_unstable();
    f
}

const GROUP: &str = "<<1, 0>>";
const ROOT: &str = "<<0, 0>>";

fn leaf_of(role: &str) -> usize {
    ROLES.iter().position(|r| *r == role).expect("a worker")
}

fn busy(state: &SpecState, w: &str) -> bool {
    state.at("climbing", w) == &Value::Bool(true)
        || !ids(state, "batch", w).is_empty()
        || !ids(state, "inflight", w).is_empty()
}

/// The queues whose content changed, as keys.
fn changed_queues(step: &SpecStep) -> Vec<String> {
    step.changed_keys("content")
}

/// Where the code sends a push or spill of `n` items from a worker: the group if it fits.
fn code_dest(state: &SpecState, n: usize) -> &'static str {
    if ids(state, "content", GROUP).len() + n <= 4 {
        GROUP
    } else {
        ROOT
    }
}

/// The code's climb order for each worker: its group queue, its sibling, the root.
fn climb_order(w: &str) -> [&'static str; 3] {
    match w {
        "<<1, 1>>" => [GROUP, "<<1, 2>>", ROOT],
        _ => [GROUP, "<<1, 1>>", ROOT],
    }
}

fn name(step: &SpecStep) -> &str {
    step.action.split('(').next().unwrap_or_default()
}

/// The owner of item `i` (the spec's `OwnerIndex`): a worker's role, or `inj`.
fn owner(i: i64) -> &'static str {
    match (i - 1) % 3 {
        0 => ROLES[0],
        1 => ROLES[1],
        _ => "inj",
    }
}

/// The one key of `var` that `step` changed, if exactly one did.
fn changed_one(step: &SpecStep, var: &str) -> Option<String> {
    let keys = step.changed_keys(var);
    (keys.len() == 1).then(|| keys[0].clone())
}

/// The process that took `step` (random behaviours name actions without arguments), or ""
/// when the step does not say (a priority take leaves no trace of its worker: see
/// [`priority_worker`]).
fn actor(step: &SpecStep) -> String {
    let found = match name(step) {
        "PushLocal" | "PushUp" | "Inject" => Some(owner(pushed_item(step)).to_owned()),
        "PopLocal" | "StealOne" => changed_one(step, "content"),
        "StartClimb" | "ClaimBatch" | "ClimbFail" => changed_one(step, "climbing"),
        "LoadLenEmpty" => changed_one(step, "searched"),
        "PutBatch" => changed_one(step, "batch"),
        "SpillClaim" | "SpillPut" => changed_one(step, "inflight"),
        "PriorityTake" => priority_worker(step).map(str::to_owned),
        _ => None,
    };
    found.unwrap_or_default()
}

/// A worker whose `Worker::pop` would make priority take `step`: its ring is not empty and
/// its priority check picks the queue the step took from (either worker, if both would: the
/// spec's states after are the same).
fn priority_worker(step: &SpecStep) -> Option<&'static str> {
    let b = &step.before;
    let low = |q: &str| {
        frames(&ids(b, "content", q))
            .first()
            .copied()
            .unwrap_or(u64::MAX)
    };
    let (gm, rm) = (low(GROUP), low(ROOT));
    ROLES.iter().copied().find(|w| {
        let lf = low(w);
        let pick = if gm < lf && gm <= rm {
            Some(GROUP)
        } else if rm < lf && rm < gm {
            Some(ROOT)
        } else {
            None
        };
        lf != u64::MAX && pick.is_some_and(|q| changed_queues(step) == [q.to_owned()])
    })
}

/// Whether the code, on one thread, would take `step` (see the module docs).
fn drivable(step: &SpecStep) -> bool {
    let b = &step.before;
    let acting = actor(step);
    if let Some(w) = ROLES.iter().find(|w| busy(b, w)) {
        return acting == *w && name(step) != "SpillClaim";
    }
    match name(step) {
        "SpillClaim" | "Done" => false,
        "PushUp" => {
            let leaf = ids(b, "content", &acting);
            let item = pushed_item(step);
            !leaf.is_empty()
                && (item % 2) as u64 > frames(&leaf)[0]
                && changed_queues(step) == [code_dest(b, 1).to_owned()]
        }
        "PriorityTake" => !acting.is_empty(),
        _ => true,
    }
}

/// The item a push step added to `pushed`.
fn pushed_item(step: &SpecStep) -> i64 {
    let before: Vec<i64> = set_of(step.before.get("pushed"));
    let after: Vec<i64> = set_of(step.after.get("pushed"));
    *after
        .iter()
        .find(|i| !before.contains(i))
        .expect("a push adds an item")
}

/// The integers of a set value (an empty set may come as an empty interval).
fn set_of(v: &Value) -> Vec<i64> {
    match v {
        Value::Set(s) => s
            .iter()
            .map(|v| match v {
                Value::Int(i) => *i,
                other => panic!("not an item: {other:?}"),
            })
            .collect(),
        Value::IntSet(_) => Vec::new(),
        other => panic!("not a set of items: {other:?}"),
    }
}

/// Within a climb, the code's ring order: a queue is examined only after every queue before
/// it in [`climb_order`].
fn in_climb_order(step: &SpecStep) -> bool {
    let w = actor(step);
    let before = set_keys(step.before.at("searched", &w));
    let target = match name(step) {
        "LoadLenEmpty" => {
            let after = set_keys(step.after.at("searched", &w));
            after.into_iter().find(|q| !before.contains(q))
        }
        _ => changed_queues(step).into_iter().next(),
    };
    let Some(target) = target else {
        return false;
    };
    climb_order(&w)
        .iter()
        .take_while(|q| **q != target)
        .all(|q| before.contains(&(*q).to_owned()))
}

fn set_keys(v: &Value) -> Vec<String> {
    match v {
        Value::Set(s) => s.iter().map(tla_checker::checker::format_value).collect(),
        _ => Vec::new(),
    }
}

fn allow(step: &SpecStep) -> bool {
    drivable(step) && (!matches!(name(step), "LoadLenEmpty" | "ClaimBatch") || in_climb_order(step))
}

/// The code side of one replay: the tree, its workers, stealers of both rings.
struct Code {
    injector: Injector<u32>,
    workers: Vec<Worker<u32>>,
    /// What the current climb returned, checked when the spec's climb ends.
    climb: BTreeMap<String, Option<u64>>,
}

fn replay(behaviour: &[SpecStep]) {
    let (injector, workers) = tree();
    let mut code = Code {
        injector,
        workers,
        climb: BTreeMap::new(),
    };
    for (i, step) in behaviour.iter().enumerate() {
        let what = format!("step {i} {}", step.action);
        drive(&mut code, step, &what);
        if !ROLES.iter().any(|w| busy(&step.after, w)) {
            compare(&code, &step.after, &what);
        }
    }
    drop(trace::take()); // the replay's own recording is not checked here
}

/// The frame of the item `step` took (from `taken`), if any.
fn taken_frame(step: &SpecStep) -> Option<u64> {
    step.changed_keys("taken")
        .first()
        .map(|k| k.parse::<u64>().unwrap() % 2)
}

fn drive(code: &mut Code, step: &SpecStep, what: &str) {
    let w = actor(step);
    match name(step) {
        "PushLocal" | "PushUp" => {
            let item = pushed_item(step);
            code.workers[leaf_of(&w)].push((item % 2) as u64, item as u32);
        }
        "Inject" => code.injector.push((pushed_item(step) % 2) as u64, 0),
        "PopLocal" => {
            let got = code.workers[leaf_of(&w)].pop_local().map(|x| x.0);
            assert_eq!(got, taken_frame(step), "{what}: popped frame");
        }
        "PriorityTake" => {
            let got = code.workers[leaf_of(&w)].pop().map(|x| x.0);
            assert_eq!(got, taken_frame(step), "{what}: priority take");
        }
        "StartClimb" => {
            let got = code.workers[leaf_of(&w)].pop().map(|x| x.0);
            code.climb.insert(w, got);
        }
        "ClaimBatch" => {
            let got = code.climb.remove(&w).expect("a climb started");
            assert_eq!(got, taken_frame(step), "{what}: the climb's first item");
        }
        "ClimbFail" => {
            let got = code.climb.remove(&w).expect("a climb started");
            assert_eq!(got, None, "{what}: the code's climb found an item");
        }
        "StealOne" => {
            let leaf = leaf_of(&w); // the ring stolen from
            let got = code.injector.stealer(leaf).steal().map(|x| x.0);
            assert_eq!(got, taken_frame(step), "{what}: stolen frame");
        }
        // Inside the calls above: the climb's examinations and its batch's puts, a spill's
        // put (never reached: no SpillClaim is taken).
        _ => {}
    }
}

/// After every completed operation: each ring's length and frame, and the total.
fn compare(code: &Code, state: &SpecState, what: &str) {
    let mut total = 0;
    for (leaf, w) in ROLES.iter().enumerate() {
        let content = ids(state, "content", w);
        let worker = &code.workers[leaf];
        assert_eq!(worker.local_len(), content.len(), "{what}: ring {w} length");
        assert_eq!(
            worker.local_min_frame(),
            frames(&content).first().copied(),
            "{what}: ring {w} frame"
        );
        total += content.len();
    }
    total += ids(state, "content", GROUP).len() + ids(state, "content", ROOT).len();
    assert_eq!(code.injector.len(), total, "{what}: items in the tree");
}

#[test]
fn spec_behaviours_replay_on_the_code() {
    let checker = SpecChecker::load(SPEC, CFG);
    let behaviours = shuttle_iterations(100) as u64;
    let mut steps = 0;
    for seed in 0..behaviours {
        let behaviour = std::sync::Arc::new(checker.random_behaviour_where(seed, 40, allow));
        let driven = std::sync::Arc::clone(&behaviour);
        on_one_thread(move || replay(&driven));
        steps += behaviour.len();
    }
    println!("conformance: HQueue replay: {behaviours} behaviours, {steps} steps, 0 discrepancies");
}
