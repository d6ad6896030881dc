//! Conformance of gearset-disruptor's multi-producer sequencer and consumer graph to
//! `tla/disruptor/Disruptor.tla` (config `models/Disruptor_p2_n2_s4.cfg`: producers `p1`, `p2`,
//! ring of 2, 4 sequences, claims of 1-2, consumer batches of 2, consumer `"b"` after `"a"`).
//!
//! **Code → spec** (`disruptor_runs_are_spec_behaviours`): shuttle runs (random and PCT) of the
//! spec's scenario on the real crate: two producer threads (`p1` claims a batch of 2, `p2` two
//! single events), consumer threads `"a"` and `"b"` (a pipeline, batches of at most 2), and the
//! main thread shutting the disruptor down while the producers may still be publishing. The
//! crate records every spec action where it takes effect (`FetchAddClaim`, `CheckRoomCached`,
//! `ReadGate`, `WriteSlot`, `PublishFlag`, `CloseFetchOr`, `SetEnd`, `ConsumerWait`,
//! `ReleaseCursor`), the handlers record `ReadSlot` with the value they read, and tla-checker
//! replays each distinct trace. Every spec action the scenario takes is recorded, so the replay
//! takes no step of its own (`MAX_STUTTER = 0`); the spec's `Exhausted` and `Done` are never
//! needed because a trace only has to be a prefix of a behaviour.
//!
//! The same for the single-producer flavor with a diamond graph (`"a"` and `"c"` after the
//! publisher, `"b"` after both) against `models/Disruptor_sp_diamond_n2_s3.cfg`: the announce,
//! the check of `closed` after the barrier, the one-store publish and the two-step close are
//! recorded (`SPAnnounce`, `SPCheckClosed`, `SPPublish`, `SPCloseSwap`, `SPCloseRead`).
//!
//! The check can fail: with the code mutant `disruptor_publish_before_write` (a producer makes
//! its range visible before writing it) the spec must reject the first `PublishFlag` that comes
//! before its `WriteSlot`.
//!
//! **Spec → code** (`spec_behaviours_replay_on_the_code`): random behaviours of the spec driven
//! through the crate on one thread, consumers being [`EventPoller`]s so that the thread decides
//! when each consumer steps. The code takes several spec steps per call, so the walks keep to
//! what one thread can drive (`drivable`), each restriction an allowance:
//! - a call runs to its end: while a producer is between `FetchAddClaim` and its last
//!   `PublishFlag` (`publish_batch`), a consumer between `ConsumerWait` and `ReleaseCursor`
//!   (`poll_batch`) or the closer between `CloseFetchOr` and `SetEnd` (`close`), only that
//!   process steps;
//! - a claim starts only when the ring has room for it (a blocked `publish_batch` would never
//!   return on the one thread); a claim on a closed ring is always drivable.
//!
//! After each call the harness compares what the code returned (the claimed range or `Closed`,
//! the values a poller handled or `Closed`, the poller's sequence) with the spec's state, and
//! at the end checks the code's own recorded trace against the spec.
//!
//! Run: `cargo xtask conformance`.
#![cfg(all(gearset_shuttle, gearset_trace))]
#![allow(clippy::disallowed_types)]

use tla_checker::ast::Value;

use gearset_disruptor::{Disruptor, EventPoller, Multi, PollState, Producer};
use gearset_models::{
    conformance::{SpecChecker, SpecState, SpecStep, record_runs},
    shuttle_iterations,
};
use gearset_sync::{
    mutant, thread,
    trace::{self, Step},
    trace_action,
};

const SPEC: &str = "disruptor/Disruptor.tla";
const CFG: &str = "disruptor/models/Disruptor_p2_n2_s4.cfg";
const SP_CFG: &str = "disruptor/models/Disruptor_sp_diamond_n2_s3.cfg";
const MAX_STUTTER: usize = 0;
/// The config's `Size`, `MaxBatch` and `MaxSeq`.
const SIZE: usize = 2;
const MAX_BATCH: usize = 2;
const PRODUCERS: [&str; 2] = ["p1", "p2"];
const CONSUMERS: [&str; 2] = ["\"a\"", "\"b\""];

/// A consumer thread's handler: records the spec's `ReadSlot` with the value it read.
fn reader() -> impl FnMut(&u64, u64, bool) + Send + 'static {
    |e: &u64, _seq, _| {
        trace_action!("ReadSlot", "log'[SELF] = Append(log[SELF], {e})");
    }
}

/// Publishes `sizes` as batch claims; stops at the first `Closed`.
fn produce(mut producer: Producer<u64, Multi>, sizes: &'static [usize]) {
    for &n in sizes {
        if producer.publish_batch(n, |e, seq| *e = seq + 1).is_err() {
            return;
        }
    }
}

fn run_spec_scenario() -> Vec<Step> {
    let mut builder = Disruptor::multi_producer(SIZE, || 0u64).unwrap();
    let a = builder
        .consumer(reader())
        .name("\"a\"")
        .max_batch_size(MAX_BATCH)
        .add();
    builder
        .consumer(reader())
        .name("\"b\"")
        .after(&[a])
        .max_batch_size(MAX_BATCH)
        .add();
    let (p1, disruptor) = builder.build().unwrap();
    let p2 = p1.clone();
    trace::set_role("closer");
    let producers = [(p1, "p1", &[2][..]), (p2, "p2", &[1, 1][..])].map(|(p, role, sizes)| {
        thread::spawn(move || {
            trace::set_role(role);
            produce(p, sizes);
        })
    });
    disruptor.shutdown().unwrap();
    for p in producers {
        p.join().unwrap();
    }
    disruptor_steps(trace::take())
}

/// The spec's actions. The `Blocking` wait strategies' event counts record their own
/// (`tla/sync/EventCount.tla`, checked by conformance_sync); they are dropped here.
const ACTIONS: [&str; 15] = [
    "FetchAddClaim",
    "SPAnnounce",
    "SPCheckClosed",
    "SPPublish",
    "SPCloseSwap",
    "SPCloseRead",
    "CheckRoomCached",
    "ReadGate",
    "WriteSlot",
    "PublishFlag",
    "CloseFetchOr",
    "SetEnd",
    "ConsumerWait",
    "ReadSlot",
    "ReleaseCursor",
];

fn disruptor_steps(trace: Vec<Step>) -> Vec<Step> {
    trace
        .into_iter()
        .filter(|s| ACTIONS.contains(&s.action))
        .collect()
}

/// The single-producer flavor with a diamond (`"a"` and `"c"` after the publisher, `"b"`
/// after both), against `models/Disruptor_sp_diamond_n2_s3.cfg`: producer `p1` publishes a
/// batch of 2 and one event while the main thread shuts the disruptor down.
fn run_sp_diamond_scenario() -> Vec<Step> {
    let mut builder = Disruptor::single_producer(SIZE, || 0u64).unwrap();
    let upstream = ["\"a\"", "\"c\""].map(|name| {
        builder
            .consumer(reader())
            .name(name)
            .max_batch_size(MAX_BATCH)
            .add()
    });
    builder
        .consumer(reader())
        .name("\"b\"")
        .after(&upstream)
        .max_batch_size(MAX_BATCH)
        .add();
    let (mut producer, disruptor) = builder.build().unwrap();
    trace::set_role("closer");
    let p1 = thread::spawn(move || {
        trace::set_role("p1");
        for n in [2, 1] {
            if producer.publish_batch(n, |e, seq| *e = seq + 1).is_err() {
                return;
            }
        }
    });
    disruptor.shutdown().unwrap();
    p1.join().unwrap();
    disruptor_steps(trace::take())
}

#[test]
fn disruptor_runs_are_spec_behaviours() {
    let runs = shuttle_iterations(2_000);
    let traces = record_runs(runs, runs, run_spec_scenario);
    let checker = SpecChecker::load(SPEC, CFG);
    checker.check_runs("Disruptor", &traces, MAX_STUTTER);

    // The single producer and a diamond, against the SP config.
    let sp_runs = shuttle_iterations(1_000);
    let sp_traces = record_runs(sp_runs, sp_runs, run_sp_diamond_scenario);
    let sp_checker = SpecChecker::load(SPEC, SP_CFG);
    sp_checker.check_runs("Disruptor SP diamond", &sp_traces, MAX_STUTTER);

    // The check can fail: publish before write, switched on for these runs only.
    mutant::set(Some("disruptor_publish_before_write"));
    let buggy = record_runs(20, 0, run_spec_scenario);
    mutant::set(None);
    for trace in &buggy {
        let first_publish = trace.iter().position(|s| s.action == "PublishFlag");
        let Some(at) = first_publish else {
            continue; // closed before anything was claimed: nothing to publish
        };
        let rejection = checker
            .check(trace, MAX_STUTTER)
            .expect_err("a run that publishes before writing");
        assert_eq!(
            rejection.index, at,
            "rejected at {} ({}), not at the early PublishFlag",
            rejection.line, rejection.message
        );
    }
    assert!(
        buggy
            .iter()
            .any(|t| t.iter().any(|s| s.action == "PublishFlag")),
        "some buggy run published"
    );
}

/// `true` if `var[key]` (key in TLA+ syntax: `p1`, `"a"`) is the string `value` in `state`.
fn pc_is(state: &SpecState, var: &str, key: &str, value: &str) -> bool {
    matches!(state.at(var, bare(key)), Value::Str(s) if &**s == value)
}

/// `key` as [`SpecState::at`] takes it (without quotes).
fn bare(key: &str) -> &str {
    key.trim_matches('"')
}

/// The process that is inside an API call in `state`, if any (see the module docs).
fn busy(state: &SpecState) -> Option<String> {
    for p in PRODUCERS {
        if !pc_is(state, "ppc", p, "idle") && !pc_is(state, "ppc", p, "done") {
            return Some(p.to_owned());
        }
    }
    for c in CONSUMERS {
        if pc_is(state, "cpc", c, "read") || pc_is(state, "cpc", c, "release") {
            return Some(c.to_owned());
        }
    }
    pc_is_closer_setting(state).then(|| "closer".to_owned())
}

fn pc_is_closer_setting(state: &SpecState) -> bool {
    state.show("closePc") == "\"setting\""
}

/// The process that acted in `step`, in TLA+ syntax (`p1`, `"a"`, or `closer`).
fn actor(step: &SpecStep) -> String {
    if let Some(p) = step.changed_keys("ppc").into_iter().next() {
        return p;
    }
    if let Some(c) = step.changed_keys("cpc").into_iter().next() {
        return format!("\"{c}\"");
    }
    "closer".to_owned()
}

/// The steps one thread can drive (module docs).
fn drivable(step: &SpecStep) -> bool {
    if let Some(inside) = busy(&step.before) {
        return actor(step) == inside;
    }
    let p = actor(step);
    if !step.action.starts_with("FetchAddClaim") || pc_is(&step.after, "ppc", &p, "done") {
        return true;
    }
    // A claim must fit in the ring now: hi <= slowest final consumer + Size.
    step.after.int_at("hi", &p) <= step.before.int_at("cursor", "b") + SIZE as i64
}

/// The code under replay: producers and pollers by spec name.
struct Code {
    producers: Vec<(String, Producer<u64, Multi>)>,
    pollers: Vec<(String, EventPoller<u64, Multi>)>,
    disruptor: Option<Disruptor<u64, Multi>>,
}

impl Code {
    fn new() -> Self {
        let mut builder = Disruptor::multi_producer(SIZE, || 0u64).unwrap();
        let a = builder.poller(&[]);
        let b = builder.poller(&[a]);
        let (p1, mut disruptor) = builder.build().unwrap();
        let p2 = p1.clone();
        let pollers = vec![
            ("\"a\"".to_owned(), disruptor.take_poller(a).unwrap()),
            ("\"b\"".to_owned(), disruptor.take_poller(b).unwrap()),
        ];
        Self {
            producers: vec![("p1".to_owned(), p1), ("p2".to_owned(), p2)],
            pollers,
            disruptor: Some(disruptor),
        }
    }

    fn producer(&mut self, name: &str) -> &mut Producer<u64, Multi> {
        &mut self
            .producers
            .iter_mut()
            .find(|(n, _)| n == name)
            .unwrap()
            .1
    }

    fn poller(&mut self, name: &str) -> &mut EventPoller<u64, Multi> {
        &mut self.pollers.iter_mut().find(|(n, _)| n == name).unwrap().1
    }
}

/// Drives one spec behaviour through the code; returns the code's recorded trace.
fn replay(behaviour: &[SpecStep]) -> Vec<Step> {
    let mut code = Code::new();
    for (i, step) in behaviour.iter().enumerate() {
        let who = actor(step);
        let what = format!("step {i} {}({who})", step.action);
        // Random behaviours name an action with its arguments: `FetchAddClaim(p1, 2)`.
        let action = step.action.split('(').next().unwrap_or_default();
        match action {
            "FetchAddClaim" => {
                trace::set_role(&who);
                let spec_closed = pc_is(&step.after, "ppc", &who, "done");
                let n = if spec_closed {
                    1
                } else {
                    (step.after.int_at("hi", &who) - step.after.int_at("lo", &who)) as usize
                };
                let got = code.producer(&who).publish_batch(n, |e, seq| *e = seq + 1);
                match got {
                    Ok(range) => {
                        assert!(
                            !spec_closed,
                            "{what}: the code claimed {range:?}, the spec was closed"
                        );
                        let lo = step.after.int_at("lo", &who) as u64;
                        assert_eq!(range, lo..lo + n as u64, "{what}: claimed range");
                    }
                    Err(_) => assert!(
                        spec_closed,
                        "{what}: the code refused a claim the spec took"
                    ),
                }
            }
            "ConsumerWait" => {
                trace::set_role(&who);
                let mut seen = Vec::new();
                let got = code.poller(&who).poll_batch(MAX_BATCH, |e, _, _| {
                    trace_action!("ReadSlot", "log'[SELF] = Append(log[SELF], {e})");
                    seen.push(*e as i64);
                });
                let spec_done = pc_is(&step.after, "cpc", &who, "done");
                match got {
                    PollState::Closed => assert!(spec_done, "{what}: the code stopped"),
                    PollState::Processed(k) => {
                        let cursor = step.before.int_at("cursor", bare(&who));
                        let bhi = step.after.int_at("bhi", bare(&who));
                        assert_eq!(k as i64, bhi - cursor, "{what}: batch size");
                        let expected: Vec<i64> = (cursor + 1..=bhi).collect();
                        assert_eq!(seen, expected, "{what}: values handled");
                    }
                    PollState::Idle => panic!("{what}: the code found nothing, the spec did"),
                }
            }
            "CloseFetchOr" => {
                trace::set_role("closer");
                // Closes the ring (no consumer threads to join).
                let closed = code.disruptor.take().unwrap().shutdown();
                assert!(closed.is_ok(), "{what}: {closed:?}");
            }
            // Internal steps of the calls above, or of no call (`Exhausted`, `Done`).
            _ => {}
        }
        for (name, poller) in &code.pollers {
            let spec = step.after.int_at("cursor", bare(name)) as u64;
            let inside = busy(&step.after).as_deref() == Some(name.as_str());
            if !inside {
                assert_eq!(poller.sequence(), spec, "{what}: cursor of {name}");
            }
        }
    }
    drop(code);
    disruptor_steps(trace::take())
}

#[test]
fn spec_behaviours_replay_on_the_code() {
    let checker = SpecChecker::load(SPEC, CFG);
    let (behaviours, steps) = checker.replay_behaviours(0..150, 80, drivable, MAX_STUTTER, replay);
    assert!(steps > 0);
    println!(
        "conformance: Disruptor replay: {behaviours} behaviours, {steps} steps, 0 discrepancies"
    );
}
