//! The report: Markdown for terminals and READMEs, and one self-contained HTML page.

use std::fmt::Write;

use super::{FLOOR, Run, svg};

pub(crate) fn human(ns: f64) -> String {
    match ns {
        n if !n.is_finite() => "-".to_owned(),
        n if n >= 1e9 => format!("{:.2} s", n / 1e9),
        n if n >= 1e6 => format!("{:.2} ms", n / 1e6),
        n if n >= 1e3 => format!("{:.2} µs", n / 1e3),
        n => format!("{n:.1} ns"),
    }
}

/// One table: scenario, implementation, median, spread, x floor, gearset / best peer.
/// A ratio with three significant digits at most, so 0.0042 does not print as 0.00.
pub(crate) fn ratio(r: f64) -> String {
    match r {
        r if !r.is_finite() => "-".to_owned(),
        r if r >= 10.0 => format!("{r:.1}"),
        r if r >= 0.1 => format!("{r:.2}"),
        r => format!("{r:.2e}"),
    }
}

pub(crate) fn markdown_table(run: &Run) -> String {
    let floor = run.floor_ns();
    let mut out = String::from(
        "\n| scenario | implementation | median | ± MAD | 95% CI of median | x floor | gearset / best peer |\n|---|---|---:|---:|---:|---:|---:|\n",
    );
    for row in &run.rows {
        let x_floor = floor.map_or("-".into(), |f| ratio(row.median_ns / f));
        let peer = match (row.function.as_str(), run.vs_best_peer(&row.group)) {
            ("gearset", Some((ratio, best))) => format!("{ratio:.2} (vs {best})"),
            _ => String::new(),
        };
        let _ = writeln!(
            out,
            "| {} | {} | {} | {} | {}..{} | {x_floor} | {peer} |",
            row.group,
            row.function,
            human(row.median_ns),
            human(row.mad_ns),
            human(row.ci_ns.0),
            human(row.ci_ns.1)
        );
    }
    let _ = writeln!(
        out,
        "\nx floor: median / the cache-line ping-pong round trip (`{FLOOR}`) of this run. \
         gearset / best peer below 1.00 means gearset is faster."
    );
    out
}

/// The README's short table: one line per scenario with gearset's median, the best peer's,
/// their ratio and gearset's distance from the floor, under a line saying where it ran.
pub(crate) fn readme_summary(run: &Run) -> String {
    let mut out = measured_by(run);
    out.push_str(
        "| scenario | gearset | best peer | gearset / peer | gearset x floor |\n|---|---:|---|---:|---:|\n",
    );
    let floor = run.floor_ns();
    for (group, rows) in run.scenarios() {
        let Some(ours) = rows.iter().find(|r| r.function == "gearset") else {
            continue;
        };
        let peer = run.vs_best_peer(group);
        let best = peer.and_then(|(_, name)| rows.iter().find(|r| r.function == name));
        let _ = writeln!(
            out,
            "| {group} | {} | {} | {} | {} |",
            human(ours.median_ns),
            best.map_or("-".into(), |b| format!(
                "{} {}",
                b.function,
                human(b.median_ns)
            )),
            peer.map_or("-".into(), |(r, _)| format!("{r:.2}")),
            floor.map_or("-".into(), |f| ratio(ours.median_ns / f)),
        );
    }
    out
}

/// Where and how a run was measured: the line above every README table.
fn measured_by(run: &Run) -> String {
    let m = &run.machine;
    format!(
        "Measured by `cargo xtask bench --quick` (run `{}`, revision {}) on {} ({} cores){}. \
         Ratios below 1.00 favour gearset; the floor is a cache-line ping-pong round trip of the same run.\n\n",
        run.name,
        m.git,
        m.cpu,
        m.cores,
        if m.oversubscribed.is_empty() {
            String::new()
        } else {
            format!(
                "; more threads than cores in {}",
                m.oversubscribed.join(", ")
            )
        }
    )
}

/// A crate README's table: every implementation of each scenario named `<krate>/...`, with
/// its median, its ratio to gearset's and to the floor. `None` if the run has no such scenario.
pub(crate) fn crate_summary(run: &Run, krate: &str) -> Option<String> {
    let prefix = format!("{krate}/");
    let groups: Vec<_> = run
        .scenarios()
        .into_iter()
        .filter(|(group, _)| group.starts_with(&prefix))
        .collect();
    if groups.is_empty() {
        return None;
    }
    let floor = run.floor_ns();
    let mut out = measured_by(run);
    out.push_str(
        "| scenario | implementation | median | / gearset | x floor |\n|---|---|---:|---:|---:|\n",
    );
    for (group, rows) in groups {
        let ours = rows.iter().find(|r| r.function == "gearset");
        for row in &rows {
            let _ = writeln!(
                out,
                "| {group} | {} | {} | {} | {} |",
                row.function,
                human(row.median_ns),
                ours.map_or("-".into(), |o| ratio(row.median_ns / o.median_ns)),
                floor.map_or("-".into(), |f| ratio(row.median_ns / f)),
            );
        }
    }
    Some(out)
}

pub(crate) fn markdown(run: &Run) -> String {
    let mut out = format!("# gearset benchmark report: run `{}`\n\n", run.name);
    for line in run.machine.describe() {
        let _ = writeln!(out, "{line}");
    }
    out.push_str(&markdown_table(run));
    out
}

const STYLE: &str = "body{font:15px/1.45 system-ui,sans-serif;max-width:900px;margin:2em auto;color:#212529;padding:0 1em}\
table{border-collapse:collapse;margin:.5em 0 1em}td,th{padding:.25em .7em;border-bottom:1px solid #dee2e6;text-align:right}\
td:nth-child(1),th:nth-child(1){text-align:left}h2{margin-top:2em;font-size:1.2em}code{background:#f1f3f5;padding:0 .2em}\
.l{font-size:13px}.v{font-size:11px;fill:#495057}.t{font-size:11px;fill:#868e96}.g{stroke:#e9ecef}.w{stroke:#212529;stroke-width:1.5}\
.good{color:#2b8a3e;font-weight:600}.bad{color:#c92a2a;font-weight:600}";

pub(crate) fn html(run: &Run) -> String {
    let esc = svg::esc;
    let mut out = format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>gearset benchmarks: {}</title><style>{STYLE}</style></head><body>",
        esc(&run.name)
    );
    let _ = write!(
        out,
        "<h1>gearset benchmark report</h1><p>Run <code>{}</code></p><ul>",
        esc(&run.name)
    );
    for line in run.machine.describe() {
        let _ = write!(out, "<li>{}</li>", esc(line.trim_start_matches("- ")));
    }
    out.push_str("</ul><p>Each scenario: medians with their 95% confidence interval (log scale), the cache-line ping-pong floor of the same run, and the distribution of per-sample times.</p>");
    let floor = run.floor_ns();
    for (group, rows) in run.scenarios() {
        let _ = write!(out, "<h2 id=\"{0}\">{0}</h2>", esc(group));
        if let Some((ratio, best)) = run.vs_best_peer(group) {
            let class = if ratio <= 1.0 { "good" } else { "bad" };
            let _ = write!(
                out,
                "<p>gearset / best peer ({}): <span class=\"{class}\">{ratio:.2}</span></p>",
                esc(best)
            );
        }
        out.push_str("<table><tr><th>implementation</th><th>median</th><th>± MAD</th><th>95% CI</th><th>x floor</th></tr>");
        for row in &rows {
            let x_floor = floor.map_or("-".into(), |f| ratio(row.median_ns / f));
            let _ = write!(
                out,
                "<tr><td>{}</td><td>{}</td><td>{}</td><td>{} .. {}</td><td>{x_floor}</td></tr>",
                esc(&row.function),
                human(row.median_ns),
                human(row.mad_ns),
                human(row.ci_ns.0),
                human(row.ci_ns.1)
            );
        }
        out.push_str("</table>");
        let floor_bar = if group == FLOOR.rsplit_once('/').map_or("", |(g, _)| g) {
            None
        } else {
            floor
        };
        out.push_str(&svg::bars(&rows, floor_bar));
        if let Some(curve) = svg::percentiles(&rows) {
            out.push_str("<p>Per-sample time by percentile:</p>");
            out.push_str(&curve);
        }
    }
    out.push_str("</body></html>\n");
    out
}
