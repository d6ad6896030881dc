//! `cargo xtask <stage>`: every CI stage of gearset, each runnable alone.
//!
//! Each stage prints the commands it runs and how long they took; `ci` runs them all in order,
//! stops at the first failure and ends with a table of stages, times and test counts. A stage
//! that cannot run (no nightly Miri) prints a loud `SKIPPED:` line and shows it in the table;
//! it never reports green for work it did not do.

mod bench;
mod models;
mod run;
mod stages;
mod tla;

use std::{process::ExitCode, time::Instant};

use run::{Outcome, Report};

const USAGE: &str = "\
usage: cargo xtask <stage> [options]

stages:
  fmt        cargo fmt --check
  clippy     clippy -D warnings, then the facade rule under --cfg gearset_loom
  test       unit, integration, doc tests; benches compiled and run once
  doc        rustdoc with -D warnings
  msrv       the primitives build with the workspace rust-version (installed by rustup)
  loom       loom models (models/tests/loom_*.rs) and the loom mutants, which must fail
  shuttle    shuttle tests (models/tests/shuttle_*.rs)
  conformance  recorded shuttle runs replayed against their TLA+ specs (models/tests/conformance_*.rs)
  miri       unit and integration tests of the primitives under Miri (nightly)
  tla        tla-checker on tla/*/models/*.cfg (must pass) and tla/*/mutants/*.cfg (must fail)
  package    cargo package --workspace
  bench      criterion benches; prints medians and ratios [--quick] [FILTER]
  ci         all of the above but bench, in that order, with a summary";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let Some(stage) = args.first() else {
        eprintln!("{USAGE}");
        return ExitCode::FAILURE;
    };
    let rest = &args[1..];
    let mut report = Report::default();
    let ok = match stage.as_str() {
        "ci" => ci(&mut report),
        "bench" => report.stage("bench", || bench::run(rest)),
        "-h" | "--help" | "help" => {
            println!("{USAGE}");
            return ExitCode::SUCCESS;
        }
        name => match stages::by_name(name) {
            Some(stage) => report.stage(name, stage),
            None => {
                eprintln!("unknown stage `{name}`\n\n{USAGE}");
                return ExitCode::FAILURE;
            }
        },
    };
    report.print_summary();
    if ok {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}

/// Every stage in the order CI runs them: cheap checks first, so a formatting slip fails in
/// seconds, not after the model checkers.
fn ci(report: &mut Report) -> bool {
    let started = Instant::now();
    let order = [
        "fmt",
        "clippy",
        "test",
        "doc",
        "msrv",
        "loom",
        "shuttle",
        "conformance",
        "miri",
        "tla",
        "package",
    ];
    for name in order {
        let stage = stages::by_name(name).expect("every CI stage is known");
        if !report.stage(name, stage) {
            println!("\nci: stage `{name}` failed; stopping.");
            return false;
        }
    }
    println!("\nci: all stages passed in {:.0?}", started.elapsed());
    report.all(|o| !matches!(o, Outcome::Failed))
}
