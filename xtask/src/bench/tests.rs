//! The report generator on fixture data in criterion's own format (`xtask/fixtures/criterion`),
//! so CI checks it without running the slow benches.

use std::time::SystemTime;

use super::{
    Run,
    compare::{self, Verdict},
    criterion, from_json,
    machine::{self, Machine},
    report, svg, to_json,
};

fn fixture_run(name: &str) -> Run {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/criterion");
    let rows = criterion::collect(&dir, SystemTime::UNIX_EPOCH).expect("fixtures read");
    let machine = Machine {
        cpu: "Fixture CPU".into(),
        cores: 2,
        ..Machine::default()
    };
    Run {
        name: name.into(),
        machine,
        rows,
    }
}

#[test]
fn reads_criterion_json() {
    let run = fixture_run("a");
    let ids: Vec<String> = run.rows.iter().map(|r| r.id()).collect();
    assert_eq!(
        ids,
        [
            "demo/fanout_4t/gearset",
            "demo/handoff/competitor",
            "demo/handoff/gearset",
            "demo/param/3/gearset",
            "demo/param/3/peer",
            "floor/pingpong/cacheline"
        ]
    );
    let gearset = &run.rows[2];
    assert_eq!(
        run.vs_best_peer("demo/param/3"),
        Some((1.5, "peer")),
        "parameter folded into the scenario"
    );
    assert!(
        run.rows[3].samples_ns.is_empty(),
        "no sample.json, no samples"
    );
    assert_eq!(gearset.median_ns, 250.0);
    assert_eq!(gearset.ci_ns, (240.0, 260.0));
    assert_eq!(gearset.mad_ns, 8.0);
    // Per-iteration sample times, sorted: times / iters.
    assert_eq!(gearset.samples_ns.first(), Some(&240.0));
    assert_eq!(gearset.percentile(100.0), Some(400.0));
}

#[test]
fn ratios_to_floor_and_best_peer() {
    let run = fixture_run("a");
    assert_eq!(run.floor_ns(), Some(100.0));
    assert_eq!(run.vs_best_peer("demo/handoff"), Some((0.5, "competitor")));
    assert_eq!(
        run.vs_best_peer("demo/fanout_4t"),
        None,
        "no peer, no ratio"
    );
    let table = report::markdown_table(&run);
    assert!(table.contains("| demo/handoff | gearset | 250.0 ns | 8.0 ns | 240.0 ns..260.0 ns | 2.50 | 0.50 (vs competitor) |"), "{table}");
    assert!(
        table.contains(
            "| demo/handoff | competitor | 500.0 ns | 15.0 ns | 480.0 ns..520.0 ns | 5.00 |  |"
        ),
        "{table}"
    );
}

#[test]
fn html_is_self_contained_with_charts() {
    let run = fixture_run("a");
    let html = report::html(&run);
    assert!(html.starts_with("<!doctype html>"));
    assert!(
        !html.contains("http://")
            || html.matches("http://").count()
                == html.matches("xmlns=\"http://www.w3.org/2000/svg\"").count(),
        "only SVG namespaces may name a URL"
    );
    assert!(!html.contains("https://"), "nothing may be fetched");
    // One bar chart per scenario, and percentile curves where samples exist.
    assert_eq!(
        html.matches("<svg").count(),
        4 + 3,
        "a bar chart per scenario, curves where samples exist"
    );
    assert!(html.contains("<title>gearset: 250.0 ns</title>"));
    assert!(html.contains("class=\"good\">0.50</span>"));
}

#[test]
fn thread_counts_from_scenario_names() {
    assert_eq!(machine::threads("demo/fanout_4t/gearset"), 4);
    assert_eq!(machine::threads("disruptor/3p1c/gearset"), 4);
    assert_eq!(machine::threads("x/threads=8/gearset"), 8);
    assert_eq!(machine::threads("sync/wake_round_trip/gearset"), 2);
    let run = fixture_run("a");
    let detected = Machine::detect(&run.rows);
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    assert_eq!(
        detected
            .oversubscribed
            .contains(&"demo/fanout_4t".to_owned()),
        cores < 4
    );
}

#[test]
fn saved_runs_round_trip() {
    let run = fixture_run("a");
    let back = from_json(&to_json(&run)).expect("own format reads back");
    assert_eq!(back.rows, run.rows);
    assert_eq!(back.machine, run.machine);
    assert!(from_json(&serde_json::json!({"rows": []})).is_none());
}

#[test]
fn compare_gives_significance_verdicts() {
    assert_eq!(
        compare::verdict((240.0, 260.0), (100.0, 120.0)),
        Verdict::Faster
    );
    assert_eq!(
        compare::verdict((240.0, 260.0), (300.0, 320.0)),
        Verdict::Slower
    );
    assert_eq!(
        compare::verdict((240.0, 260.0), (250.0, 270.0)),
        Verdict::NoChange
    );
    let old = fixture_run("old");
    let mut new = fixture_run("new");
    new.rows
        .iter_mut()
        .filter(|r| r.function == "gearset")
        .for_each(|r| {
            r.median_ns /= 2.0;
            r.ci_ns = (r.ci_ns.0 / 2.0, r.ci_ns.1 / 2.0);
        });
    new.rows.retain(|r| r.function != "competitor");
    let text = compare::render(&old, &new);
    assert!(
        text.contains(
            "| demo/handoff | gearset | 250.0 ns | 125.0 ns | -50.0% | faster (significant) |"
        ),
        "{text}"
    );
    assert!(
        text.contains(
            "| floor/pingpong | cacheline | 100.0 ns | 100.0 ns | +0.0% | no change (CIs overlap) |"
        ),
        "{text}"
    );
    assert!(
        text.contains("| demo/handoff | competitor | 500.0 ns | - | - | gone |"),
        "{text}"
    );
}

#[test]
fn log_axis_charts_render_every_row() {
    let run = fixture_run("a");
    let (_, rows) = run
        .scenarios()
        .into_iter()
        .find(|(g, _)| *g == "demo/handoff")
        .unwrap();
    let chart = svg::bars(&rows, run.floor_ns());
    assert_eq!(
        chart.matches("<rect").count(),
        3,
        "two implementations and the floor"
    );
    assert!(
        svg::percentiles(&rows)
            .unwrap()
            .matches("<polyline")
            .count()
            == 2
    );
}

#[test]
fn readme_summary_has_one_line_per_gearset_scenario() {
    let run = fixture_run("a");
    let summary = report::readme_summary(&run);
    assert!(summary.contains("on Fixture CPU (2 cores)"), "{summary}");
    assert!(
        summary.contains("| demo/handoff | 250.0 ns | competitor 500.0 ns | 0.50 | 2.50 |"),
        "{summary}"
    );
    assert!(
        summary.contains("| demo/fanout_4t | 1.20 µs | - | - | 12.0 |"),
        "{summary}"
    );
    assert!(
        !summary.contains("floor/pingpong |"),
        "the floor has no gearset row"
    );
}

#[test]
fn only_competitors_are_peers() {
    assert!(super::is_competitor("crossbeam"));
    assert!(!super::is_competitor("gearset-batch"));
    assert!(!super::is_competitor("gearset_segmented"));
    assert!(!super::is_competitor("vec_floor"));
}

#[test]
fn crate_summary_lists_every_implementation_against_gearset() {
    let run = fixture_run("a");
    let table = report::crate_summary(&run, "demo").expect("demo scenarios");
    assert!(
        table.contains("| demo/handoff | competitor | 500.0 ns | 2.00 | 5.00 |"),
        "{table}"
    );
    assert!(
        table.contains("| demo/handoff | gearset | 250.0 ns | 1.00 | 2.50 |"),
        "{table}"
    );
    assert!(report::crate_summary(&run, "nothing").is_none());
}
