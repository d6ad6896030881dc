//! Hand-written SVG charts: no plotting dependency, no fonts to load, nothing fetched. Times are
//! drawn on a log scale, because a scenario's implementations and the floor can differ by
//! orders of magnitude.

use std::fmt::Write;

use super::{Row, report::human};

const WIDTH: f64 = 760.0;
const LABEL: f64 = 150.0;
/// Room on the right for value and tick labels.
const RIGHT: f64 = 70.0;
const BAR_H: f64 = 22.0;
const COLORS: [&str; 6] = [
    "#1c7ed6", "#37b24d", "#ae3ec9", "#f59f00", "#0ca678", "#e64980",
];

/// The colour of an implementation: gearset orange, the floor grey, peers from a palette.
pub(crate) fn color(function: &str, index: usize) -> &'static str {
    match function {
        "gearset" => "#e8590c",
        "floor" => "#868e96",
        _ => COLORS[index % COLORS.len()],
    }
}

pub(crate) fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// A log-scale axis over `[lo, hi]` nanoseconds mapped onto `[x0, x1]`.
struct LogAxis {
    lo: f64,
    hi: f64,
    x0: f64,
    x1: f64,
}

impl LogAxis {
    fn new(values: impl Iterator<Item = f64>, x0: f64, x1: f64) -> Self {
        let (mut lo, mut hi) = (f64::MAX, f64::MIN);
        for v in values.filter(|v| v.is_finite() && *v > 0.0) {
            lo = lo.min(v);
            hi = hi.max(v);
        }
        if lo > hi {
            (lo, hi) = (1.0, 10.0);
        }
        let lo = 10f64.powf(lo.log10().floor());
        let hi = 10f64.powf(hi.log10().ceil().max(lo.log10() + 1.0));
        LogAxis { lo, hi, x0, x1 }
    }

    fn at(&self, ns: f64) -> f64 {
        let t = (ns.max(self.lo).log10() - self.lo.log10()) / (self.hi.log10() - self.lo.log10());
        self.x0 + t * (self.x1 - self.x0)
    }

    fn decades(&self) -> impl Iterator<Item = f64> + '_ {
        let (a, b) = (self.lo.log10() as i32, self.hi.log10() as i32);
        (a..=b).map(|e| 10f64.powi(e))
    }
}

/// Horizontal bars: each implementation's median with its 95% CI as a whisker, and the floor.
pub(crate) fn bars(rows: &[&Row], floor: Option<f64>) -> String {
    let mut items: Vec<(String, f64, (f64, f64), &str)> = rows
        .iter()
        .enumerate()
        .map(|(i, r)| {
            (
                r.function.clone(),
                r.median_ns,
                r.ci_ns,
                color(&r.function, i),
            )
        })
        .collect();
    if let Some(f) = floor {
        items.push(("floor".into(), f, (f, f), color("floor", 0)));
    }
    let values = items.iter().flat_map(|(_, m, (lo, hi), _)| [*m, *lo, *hi]);
    let axis = LogAxis::new(values, LABEL, WIDTH - RIGHT);
    let height = 30.0 + items.len() as f64 * (BAR_H + 8.0) + 24.0;
    let mut svg = open(height);
    for (i, (name, median, (lo, hi), fill)) in items.iter().enumerate() {
        let y = 20.0 + i as f64 * (BAR_H + 8.0);
        let (x, mid) = (axis.at(axis.lo), y + BAR_H / 2.0);
        let _ = write!(
            svg,
            r#"<text x="{}" y="{}" text-anchor="end" class="l">{}</text><rect x="{x}" y="{y}" width="{:.1}" height="{BAR_H}" fill="{fill}"><title>{}: {}</title></rect><line x1="{:.1}" x2="{:.1}" y1="{mid}" y2="{mid}" class="w"/><text x="{:.1}" y="{}" class="v">{}</text>"#,
            LABEL - 8.0,
            mid + 4.0,
            esc(name),
            (axis.at(*median) - x).max(1.0),
            esc(name),
            human(*median),
            axis.at(*lo),
            axis.at(*hi),
            axis.at(*median) + 4.0,
            y - 2.0,
            human(*median),
        );
    }
    axis_ticks(&mut svg, &axis, height - 18.0);
    svg.push_str("</svg>");
    svg
}

/// Percentile curves of the per-sample times, one line per implementation.
pub(crate) fn percentiles(rows: &[&Row]) -> Option<String> {
    let rows: Vec<&&Row> = rows.iter().filter(|r| r.samples_ns.len() >= 2).collect();
    if rows.is_empty() {
        return None;
    }
    let (top, bottom) = (20.0, 200.0);
    let values = rows.iter().flat_map(|r| r.samples_ns.iter().copied());
    // The log axis runs vertically here: map it onto [bottom, top].
    let axis = LogAxis::new(values, bottom, top);
    let x = |p: f64| LABEL + p / 100.0 * (WIDTH - LABEL - RIGHT);
    let mut svg = open(bottom + 40.0);
    for (i, row) in rows.iter().enumerate() {
        let points: Vec<String> = (0..=20)
            .filter_map(|k| {
                let p = f64::from(k) * 5.0;
                Some(format!("{:.1},{:.1}", x(p), axis.at(row.percentile(p)?)))
            })
            .collect();
        let fill = color(&row.function, i);
        let _ = write!(
            svg,
            r#"<polyline points="{}" fill="none" stroke="{fill}" stroke-width="2"/><text x="{}" y="{}" class="l" fill="{fill}" text-anchor="end">{}</text>"#,
            points.join(" "),
            LABEL - 8.0,
            top + 14.0 + i as f64 * 16.0,
            esc(&row.function)
        );
    }
    for d in axis.decades() {
        let y = axis.at(d);
        let _ = write!(
            svg,
            r#"<line x1="{LABEL}" x2="{}" y1="{y:.1}" y2="{y:.1}" class="g"/><text x="{}" y="{:.1}" class="t">{}</text>"#,
            WIDTH - RIGHT,
            WIDTH - RIGHT + 4.0,
            y + 4.0,
            decade(d)
        );
    }
    for p in [0, 25, 50, 75, 100] {
        let _ = write!(
            svg,
            r#"<text x="{:.1}" y="{}" class="t" text-anchor="middle">p{p}</text>"#,
            x(f64::from(p)),
            bottom + 18.0
        );
    }
    svg.push_str("</svg>");
    Some(svg)
}

/// A power of ten as a tick label: `1 ns`, `10 µs`, `100 ms`.
fn decade(ns: f64) -> String {
    let (value, unit) = match ns {
        n if n >= 1e9 => (n / 1e9, "s"),
        n if n >= 1e6 => (n / 1e6, "ms"),
        n if n >= 1e3 => (n / 1e3, "µs"),
        n => (n, "ns"),
    };
    format!("{value:.0} {unit}")
}

fn open(height: f64) -> String {
    format!(
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{height}" viewBox="0 0 {WIDTH} {height}" role="img">"#
    )
}

fn axis_ticks(svg: &mut String, axis: &LogAxis, y: f64) {
    for d in axis.decades() {
        let x = axis.at(d);
        let _ = write!(
            svg,
            r#"<line x1="{x:.1}" x2="{x:.1}" y1="14" y2="{:.1}" class="g"/><text x="{x:.1}" y="{:.1}" class="t" text-anchor="middle">{}</text>"#,
            y - 6.0,
            y + 8.0,
            decade(d)
        );
    }
}
