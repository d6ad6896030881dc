//! `cargo xtask bench`: run the criterion benches and print one table of medians and ratios.
//!
//! Every scenario is a criterion group `<crate>/<scenario>` whose functions are
//! implementations (`gearset`, then competitors); `floor/pingpong/cacheline` is the physical
//! floor, measured in the same run. The table gives each median, its ratio to the floor, and
//! gearset's ratio to the best competitor. The same rows go to `target/gearset-bench/results.json`
//! (one object per row) for tools and for the later comparison report.

use std::{
    path::{Path, PathBuf},
    time::SystemTime,
};

use serde_json::{Value, json};

use crate::run::{Outcome, StageResult, cmd, workspace_root};

const FLOOR: &str = "floor/pingpong/cacheline";

struct Row {
    group: String,
    function: String,
    median_ns: f64,
    low_ns: f64,
    high_ns: f64,
}

pub(crate) fn run(args: &[String]) -> StageResult {
    let quick = args.iter().any(|a| a == "--quick");
    let filter = args.iter().find(|a| !a.starts_with("--"));
    let started = SystemTime::now();
    let mut command = cmd("cargo", &["bench", "-p", "gearset-benches", "--"]);
    if let Some(filter) = filter {
        command = command.args(&[filter.as_str()]);
    }
    if quick {
        command = command.args(&[
            "--warm-up-time",
            "0.5",
            "--measurement-time",
            "1",
            "--sample-size",
            "10",
        ]);
    }
    command.run_ok()?;
    let rows = collect(&workspace_root().join("target/criterion"), started)?;
    if rows.is_empty() {
        return Err("criterion wrote no results".into());
    }
    print_table(&rows);
    write_json(&rows)?;
    Ok(Outcome::Passed { tests: None })
}

/// Reads every `*/new/benchmark.json` + `estimates.json` pair written since `since`.
fn collect(dir: &Path, since: SystemTime) -> Result<Vec<Row>, String> {
    let mut rows = Vec::new();
    for estimates in find(dir, "estimates.json") {
        let fresh = std::fs::metadata(&estimates)
            .and_then(|m| m.modified())
            .is_ok_and(|t| t >= since);
        let new_dir = estimates.parent().expect("file has a folder");
        if !fresh || new_dir.file_name() != Some("new".as_ref()) {
            continue;
        }
        let meta = read_json(&new_dir.join("benchmark.json"))?;
        let est = read_json(&estimates)?;
        let median = &est["median"];
        rows.push(Row {
            group: meta["group_id"].as_str().unwrap_or_default().to_owned(),
            function: meta["function_id"].as_str().unwrap_or_default().to_owned(),
            median_ns: median["point_estimate"].as_f64().unwrap_or(f64::NAN),
            low_ns: median["confidence_interval"]["lower_bound"]
                .as_f64()
                .unwrap_or(f64::NAN),
            high_ns: median["confidence_interval"]["upper_bound"]
                .as_f64()
                .unwrap_or(f64::NAN),
        });
    }
    rows.sort_by(|a, b| (&a.group, &a.function).cmp(&(&b.group, &b.function)));
    Ok(rows)
}

fn find(dir: &Path, name: &str) -> Vec<PathBuf> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    entries
        .filter_map(Result::ok)
        .map(|e| e.path())
        .flat_map(|p| {
            if p.is_dir() {
                find(&p, name)
            } else if p.ends_with(name) {
                vec![p]
            } else {
                vec![]
            }
        })
        .collect()
}

fn read_json(path: &Path) -> Result<Value, String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
    serde_json::from_str(&text).map_err(|e| format!("{}: {e}", path.display()))
}

fn floor_ns(rows: &[Row]) -> Option<f64> {
    rows.iter()
        .find(|r| format!("{}/{}", r.group, r.function) == FLOOR)
        .map(|r| r.median_ns)
}

/// gearset's median over the best (lowest) competitor median in the same group.
fn vs_best(rows: &[Row], group: &str) -> Option<f64> {
    let in_group = || rows.iter().filter(move |r| r.group == group);
    let ours = in_group().find(|r| r.function == "gearset")?.median_ns;
    let best = in_group()
        .filter(|r| r.function != "gearset")
        .map(|r| r.median_ns)
        .reduce(f64::min)?;
    Some(ours / best)
}

fn print_table(rows: &[Row]) {
    let floor = floor_ns(rows);
    println!("\n| scenario | implementation | median | 95% CI | x floor | gearset / best peer |");
    println!("|---|---|---:|---:|---:|---:|");
    for row in rows {
        let x_floor = floor.map_or("-".into(), |f| format!("{:.2}", row.median_ns / f));
        let peer = match (row.function.as_str(), vs_best(rows, &row.group)) {
            ("gearset", Some(ratio)) => format!("{ratio:.2}"),
            _ => String::new(),
        };
        println!(
            "| {} | {} | {} | {}..{} | {x_floor} | {peer} |",
            row.group,
            row.function,
            human(row.median_ns),
            human(row.low_ns),
            human(row.high_ns)
        );
    }
    println!("\nx floor: median / the cache-line ping-pong round trip ({FLOOR}) of this run.");
}

fn human(ns: f64) -> String {
    match ns {
        n if n >= 1e6 => format!("{:.2} ms", n / 1e6),
        n if n >= 1e3 => format!("{:.2} µs", n / 1e3),
        n => format!("{n:.1} ns"),
    }
}

fn write_json(rows: &[Row]) -> Result<(), String> {
    let floor = floor_ns(rows);
    let values: Vec<Value> = rows
        .iter()
        .map(|r| {
            json!({
                "scenario": r.group, "implementation": r.function,
                "median_ns": r.median_ns, "ci_low_ns": r.low_ns, "ci_high_ns": r.high_ns,
                "ratio_to_floor": floor.map(|f| r.median_ns / f),
            })
        })
        .collect();
    let dir = workspace_root().join("target/gearset-bench");
    std::fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
    let path = dir.join("results.json");
    let text =
        serde_json::to_string_pretty(&json!({ "rows": values })).map_err(|e| e.to_string())?;
    std::fs::write(&path, text).map_err(|e| e.to_string())?;
    println!("results: {}", path.display());
    Ok(())
}
