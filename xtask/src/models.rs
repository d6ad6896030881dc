//! The loom and shuttle stages: every `models/tests/{loom,shuttle}_*.rs` suite, a zero-test
//! guard (a suite compiled out by a missing cfg must not pass), and the loom mutants.

use crate::run::{Outcome, StageResult, cmd, workspace_root};

/// Deliberate bugs (`gearset_sync::mutant`), each with the loom test that must fail when it is
/// switched on. The model binary is the one built for the suite: `GEARSET_MUTANT` picks the bug
/// at run time, so a mutant costs one test run, not a rebuild. A mutant that passes fails the
/// stage: the model would be blind to the bug it was written for.
const LOOM_MUTANTS: &[&str] = &[
    // "<mutant> <suite>::<test>"
    // gearset-sync: EventCount::wait_until without the re-check after prepare_wait; sleep()
    // without the epoch re-check under the lock; and the two SeqCst fences of the Dekker
    // handshake (weak-memory bugs only loom can see).
    "eventcount_no_recheck loom_sync::no_lost_wakeup_notify_one",
    "eventcount_no_locked_recheck loom_sync::no_lost_wakeup_notify_one",
    "eventcount_no_notify_fence loom_sync::no_lost_wakeup_notify_one",
    "eventcount_no_prepare_fence loom_sync::notify_all_wakes_both_waiters",
    // gearset-starbarrier: a member's epoch published Relaxed.
    "starbarrier_relaxed_epoch loom_starbarrier::split_phase_two_members_two_rounds",
    // gearset-starbarrier: a waiter's scan stops one peer early (pass before the last arrival).
    "starbarrier_skip_last_peer loom_starbarrier::split_phase_two_members_two_rounds",
    // gearset-disruptor: availability read Relaxed; the single producer's claim/close barrier.
    "disruptor_relaxed_available loom_disruptor::multi_producer_two_to_one_wraps",
    "disruptor_sp_no_fence loom_disruptor::single_producer_claim_races_shutdown",
    // gearset-disruptor: the producer's room check always passes (TLA+ mutant IgnoreGating).
    "disruptor_ignore_gating loom_disruptor::single_producer_one_consumer_wraps",
    // gearset-bcast: stamp and cursor published Relaxed, no gate, no read lock, no re-check.
    "bcast_stamp_relaxed loom_bcast::backpressure_2w_1r_cap2_wrap",
    "bcast_cursor_relaxed loom_bcast::backpressure_2w_1r_cap2_wrap",
    "bcast_no_gate loom_bcast::backpressure_2w_1r_cap2_wrap",
    "bcast_no_read_lock loom_bcast::overwrite_2w_1r_cap2_wrap",
    "bcast_no_stamp_recheck loom_bcast::overwrite_1w_2r_cap2_wrap",
    // gearset-sched: a worker that sleeps without re-checking the queues after prepare_wait.
    "sched_no_recheck loom_sched::push_races_park_one_worker",
    // gearset-atomvec: the anchor's naive copy-then-swap (nothing frozen), and a writer that
    // only checks a "resizing" flag before its CAS: both lose an add racing a grow.
    "atomvec_naive_copy loom_atomvec::fetch_add_racing_grow_is_not_lost",
    "atomvec_naive_copy loom_atomvec::two_fetch_adds_racing_grow_are_both_counted",
    "atomvec_flag_check loom_atomvec::fetch_add_racing_grow_is_not_lost",
    "atomvec_flag_check loom_atomvec::two_fetch_adds_racing_grow_are_both_counted",
    // gearset-hqueue: a steal that copies without claiming (duplicates); the leaf push
    // publishing its slot Relaxed (a thief reads an unwritten slot).
    "hqueue_copy_steal loom_hqueue::owner_push_pop_races_a_stealer",
    "hqueue_relaxed_tail loom_hqueue::owner_push_pop_races_a_stealer",
    // gearset-hqueue: two owners of a shared (PerPu) leaf, a pop without the owners' lock.
    "hqueue_unlocked_shared_pop loom_hqueue::two_owners_of_a_shared_leaf",
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
    for entry in LOOM_MUTANTS {
        let parsed = entry
            .split_once(' ')
            .and_then(|(m, t)| Some((m, t.split_once("::")?)));
        let (mutant, (suite, test)) =
            parsed.expect("LOOM_MUTANTS entries are `mutant suite::test`");
        println!("-- loom mutant `{mutant}`: {suite}::{test} must fail");
        let out = cmd(
            "cargo",
            &["test", "-p", "gearset-models", "--profile", "models"],
        )
        .args(&[
            "--test",
            suite,
            "--target-dir",
            "target/loom",
            "--",
            test,
            "--exact",
        ])
        .env("RUSTFLAGS", "--cfg gearset_loom")
        .env("GEARSET_MUTANT", mutant)
        .run()?;
        if out.success {
            return Err(format!(
                "loom mutant `{mutant}` passed {suite}::{test}: the model is blind"
            ));
        }
        // The run must fail *in the model*: a build or usage error would fail too, and prove
        // nothing.
        // loom's verdict: a deadlock line, or the panic line and the message that follows it
        // (`Causality violation: ...`, an assertion).
        let lines: Vec<&str> = out.text.lines().collect();
        let deadlock = lines.iter().position(|l| l.contains("deadlock"));
        let Some(at) = deadlock.or_else(|| lines.iter().position(|l| l.contains("panicked at")))
        else {
            return Err(format!(
                "loom mutant `{mutant}` failed without a model verdict"
            ));
        };
        let verdict = lines[at..]
            .iter()
            .take(2)
            .map(|l| l.trim())
            .collect::<Vec<_>>()
            .join(" ");
        println!("-- mutant `{mutant}` caught: {verdict}");
    }
    Ok(outcome)
}

pub(crate) fn shuttle() -> StageResult {
    run_suites("shuttle", &[("SHUTTLE_SILENCE_WARNINGS", "1")])
}

/// Spec ⇄ code conformance: every `models/tests/conformance_*.rs` suite runs shuttle scenarios
/// recorded under `--cfg gearset_trace` and replays each distinct trace against the spec with
/// tla-checker (a library here). One test thread: the recorder's log is process-global.
pub(crate) fn conformance() -> StageResult {
    let mut total = 0;
    let mut summaries = Vec::new();
    for suite in suites("conformance_") {
        let out = cmd(
            "cargo",
            &["test", "-p", "gearset-models", "--profile", "models"],
        )
        .args(&["--test", &suite, "--target-dir", "target/trace", "--"])
        .args(&["--nocapture", "--test-threads=1"])
        .env("RUSTFLAGS", "--cfg gearset_shuttle --cfg gearset_trace")
        .env("SHUTTLE_SILENCE_WARNINGS", "1")
        .run_ok()?;
        let passed = out.tests_passed();
        if passed == 0 {
            return Err(format!(
                "{suite} ran zero tests: is it gated on `gearset_trace`?"
            ));
        }
        total += passed;
        // With --nocapture the line may follow the test's name on the same line.
        let lines = out.text.lines();
        summaries.extend(lines.filter_map(|l| Some(l[l.find("conformance:")?..].to_owned())));
    }
    if total == 0 {
        return Err("no models/tests/conformance_*.rs suite found".into());
    }
    println!("\nconformance summary:");
    summaries.iter().for_each(|line| println!("  {line}"));
    Ok(Outcome::Passed { tests: Some(total) })
}
