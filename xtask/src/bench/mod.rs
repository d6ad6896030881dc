//! `cargo xtask bench`: run the criterion benches and write the comparison report.
//!
//! Every scenario is a criterion group `<crate>/<scenario>` whose functions are
//! implementations (`gearset`, then competitors); `floor/pingpong/cacheline` is the physical
//! floor, measured in the same run. Per scenario the report gives each implementation's median
//! and spread, its ratio to the floor, and gearset's ratio to the best competitor.
//!
//! Output, under `target/gearset-report/`: `report.md`, a self-contained `index.html` (inline CSS
//! and SVG, nothing fetched), and the run itself as `runs/<name>.json` (the report's own format,
//! read back by `--compare`).
//!
//! ```text
//! cargo xtask bench [--quick] [--save NAME] [--readme] [FILTER]
//!                                                      run, report, save as NAME (default: a timestamp)
//! cargo xtask bench --compare OLD NEW                  per-scenario changes between two saved runs
//! cargo xtask bench --report RUN [--readme]            re-render a saved run's report [and the README table]
//! ```

mod compare;
mod criterion;
mod machine;
mod report;
mod svg;

use std::{path::PathBuf, time::SystemTime};

use serde_json::{Value, json};

use crate::run::{Outcome, StageResult, cmd, workspace_root};

pub(crate) use self::criterion::Row;

/// The floor every scenario is compared with.
pub(crate) const FLOOR: &str = "floor/pingpong/cacheline";

/// One benchmark run: where it ran and what it measured.
#[derive(Debug, Clone)]
pub(crate) struct Run {
    pub(crate) name: String,
    pub(crate) machine: machine::Machine,
    pub(crate) rows: Vec<Row>,
}

pub(crate) fn run(args: &[String]) -> StageResult {
    let opts = Options::parse(args)?;
    if let Some((old, new)) = &opts.compare {
        let (old, new) = (load(old)?, load(new)?);
        print!("{}", compare::render(&old, &new));
        return Ok(Outcome::Passed { tests: None });
    }
    let run = match &opts.report_only {
        Some(name) => load(name)?,
        None => measure(&opts)?,
    };
    print!("{}", report::markdown_table(&run));
    write_report(&run)?;
    if opts.readme {
        update_readme(&run)?;
    }
    Ok(Outcome::Passed { tests: None })
}

/// Replaces the section between the performance markers (`<!-- perf:start -->` ...
/// `<!-- perf:end -->`) of the root README with this run's summary, and that of each
/// `primitives/<crate>/README.md` with the table of the crate's own scenarios.
fn update_readme(run: &Run) -> Result<(), String> {
    replace_perf_section(
        &workspace_root().join("README.md"),
        &report::readme_summary(run),
    )?;
    let primitives = workspace_root().join("primitives");
    let mut crates: Vec<_> = std::fs::read_dir(&primitives)
        .map_err(|e| e.to_string())?
        .filter_map(|e| Some(e.ok()?.file_name().to_str()?.to_owned()))
        .collect();
    crates.sort();
    for krate in crates {
        let readme = primitives.join(&krate).join("README.md");
        match report::crate_summary(run, &krate) {
            Some(table) => replace_perf_section(&readme, &table)?,
            None => println!(
                "no `{krate}/...` scenario in this run: {} unchanged",
                readme.display()
            ),
        }
    }
    Ok(())
}

fn replace_perf_section(path: &std::path::Path, table: &str) -> Result<(), String> {
    let text = std::fs::read_to_string(path).map_err(|e| e.to_string())?;
    let (start, end) = ("<!-- perf:start -->", "<!-- perf:end -->");
    let (Some(a), Some(b)) = (text.find(start), text.find(end)) else {
        return Err(format!(
            "{} has no `{start}` ... `{end}` section",
            path.display()
        ));
    };
    let updated = format!("{}{start}\n{table}{}", &text[..a], &text[b..]);
    std::fs::write(path, updated).map_err(|e| e.to_string())?;
    println!("updated the performance section of {}", path.display());
    Ok(())
}

#[derive(Default)]
struct Options {
    quick: bool,
    save: Option<String>,
    filter: Option<String>,
    compare: Option<(String, String)>,
    report_only: Option<String>,
    readme: bool,
}

impl Options {
    fn parse(args: &[String]) -> Result<Self, String> {
        let mut opts = Options::default();
        let mut it = args.iter();
        while let Some(arg) = it.next() {
            let mut value = |what: &str| it.next().cloned().ok_or(format!("{arg} needs {what}"));
            match arg.as_str() {
                "--quick" => opts.quick = true,
                "--save" => opts.save = Some(value("a name")?),
                "--report" => opts.report_only = Some(value("a saved run")?),
                "--compare" => opts.compare = Some((value("OLD NEW")?, value("OLD NEW")?)),
                "--readme" => opts.readme = true,
                flag if flag.starts_with("--") => return Err(format!("unknown option {flag}")),
                filter => opts.filter = Some(filter.to_owned()),
            }
        }
        Ok(opts)
    }
}

fn measure(opts: &Options) -> Result<Run, String> {
    let started = SystemTime::now();
    // The floor always runs, so every ratio has its denominator from this run.
    let filter = opts.filter.as_ref().map(|f| format!("{f}|{FLOOR}"));
    let bench = |extra: &[&str]| {
        let command = cmd("cargo", &["bench", "-p", "gearset-benches", "--"]).args(extra);
        match &filter {
            Some(filter) => command.args(&[filter.as_str()]),
            None => command,
        }
    };
    let listed = bench(&["--list"]).run_ok()?;
    let total = listed
        .stdout
        .lines()
        .filter(|l| l.ends_with(": benchmark"))
        .count();
    let quick = [
        "--warm-up-time",
        "0.3",
        "--measurement-time",
        "1",
        "--sample-size",
        "10",
    ];
    let (mut done, mut previous) = (0, String::new());
    bench(if opts.quick { &quick } else { &[] }).run_ok_with(|line| {
        // criterion prints `<id>  time: [..]` once per finished benchmark, a long id on the
        // line before.
        if let Some((id, _)) = line.split_once("time:") {
            let id = if id.trim().is_empty() {
                previous.trim()
            } else {
                id.trim()
            };
            done += 1;
            println!("progress: {done}/{total} benchmarks done ({id})");
        }
        previous = line.to_owned();
    })?;
    let rows = criterion::collect(&workspace_root().join("target/criterion"), started)?;
    if rows.is_empty() {
        return Err("criterion wrote no results".into());
    }
    let name = opts.save.clone().unwrap_or_else(machine::timestamp);
    let run = Run {
        name,
        machine: machine::Machine::detect(&rows),
        rows,
    };
    save(&run)?;
    Ok(run)
}

fn report_dir() -> PathBuf {
    workspace_root().join("target/gearset-report")
}

fn write_report(run: &Run) -> Result<(), String> {
    let dir = report_dir();
    std::fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
    let md = dir.join("report.md");
    let html = dir.join("index.html");
    std::fs::write(&md, report::markdown(run)).map_err(|e| e.to_string())?;
    std::fs::write(&html, report::html(run)).map_err(|e| e.to_string())?;
    println!("report: {}\n        {}", md.display(), html.display());
    Ok(())
}

fn save(run: &Run) -> Result<(), String> {
    let dir = report_dir().join("runs");
    std::fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
    let path = dir.join(format!("{}.json", run.name));
    let text = serde_json::to_string_pretty(&to_json(run)).map_err(|e| e.to_string())?;
    std::fs::write(&path, text).map_err(|e| e.to_string())?;
    println!("saved run `{}`: {}", run.name, path.display());
    Ok(())
}

/// A saved run by name (`target/gearset-report/runs/<name>.json`) or by path.
fn load(name_or_path: &str) -> Result<Run, String> {
    let path = PathBuf::from(name_or_path);
    let path = if path.is_file() {
        path
    } else {
        report_dir().join(format!("runs/{name_or_path}.json"))
    };
    let text = std::fs::read_to_string(&path).map_err(|e| format!("{}: {e}", path.display()))?;
    let value: Value =
        serde_json::from_str(&text).map_err(|e| format!("{}: {e}", path.display()))?;
    from_json(&value).ok_or_else(|| format!("{}: not a gearset run", path.display()))
}

/// Whether an implementation counts as a competitor (see [`Run::vs_best_peer`]).
pub(crate) fn is_competitor(function: &str) -> bool {
    !function.starts_with("gearset") && !function.ends_with("floor")
}

pub(crate) fn to_json(run: &Run) -> Value {
    json!({
        "format": "gearset-run-1",
        "name": run.name,
        "machine": run.machine.to_json(),
        "rows": run.rows.iter().map(Row::to_json).collect::<Vec<_>>(),
    })
}

pub(crate) fn from_json(value: &Value) -> Option<Run> {
    if value["format"] != "gearset-run-1" {
        return None;
    }
    Some(Run {
        name: value["name"].as_str()?.to_owned(),
        machine: machine::Machine::from_json(&value["machine"]),
        rows: value["rows"]
            .as_array()?
            .iter()
            .map(Row::from_json)
            .collect::<Option<_>>()?,
    })
}

impl Run {
    /// The floor's median in this run.
    pub(crate) fn floor_ns(&self) -> Option<f64> {
        self.rows
            .iter()
            .find(|r| r.id() == FLOOR)
            .map(|r| r.median_ns)
    }

    /// The scenarios, in order, each with its rows (the floor is a scenario too).
    pub(crate) fn scenarios(&self) -> Vec<(&str, Vec<&Row>)> {
        let mut out: Vec<(&str, Vec<&Row>)> = Vec::new();
        for row in &self.rows {
            match out.last_mut() {
                Some((group, rows)) if *group == row.group => rows.push(row),
                _ => out.push((&row.group, vec![row])),
            }
        }
        out
    }

    /// gearset's median over the best (lowest) competitor median in `group`. Competitors are
    /// the implementations that are neither gearset's own variants (`gearset-*`) nor baselines
    /// named `*floor` (the sequential or physical limit a scenario shows for reference).
    pub(crate) fn vs_best_peer(&self, group: &str) -> Option<(f64, &str)> {
        let rows = || self.rows.iter().filter(move |r| r.group == group);
        let ours = rows().find(|r| r.function == "gearset")?.median_ns;
        let best = rows()
            .filter(|r| is_competitor(&r.function))
            .min_by(|a, b| a.median_ns.total_cmp(&b.median_ns))?;
        Some((ours / best.median_ns, &best.function))
    }
}

#[cfg(test)]
mod tests;
