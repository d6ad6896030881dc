//! `--compare OLD NEW`: per-scenario changes between two saved runs, the way critcmp shows
//! them, with a verdict: a change counts only when the two medians' 95% confidence intervals do
//! not overlap.

use std::fmt::Write;

use super::{Run, report::human};

#[derive(Debug, PartialEq)]
pub(crate) enum Verdict {
    Faster,
    Slower,
    NoChange,
}

pub(crate) fn verdict(old: (f64, f64), new: (f64, f64)) -> Verdict {
    if new.1 < old.0 {
        Verdict::Faster
    } else if new.0 > old.1 {
        Verdict::Slower
    } else {
        Verdict::NoChange
    }
}

pub(crate) fn render(old: &Run, new: &Run) -> String {
    let mut out = format!(
        "\ncomparing `{}` ({}) -> `{}` ({})\n\n| scenario | implementation | old | new | change | verdict |\n|---|---|---:|---:|---:|---|\n",
        old.name, old.machine.git, new.name, new.machine.git
    );
    for row in &new.rows {
        let Some(before) = old.rows.iter().find(|r| r.id() == row.id()) else {
            let _ = writeln!(
                out,
                "| {} | {} | - | {} | - | new |",
                row.group,
                row.function,
                human(row.median_ns)
            );
            continue;
        };
        let change = (row.median_ns / before.median_ns - 1.0) * 100.0;
        let verdict = match verdict(before.ci_ns, row.ci_ns) {
            Verdict::Faster => "faster (significant)",
            Verdict::Slower => "slower (significant)",
            Verdict::NoChange => "no change (CIs overlap)",
        };
        let _ = writeln!(
            out,
            "| {} | {} | {} | {} | {change:+.1}% | {verdict} |",
            row.group,
            row.function,
            human(before.median_ns),
            human(row.median_ns)
        );
    }
    for gone in old
        .rows
        .iter()
        .filter(|r| !new.rows.iter().any(|n| n.id() == r.id()))
    {
        let _ = writeln!(
            out,
            "| {} | {} | {} | - | - | gone |",
            gone.group,
            gone.function,
            human(gone.median_ns)
        );
    }
    if old.machine.cpu != new.machine.cpu || old.machine.cores != new.machine.cores {
        out.push_str("\nwarning: the runs come from different machines; compare ratios to the floor, not times.\n");
    }
    out
}
