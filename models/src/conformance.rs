//! Checking recorded runs against their TLA+ spec, with tla-checker as a library.
//!
//! A run recorded under `--cfg gearset_trace` is a list of [`Step`]s: an action name, the role
//! of the thread that took it, and a predicate over primed spec variables in which `SELF`
//! stands for that role. Each becomes one line of a tla-checker scenario,
//! `action: <Name>; <predicate>`, and the replay must find, from the spec's initial state, one
//! transition of that action satisfying the predicate, step after step. Steps the code does not
//! record may be taken by the spec in between, up to the `max_stutter` the harness allows and
//! documents.
//!
//! The replay is greedy: it commits to the first transition that satisfies a step. So every
//! predicate must pin down the state it leads to, and in particular which process acted: a step
//! of process `SELF` says `pc'[SELF] # pc[SELF]` (or, for a step that changes no `pc`, names
//! the variable it does change with `EXCEPT ![SELF]`). Without that, `key'[w2] = 0` is also
//! satisfied by `w1` taking the step (keys start at 0) and a correct run is rejected later.
//!
//! The other direction, [`SpecChecker::random_behaviour`], walks the spec: from an initial
//! state it takes a uniformly chosen enabled transition, step after step, and hands back each
//! step's action name and the states before and after it. A suite drives the implementation
//! through the same operations on one thread and compares what the code returns with the
//! spec's state ([`SpecStep`] reads variables and tells which process acted).

use std::path::Path;

use gearset_sync::trace::Step;
use tla_checker::{
    ast::{State, Value},
    checker::format_value,
    config::bind_model_value_names,
    eval::{Definitions, init_states, make_primed_names, next_states},
    load::{Prepared, prepare_from_path},
    scenario::{build_definitions, execute_scenario_stuttering, parse_scenario},
};

/// A spec and one of its configurations, ready to replay traces.
#[allow(missing_debug_implementations)]
pub struct SpecChecker {
    prepared: Prepared,
    defs: Definitions,
}

/// Why the spec rejected a trace: the first step it could not take.
#[derive(Debug)]
pub struct Rejection {
    /// 0-based index of the step in the trace.
    pub index: usize,
    /// The scenario line of that step.
    pub line: String,
    /// tla-checker's explanation.
    pub message: String,
}

impl SpecChecker {
    /// Loads `tla/<spec>` with `tla/<cfg>` (paths relative to `tla/`).
    pub fn load(spec: &str, cfg: &str) -> Self {
        let tla = Path::new(env!("CARGO_MANIFEST_DIR")).join("../tla");
        let prepared = prepare_from_path(&tla.join(spec), Some(&tla.join(cfg)), &[])
            .unwrap_or_else(|e| panic!("cannot load {spec} with {cfg}: {e}"));
        let defs = build_definitions(&prepared.spec);
        Self { prepared, defs }
    }

    /// Replays `trace`; `Ok` with the number of unrecorded spec steps the replay needed.
    pub fn check(&self, trace: &[Step], max_stutter: usize) -> Result<usize, Rejection> {
        let lines: Vec<String> = trace.iter().map(scenario_line).collect();
        let scenario =
            parse_scenario(&lines.join("\n")).unwrap_or_else(|e| panic!("bad scenario: {e}"));
        let result = execute_scenario_stuttering(
            &self.prepared.spec,
            &scenario,
            &self.prepared.domains,
            &self.defs,
            max_stutter,
        )
        .unwrap_or_else(|e| panic!("replay error: {e:?}"));
        match result.failure {
            None => Ok(result.stutters),
            Some(failure) => {
                // tla-checker's index is into the scenario's steps, from 0.
                let index = failure.step_index;
                let line = lines.get(index).cloned().unwrap_or_default();
                Err(Rejection {
                    index,
                    line,
                    message: failure.message,
                })
            }
        }
    }
}

impl SpecChecker {
    /// Checks that every trace of `traces` (one per shuttle run) is a behaviour of the spec,
    /// each distinct trace once; panics at the first rejection with the step, tla-checker's
    /// reason and the whole trace. Prints the suite's summary line,
    /// `conformance: <name>: <runs> runs, <distinct> distinct traces, <steps> steps, 0 discrepancies`,
    /// and returns the number of steps checked.
    pub fn check_runs(&self, name: &str, traces: &[Vec<Step>], max_stutter: usize) -> usize {
        let distinct: std::collections::HashSet<&Vec<Step>> = traces.iter().collect();
        let mut steps = 0;
        for trace in &distinct {
            self.check_or_panic(trace, max_stutter, name);
            steps += trace.len();
        }
        println!(
            "conformance: {name}: {} runs, {} distinct traces, {steps} steps, 0 discrepancies",
            traces.len(),
            distinct.len()
        );
        steps
    }

    /// Checks one trace; panics with the rejected step, the reason, `what` and the trace.
    pub fn check_or_panic(&self, trace: &[Step], max_stutter: usize, what: &str) {
        if let Err(rejection) = self.check(trace, max_stutter) {
            panic!(
                "{what}: the spec rejects step {} `{}`: {}\ntrace:\n{}",
                rejection.index,
                rejection.line,
                rejection.message,
                show(trace)
            );
        }
    }
}

#[cfg(gearset_shuttle)]
impl SpecChecker {
    /// The spec → code direction: for each seed in `seeds`, a random behaviour of at most
    /// `max_len` steps among the transitions `allow` accepts
    /// ([`random_behaviour_where`](Self::random_behaviour_where)), driven through the code by
    /// `drive` on one thread ([`on_one_thread`]); what the code recorded on the way must be a
    /// behaviour of the spec. `drive` asserts, step by step, that the code's results are the
    /// spec's. Returns (behaviours, spec steps) for the suite's summary line.
    pub fn replay_behaviours<D>(
        &self,
        seeds: core::ops::Range<u64>,
        max_len: usize,
        allow: impl Fn(&SpecStep) -> bool,
        max_stutter: usize,
        drive: D,
    ) -> (usize, usize)
    where
        D: Fn(&[SpecStep]) -> Vec<Step> + Send + Sync + Clone + 'static,
    {
        let (mut behaviours, mut steps) = (0, 0);
        for seed in seeds {
            let behaviour = self.random_behaviour_where(seed, max_len, &allow);
            steps += behaviour.len();
            let drive = drive.clone();
            let recorded = on_one_thread(move || drive(&behaviour));
            let what = format!("seed {seed}: the code's run of a spec behaviour");
            self.check_or_panic(&recorded, max_stutter, &what);
            behaviours += 1;
        }
        (behaviours, steps)
    }
}

/// A trace as its scenario lines, one per line (for failure messages).
pub fn show(trace: &[Step]) -> String {
    let lines: Vec<String> = trace.iter().map(scenario_line).collect();
    lines.join("\n")
}

/// Runs `scenario` `random` times under shuttle's random scheduler and `pct` times under PCT
/// (depth 3) and returns the trace each run returned, in run order: how a suite records the
/// real interleavings of its scenario. Panics if a run did not record (a panicking scenario
/// already fails the shuttle check).
#[cfg(gearset_shuttle)]
pub fn record_runs<S>(random: usize, pct: usize, scenario: S) -> Vec<Vec<Step>>
where
    S: Fn() -> Vec<Step> + Send + Sync + 'static,
{
    let traces = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let sink = std::sync::Arc::clone(&traces);
    let scenario = std::sync::Arc::new(scenario);
    let run = move || {
        let trace = scenario();
        sink.lock().unwrap().push(trace);
    };
    let run = std::sync::Arc::new(run);
    let random_run = std::sync::Arc::clone(&run);
    gearset_sync::shuttle::check_random(move || random_run(), random);
    gearset_sync::shuttle::check_pct(move || run(), pct, 3);
    let traces = std::mem::take(&mut *traces.lock().unwrap());
    assert_eq!(traces.len(), random + pct, "every run recorded a trace");
    traces
}

/// Runs `drive` once, on one thread, inside a shuttle execution (shuttle's atomics and locks
/// need one), and returns what it returned: how a replay suite drives the code through a spec
/// behaviour. Clears the trace log first, since a run that panicked (a mutant's) leaves its
/// steps there.
#[cfg(gearset_shuttle)]
pub fn on_one_thread<T: Send + 'static>(drive: impl Fn() -> T + Send + Sync + 'static) -> T {
    drop(gearset_sync::trace::take());
    let out = std::sync::Arc::new(std::sync::Mutex::new(None));
    let slot = std::sync::Arc::clone(&out);
    gearset_sync::shuttle::check_random(move || *slot.lock().unwrap() = Some(drive()), 1);
    let value = out.lock().unwrap().take();
    value.expect("the shuttle execution ran")
}

/// One scenario line: `action: <Name>; <predicate with SELF replaced by the role>`.
pub fn scenario_line(step: &Step) -> String {
    format!(
        "action: {}; {}",
        step.action,
        step.predicate.replace("SELF", &step.role)
    )
}

/// One transition of a spec behaviour: the action that took it and the states around it.
#[derive(Debug, Clone)]
pub struct SpecStep {
    /// The action's name, as the scenario format names it (a disjunct of `Next`).
    pub action: String,
    /// The state before the step.
    pub before: SpecState,
    /// The state after the step.
    pub after: SpecState,
}

impl SpecStep {
    /// The keys of function variable `var` whose value the step changed (the process that
    /// acted, for a `pc`-like variable), formatted as in TLA+ (`w1`, `"a"`, `2`).
    pub fn changed_keys(&self, var: &str) -> Vec<String> {
        let (Value::Fn(before), Value::Fn(after)) = (self.before.get(var), self.after.get(var))
        else {
            return match (self.before.get(var), self.after.get(var)) {
                (Value::Tuple(b), Value::Tuple(a)) => (1..=a.len().max(b.len()))
                    .filter(|&i| b.get(i - 1) != a.get(i - 1))
                    .map(|i| i.to_string())
                    .collect(),
                (Value::Record(b), Value::Record(a)) => a
                    .iter()
                    .filter(|(k, v)| b.get(*k) != Some(*v))
                    .map(|(k, _)| k.to_string())
                    .collect(),
                _ => panic!("`{var}` is not a function"),
            };
        };
        after
            .iter()
            .filter(|(k, v)| before.get(*k) != Some(*v))
            .map(|(k, _)| format_value(k).trim_matches('"').to_owned())
            .collect()
    }
}

/// A spec state, read by variable name.
#[derive(Debug, Clone)]
pub struct SpecState {
    vars: std::sync::Arc<[std::sync::Arc<str>]>,
    state: State,
}

impl SpecState {
    /// The value of variable `var`; panics if the spec has no such variable.
    pub fn get(&self, var: &str) -> &Value {
        let i = self.vars.iter().position(|v| &**v == var);
        &self.state.values[i.unwrap_or_else(|| panic!("the spec has no variable `{var}`"))]
    }

    /// `var[key]` for a function (or record, or sequence with a numeric key) variable, where
    /// `key` is written as [`SpecStep::changed_keys`] gives it.
    pub fn at(&self, var: &str, key: &str) -> &Value {
        let found = match self.get(var) {
            Value::Fn(f) => f
                .iter()
                .find(|(k, _)| format_value(k).trim_matches('"') == key)
                .map(|(_, v)| v),
            Value::Record(r) => r.get(key),
            Value::Tuple(t) => key
                .parse::<usize>()
                .ok()
                .and_then(|i| t.get(i.checked_sub(1)?)),
            _ => None,
        };
        found.unwrap_or_else(|| panic!("`{var}[{key}]` is not defined"))
    }

    /// The integer variable `var`.
    pub fn int(&self, var: &str) -> i64 {
        as_int(self.get(var), var)
    }

    /// The integer `var[key]`.
    pub fn int_at(&self, var: &str, key: &str) -> i64 {
        as_int(self.at(var, key), var)
    }

    /// A value in TLA+ syntax, for messages.
    pub fn show(&self, var: &str) -> String {
        format_value(self.get(var))
    }
}

fn as_int(value: &Value, var: &str) -> i64 {
    match value {
        Value::Int(i) => *i,
        other => panic!("`{var}` is {}, not an integer", format_value(other)),
    }
}

/// A fixed small PRNG (splitmix64), so that a seed names the same behaviour on every machine.
fn next_random(state: &mut u64) -> u64 {
    *state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
    let mut z = *state;
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

impl SpecChecker {
    /// A random behaviour of the spec of at most `max_len` steps, chosen by `seed`: each step
    /// is a uniformly chosen transition enabled in the state before it. It ends early in a
    /// state with no successor, or (with `stop_at`) in the first state `stop_at` accepts.
    pub fn random_behaviour(
        &self,
        seed: u64,
        max_len: usize,
        stop_at: impl Fn(&SpecState) -> bool,
    ) -> Vec<SpecStep> {
        self.random_behaviour_where(seed, max_len, |step| !stop_at(&step.before))
    }

    /// Like [`random_behaviour`](Self::random_behaviour), but each step is chosen among the
    /// transitions `allow` accepts, and the behaviour ends where it accepts none. A replay
    /// harness uses it to keep to the interleavings one thread can drive: when the code does
    /// several spec actions in one call, `allow` keeps the spec from interleaving other
    /// processes between them. Each such restriction belongs in the harness's docs.
    pub fn random_behaviour_where(
        &self,
        seed: u64,
        max_len: usize,
        allow: impl Fn(&SpecStep) -> bool,
    ) -> Vec<SpecStep> {
        let spec = &self.prepared.spec;
        let vars: std::sync::Arc<[std::sync::Arc<str>]> = spec.vars.clone().into();
        let primed = make_primed_names(&spec.vars);
        let mut env = self.prepared.domains.clone();
        bind_model_value_names(&mut env, spec, &self.defs);
        let init = spec.init.as_ref().expect("the spec has an Init");
        let next = spec.next.as_ref().expect("the spec has a Next");
        let mut rng = seed ^ 0x5EED;
        let inits = init_states(init, &spec.vars, &env, &self.defs)
            .unwrap_or_else(|e| panic!("Init: {e:?}"));
        let pick = |rng: &mut u64, n: usize| (next_random(rng) % n as u64) as usize;
        let wrap = |state: &State| SpecState {
            vars: vars.clone(),
            state: state.clone(),
        };
        let mut state = wrap(&inits[pick(&mut rng, inits.len())]);
        let mut steps = Vec::new();
        while steps.len() < max_len {
            let successors = next_states(
                next,
                &state.state,
                &spec.vars,
                &primed,
                &mut env,
                &self.defs,
            )
            .unwrap_or_else(|e| panic!("Next: {e:?}"));
            let mut allowed: Vec<SpecStep> = successors
                .into_iter()
                .map(|t| SpecStep {
                    action: t.action.as_deref().unwrap_or("?").to_owned(),
                    before: state.clone(),
                    after: wrap(&t.state),
                })
                .filter(|step| allow(step))
                .collect();
            if allowed.is_empty() {
                break;
            }
            let chosen = allowed.swap_remove(pick(&mut rng, allowed.len()));
            state = chosen.after.clone();
            steps.push(chosen);
        }
        steps
    }
}
