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

use std::path::Path;

use gearset_sync::trace::Step;
use tla_checker::{
    eval::Definitions,
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

/// One scenario line: `action: <Name>; <predicate with SELF replaced by the role>`.
pub fn scenario_line(step: &Step) -> String {
    format!(
        "action: {}; {}",
        step.action,
        step.predicate.replace("SELF", &step.role)
    )
}
