//! The loom and shuttle stages: every `models/tests/{loom,shuttle}_*.rs` suite, a zero-test
//! guard (a suite compiled out by a missing cfg must not pass), and the loom mutants.

use crate::run::{Outcome, StageResult, cmd, workspace_root};

/// Deliberate bugs, each switched on by a `gearset_mutant` cfg value in the primitive's code,
/// with the loom test that must fail on it. A mutant that passes fails the stage: it proves the
/// model can catch the bug it was written for.
const LOOM_MUTANTS: &[(&str, &str, &str)] = &[
    // (cfg value, suite, test): EventCount::wait_until without the re-check after prepare_wait.
    (
        "eventcount_no_recheck",
        "loom_sync",
        "no_lost_wakeup_notify_one",
    ),
];

fn suites(prefix: &str) -> Vec<String> {
    let mut suites: Vec<String> = std::fs::read_dir(workspace_root().join("models/tests"))
        .expect("models/tests exists")
        .filter_map(Result::ok)
        .filter_map(|e| {
            e.file_name()
                .to_str()?
                .strip_suffix(".rs")
                .map(str::to_owned)
        })
        .filter(|name| name.starts_with(prefix))
        .collect();
    suites.sort();
    suites
}

fn run_suites(checker: &str, extra_env: &[(&str, &str)]) -> StageResult {
    let mut total = 0;
    for suite in suites(&format!("{checker}_")) {
        let mut command = cmd(
            "cargo",
            &["test", "-p", "gearset-models", "--profile", "models"],
        )
        .args(&[
            "--test",
            &suite,
            "--target-dir",
            &format!("target/{checker}"),
        ])
        .env("RUSTFLAGS", &format!("--cfg gearset_{checker}"));
        for (key, value) in extra_env {
            command = command.env(key, value);
        }
        let passed = command.run_ok()?.tests_passed();
        if passed == 0 {
            return Err(format!(
                "{suite} ran zero tests: is it gated on `gearset_{checker}`?"
            ));
        }
        total += passed;
    }
    if total == 0 {
        return Err(format!("no models/tests/{checker}_*.rs suite found"));
    }
    Ok(Outcome::Passed { tests: Some(total) })
}

pub(crate) fn loom() -> StageResult {
    let outcome = run_suites("loom", &[("LOOM_MAX_BRANCHES", "10000")])?;
    for (mutant, suite, test) in LOOM_MUTANTS {
        println!("-- loom mutant `{mutant}`: {suite}::{test} must fail");
        let rustflags = format!("--cfg gearset_loom --cfg gearset_mutant=\"{mutant}\"");
        let out = cmd(
            "cargo",
            &["test", "-p", "gearset-models", "--profile", "models"],
        )
        .args(&["--test", suite, "--target-dir", "target/loom-mutant", test])
        .env("RUSTFLAGS", &rustflags)
        .run()?;
        if out.success {
            return Err(format!(
                "loom mutant `{mutant}` passed {suite}::{test}: the model is blind"
            ));
        }
        let verdict = out
            .text
            .lines()
            .find(|l| l.contains("deadlock") || l.contains("panicked"));
        println!(
            "-- mutant `{mutant}` caught: {}",
            verdict.unwrap_or("test failed").trim()
        );
    }
    Ok(outcome)
}

pub(crate) fn shuttle() -> StageResult {
    run_suites("shuttle", &[("SHUTTLE_SILENCE_WARNINGS", "1")])
}
