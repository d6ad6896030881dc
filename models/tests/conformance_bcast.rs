//! Conformance of gearset-bcast to `tla/bcast/AtomicBcast.tla`, both directions.
//!
//! **Recorded runs → spec.** Four shuttle scenarios, one per spec config, capacity 2 (so a
//! Backpressure reader publishes its cursor after every message, `publish_every == 1`, and
//! `CloneGated` is recorded at that publication, see `Publication::publish`): 2 writers → 2
//! readers with 3 messages, and 1 writer → 1 reader plus a late reader that subscribes (from
//! `Next` or `Oldest`), receives 0–3 messages and unsubscribes, with 4 messages; each in both
//! policies. Every spec action is recorded where it takes effect in the code (`trace_action!`
//! in `primitives/bcast/src`), so the replay may take no step of its own (`MAX_STUTTER = 0`);
//! only `Done` (the model's end) is never recorded, and it is never needed in the middle of a
//! trace. Not covered: `send_batch` (one claim of several numbers, which the spec models as
//! single claims) and receive batches (one publication for several clones); the scenarios use
//! `send` and `recv`.
//!
//! **Spec behaviours → code.** Random behaviours of the one-writer configs with
//! `SnapshotGate = FALSE` (`tla/bcast/conformance/`: on one thread a gate rescan is an exact
//! minimum) are driven through the code on one thread: a claim, a gate check, a rescan and a
//! publication through `Publisher::replay_*` (the same code `send` runs, split where the spec
//! splits it; the steps from `WaitPrevLap` to `UnlockWrite` are absorbed into one publication,
//! which one thread cannot interleave), subscriptions with `subscribe` and drops, and every
//! reader step that completes a receive (`CloneGated`, a successful `RecheckStamp`,
//! `LoadTailLag`) with `try_recv`, which must return the spec's value or `Lagged(n)` with the
//! spec's `n`. The reader steps before it (`LoadStampAcquire`, `LockRead`, a failed
//! `RecheckStamp`) are absorbed into that `try_recv`. After every step the code's tail, gate,
//! reader count and each live reader's position must equal the spec's.
//!
//! Run: `RUSTFLAGS="--cfg gearset_shuttle --cfg gearset_trace" cargo test -p gearset-models
//! --profile models --test conformance_bcast -- --nocapture --test-threads=1`
#![cfg(all(gearset_shuttle, gearset_trace))]
#![allow(clippy::disallowed_types)]

use std::sync::{
    Arc as StdArc,
    atomic::{AtomicU64 as StdAtomicU64, Ordering::Relaxed},
};

use gearset_bcast::{Policy, Publisher, RecvError, StartAt, Subscriber, TryRecvError, channel};
use gearset_models::{
    conformance::{Rejection, SpecChecker, SpecState, SpecStep, record_runs, show},
    shuttle_iterations,
};
use gearset_sync::{
    mutant, shuttle, thread,
    trace::{self, Step},
};
use tla_checker::ast::Value;

/// Every spec action is recorded (see the module docs).
const MAX_STUTTER: usize = 0;
const SPEC: &str = "bcast/AtomicBcast.tla";

/// One recorded scenario and the spec config it is checked against.
struct Scenario {
    name: &'static str,
    cfg: &'static str,
    policy: Policy,
    /// Messages sent by each writer (the config's `Writers`; their sum is `MaxSeq`).
    sends: &'static [u64],
    /// Reader 2 subscribes late (the config's `LateReaders = {2}`).
    late: bool,
}

const SCENARIOS: [Scenario; 4] = [
    Scenario {
        name: "bp_w2_r2",
        cfg: "bcast/models/AtomicBcast_bp_w2_r2_c2_m3.cfg",
        policy: Policy::Backpressure,
        sends: &[2, 1],
        late: false,
    },
    Scenario {
        name: "ow_w2_r2",
        cfg: "bcast/models/AtomicBcast_ow_w2_r2_c2_m3.cfg",
        policy: Policy::Overwrite,
        sends: &[2, 1],
        late: false,
    },
    Scenario {
        name: "bp_w1_r2late",
        cfg: "bcast/models/AtomicBcast_bp_w1_r2late_c2_m4.cfg",
        policy: Policy::Backpressure,
        sends: &[4],
        late: true,
    },
    Scenario {
        name: "ow_w1_r2late",
        cfg: "bcast/models/AtomicBcast_ow_w1_r2late_c2_m4.cfg",
        policy: Policy::Overwrite,
        sends: &[4],
        late: true,
    },
];

/// Varies the late reader's start and how much it reads, run after run.
static RUN: StdAtomicU64 = StdAtomicU64::new(0);

/// Receives until `Closed`.
fn drain(mut s: Subscriber<u64>) {
    while s.recv() != Err(RecvError::Closed) {}
}

/// Reader 2 of the late scenarios: subscribes from `Next` or `Oldest`, receives up to
/// `(variant / 2) % 4` messages (or lags), unsubscribes.
fn late_reader(publisher: Publisher<u64>, variant: u64) {
    let start = if variant.is_multiple_of(2) {
        StartAt::Next
    } else {
        StartAt::Oldest
    };
    let mut s = publisher.subscribe(start);
    drop(publisher);
    for _ in 0..(variant / 2) % 4 {
        if s.recv() == Err(RecvError::Closed) {
            break;
        }
    }
}

/// One run of `scenario`: set up (unrecorded), then every writer and reader on its own
/// thread, named after its spec process.
fn run(scenario: &Scenario) -> Vec<Step> {
    let variant = RUN.fetch_add(1, Relaxed);
    let (publisher, first) = channel::<u64>(2, scenario.policy);
    let second = (!scenario.late).then(|| first.clone());
    let late = scenario.late.then(|| publisher.clone());
    let mut writers = vec![publisher];
    while writers.len() < scenario.sends.len() {
        writers.push(writers[0].clone());
    }
    // The readers registered above are the spec's initial state, not Subscribe steps.
    trace::take();
    let mut threads = Vec::new();
    for (i, (writer, &sends)) in writers.into_iter().zip(scenario.sends).enumerate() {
        threads.push(thread::spawn(move || {
            trace::set_role(&(i + 1).to_string());
            for k in 0..sends {
                writer.send(k).expect("reader 1 is live while anyone sends");
            }
        }));
    }
    threads.push(thread::spawn(move || {
        trace::set_role("1");
        drain(first);
    }));
    threads.push(thread::spawn(move || {
        trace::set_role("2");
        match (second, late) {
            (Some(second), _) => drain(second),
            (None, Some(late)) => late_reader(late, variant),
            (None, None) => unreachable!(),
        }
    }));
    for t in threads {
        t.join().unwrap();
    }
    bcast_steps(trace::take())
}

/// The actions of `AtomicBcast.tla`. The wait strategies' event counts record their own
/// spec's actions (`tla/sync/EventCount.tla`, checked by `conformance_sync.rs`) in the same
/// log; they touch no variable of this spec, so they are dropped here.
const ACTIONS: [&str; 17] = [
    "SendNoReader",
    "FetchAddTail",
    "CheckGate",
    "AdvanceGate",
    "WaitPrevLap",
    "LockWrite",
    "WaitReadersZero",
    "WriteBegin",
    "StoreStampRelease",
    "UnlockWrite",
    "LoadStampAcquire",
    "CloneGated",
    "LockRead",
    "RecheckStamp",
    "LoadTailLag",
    "Subscribe",
    "Unsubscribe",
];

/// `trace` without the event counts' steps.
fn bcast_steps(mut trace: Vec<Step>) -> Vec<Step> {
    trace.retain(|s| ACTIONS.contains(&s.action));
    trace
}

fn explain(rejection: &Rejection, trace: &[Step]) -> String {
    format!(
        "the spec rejects step {} `{}`: {}\ntrace:\n{}",
        rejection.index,
        rejection.line,
        rejection.message,
        show(trace)
    )
}

#[test]
fn bcast_runs_are_spec_behaviours() {
    let runs = shuttle_iterations(200);
    for scenario in &SCENARIOS {
        let traces = record_runs(runs, runs, move || run(scenario));
        let checker = SpecChecker::load(SPEC, scenario.cfg);
        let name = format!("AtomicBcast {}", scenario.name);
        checker.check_runs(&name, &traces, MAX_STUTTER);
    }
}

/// The check can fail: with the code mutant `bcast_no_stamp_recheck` (an Overwrite reader
/// trusts its first look at the stamp and does not re-check it under the read lock), a writer
/// that laps the reader between its look and its lock makes it clone the newer message while
/// it believes it read its own. The spec must reject exactly that `RecheckStamp` step.
#[test]
fn bcast_stamp_recheck_mutant_is_rejected() {
    let scenario = &SCENARIOS[3];
    let checker = SpecChecker::load(SPEC, scenario.cfg);
    mutant::set(Some("bcast_no_stamp_recheck"));
    // PCT (depth 3) lets the writer run several steps inside the reader's window between its
    // look and its lock; it finds the bug within the first few hundred runs (the random
    // scheduler needed up to 1,600 in trials). The bound turns a miss into a failure.
    let mut found = None;
    let mut runs = 0;
    for _ in 0..20 {
        runs += 100;
        let traces = record_runs(0, 100, move || run(scenario));
        found = traces
            .into_iter()
            .find_map(|t| checker.check(&t, MAX_STUTTER).err().map(|r| (r, t)));
        if found.is_some() {
            break;
        }
    }
    mutant::set(None);
    let (rejection, trace) = found.expect("a run of the mutant that the spec rejects");
    let step = &trace[rejection.index];
    assert!(
        step.action == "RecheckStamp" && step.predicate.contains("recv'"),
        "rejected at the wrong step: {}",
        explain(&rejection, &trace)
    );
    println!(
        "conformance: AtomicBcast mutant bcast_no_stamp_recheck: rejected after {runs} runs at step {} `{}`",
        rejection.index, rejection.line
    );
}

// ------------------------------- Replay ----------------------------------

/// Replays one spec behaviour against the code on one thread; panics at the first step where
/// they differ.
struct Replay {
    publisher: Publisher<u64>,
    /// The spec's readers `1` and `2` (`None`: not subscribed, or dropped).
    readers: [Option<Subscriber<u64>>; 2],
    /// The sequence number the spec's writer `1` claimed.
    claimed: u64,
}

impl Replay {
    fn new(policy: Policy) -> Self {
        let (publisher, first) = channel::<u64>(2, policy);
        Self {
            publisher,
            readers: [Some(first), None],
            claimed: 0,
        }
    }

    fn reader(&mut self, key: &str) -> &mut Subscriber<u64> {
        self.readers[reader_index(key)]
            .as_mut()
            .expect("a live reader")
    }

    /// Takes `step` in the code; `ctx` names it in messages.
    fn step(&mut self, step: &SpecStep, ctx: &str) {
        let (before, after) = (&step.before, &step.after);
        match step.action.as_str() {
            "SendNoReader" => assert!(self.publisher.send(0).is_err(), "{ctx}"),
            "FetchAddTail" => {
                self.claimed = self.publisher.replay_claim();
                assert_eq!(self.claimed as i64, after.int_at("wseq", "1"), "{ctx}");
            }
            "CheckGate" => assert!(self.publisher.replay_has_room(self.claimed), "{ctx}"),
            "AdvanceGate" => {
                let gate = self.publisher.replay_advance_gate();
                assert_eq!(gate as i64, after.int("gate"), "{ctx}");
            }
            "StoreStampRelease" => self.publisher.replay_publish(self.claimed, self.claimed),
            "CloneGated" | "RecheckStamp" => {
                let r = acting(step, "rpc");
                if is_str(after.at("rpc", &r), "idle") {
                    let got = self.reader(&r).try_recv();
                    assert_eq!(got, Ok(after.int_at("recv", &r) as u64), "{ctx}");
                }
            }
            "LoadTailLag" => {
                let r = acting(step, "rpc");
                let n = after.int_at("lost", &r) - before.int_at("lost", &r);
                let got = self.reader(&r).try_recv();
                assert_eq!(got, Err(TryRecvError::Lagged(n as u64)), "{ctx}");
            }
            "Subscribe" => {
                let r = acting(step, "started");
                let start = if after.int_at("cursor", &r) == before.int("tail") {
                    StartAt::Next
                } else {
                    StartAt::Oldest
                };
                self.readers[reader_index(&r)] = Some(self.publisher.subscribe(start));
            }
            "Unsubscribe" => self.readers[reader_index(&acting(step, "live"))] = None,
            // Absorbed into the next call that completes (see the module docs), or the end.
            "WaitPrevLap" | "LockWrite" | "WaitReadersZero" | "WriteBegin" | "UnlockWrite"
            | "LoadStampAcquire" | "LockRead" | "Done" => {}
            other => panic!("{ctx}: unknown action {other}"),
        }
        self.compare(after, ctx);
    }

    /// The code's shared state must equal the spec's after every step.
    fn compare(&self, spec: &SpecState, ctx: &str) {
        let tail = self.publisher.replay_tail() as i64;
        assert_eq!(tail, spec.int("tail"), "{ctx}: tail");
        assert_eq!(
            self.publisher.replay_gate() as i64,
            spec.int("gate"),
            "{ctx}: gate"
        );
        let mut live = 0;
        for (i, reader) in self.readers.iter().enumerate() {
            let key = (i + 1).to_string();
            let spec_live = matches!(spec.at("live", &key), Value::Bool(true));
            assert_eq!(reader.is_some(), spec_live, "{ctx}: reader {key} live");
            if let Some(reader) = reader {
                live += 1;
                let position = tail - reader.len() as i64;
                assert_eq!(
                    position,
                    spec.int_at("cursor", &key),
                    "{ctx}: cursor[{key}]"
                );
            }
        }
        assert_eq!(self.publisher.reader_count(), live, "{ctx}: reader count");
    }
}

fn reader_index(key: &str) -> usize {
    key.parse::<usize>().expect("readers are 1 and 2") - 1
}

/// The process whose entry of `var` the step changed.
fn acting(step: &SpecStep, var: &str) -> String {
    let keys = step.changed_keys(var);
    assert_eq!(keys.len(), 1, "{} changes one {var}", step.action);
    keys[0].clone()
}

/// `MaxSeq` of the replay configs.
const REPLAY_MAX_SEQ: i64 = 4;

fn is_str(value: &Value, s: &str) -> bool {
    matches!(value, Value::Str(v) if &**v == s)
}

/// The spec's `Terminated`: the writer sent everything (or gave up) and every live reader
/// drained; from there on only `Done` is enabled.
fn finished(state: &SpecState) -> bool {
    let writer = state.at("wpc", "1");
    let writer_done =
        is_str(writer, "done") || (is_str(writer, "idle") && state.int("tail") == REPLAY_MAX_SEQ);
    writer_done
        && ["1", "2"].iter().all(|r| {
            is_str(state.at("rpc", r), "idle")
                && (!matches!(state.at("live", r), Value::Bool(true))
                    || state.int_at("cursor", r) >= state.int("tail"))
        })
}

#[test]
fn bcast_spec_behaviours_replay_on_the_code() {
    // Many walks end early (reader 1 may unsubscribe at once, and the writer then gives up),
    // so run more than the 100 the issue asks for; each costs about a millisecond.
    let behaviours = shuttle_iterations(1_000);
    let configs = [
        (
            Policy::Backpressure,
            "bcast/conformance/AtomicBcast_replay_bp_w1_r2late_c2_m4.cfg",
        ),
        (
            Policy::Overwrite,
            "bcast/conformance/AtomicBcast_replay_ow_w1_r2late_c2_m4.cfg",
        ),
    ];
    let (mut steps, mut published) = (0, 0);
    for (policy, cfg) in configs {
        let checker = SpecChecker::load(SPEC, cfg);
        for seed in 0..behaviours as u64 {
            let behaviour = checker.random_behaviour(seed, 120, finished);
            steps += behaviour.len();
            published += behaviour
                .iter()
                .filter(|s| s.action == "StoreStampRelease")
                .count();
            let behaviour = StdArc::new(behaviour);
            // One single-threaded shuttle execution: shuttle's atomics need one.
            shuttle::check_random(
                move || {
                    let mut replay = Replay::new(policy);
                    for (i, step) in behaviour.iter().enumerate() {
                        let ctx = format!("{cfg} seed {seed} step {i} {}", step.action);
                        replay.step(step, &ctx);
                    }
                    trace::take();
                },
                1,
            );
        }
    }
    println!(
        "conformance: AtomicBcast replay: {} behaviours, {steps} steps ({published} messages published), 0 discrepancies",
        2 * behaviours
    );
}
