//! Reading criterion's output: `<group>/<function>/new/{benchmark,estimates,sample}.json`.

use std::{
    path::{Path, PathBuf},
    time::SystemTime,
};

use serde_json::{Value, json};

/// One implementation in one scenario.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Row {
    pub(crate) group: String,
    pub(crate) function: String,
    pub(crate) median_ns: f64,
    /// The 95% confidence interval of the median.
    pub(crate) ci_ns: (f64, f64),
    /// Median absolute deviation of the samples: the spread.
    pub(crate) mad_ns: f64,
    /// Per-iteration time of each sample, sorted: the latency distribution across samples.
    pub(crate) samples_ns: Vec<f64>,
}

impl Row {
    pub(crate) fn id(&self) -> String {
        format!("{}/{}", self.group, self.function)
    }

    /// The `p`-th percentile (0..=100) of the per-sample times.
    pub(crate) fn percentile(&self, p: f64) -> Option<f64> {
        let n = self.samples_ns.len();
        let last = n.checked_sub(1)?;
        Some(self.samples_ns[((p / 100.0) * last as f64).round() as usize])
    }

    pub(crate) fn to_json(&self) -> Value {
        json!({
            "scenario": self.group, "implementation": self.function,
            "median_ns": self.median_ns, "ci_low_ns": self.ci_ns.0, "ci_high_ns": self.ci_ns.1,
            "mad_ns": self.mad_ns, "samples_ns": self.samples_ns,
        })
    }

    pub(crate) fn from_json(v: &Value) -> Option<Row> {
        Some(Row {
            group: v["scenario"].as_str()?.to_owned(),
            function: v["implementation"].as_str()?.to_owned(),
            median_ns: v["median_ns"].as_f64()?,
            ci_ns: (v["ci_low_ns"].as_f64()?, v["ci_high_ns"].as_f64()?),
            mad_ns: v["mad_ns"].as_f64()?,
            samples_ns: v["samples_ns"]
                .as_array()?
                .iter()
                .filter_map(Value::as_f64)
                .collect(),
        })
    }
}

/// Every result criterion wrote under `dir` since `since` (all of them for `UNIX_EPOCH`).
pub(crate) fn collect(dir: &Path, since: SystemTime) -> Result<Vec<Row>, String> {
    let mut rows = Vec::new();
    for estimates in find(dir, "estimates.json") {
        let new_dir = estimates.parent().expect("a file has a folder");
        let modified = std::fs::metadata(&estimates).and_then(|m| m.modified());
        if new_dir.file_name() != Some("new".as_ref()) || modified.map_or(true, |t| t < since) {
            continue;
        }
        rows.push(read_row(new_dir)?);
    }
    rows.sort_by(|a, b| (&a.group, &a.function).cmp(&(&b.group, &b.function)));
    Ok(rows)
}

fn read_row(dir: &Path) -> Result<Row, String> {
    let meta = read_json(&dir.join("benchmark.json"))?;
    let est = read_json(&dir.join("estimates.json"))?;
    let median = &est["median"];
    let f = |v: &Value| v.as_f64().unwrap_or(f64::NAN);
    // A parameterized bench (`BenchmarkId::new("gearset", 3)`) is one scenario per parameter.
    let group = meta["group_id"].as_str().unwrap_or_default();
    let group = match meta["value_str"].as_str() {
        Some(value) => format!("{group}/{value}"),
        None => group.to_owned(),
    };
    Ok(Row {
        group,
        function: meta["function_id"].as_str().unwrap_or_default().to_owned(),
        median_ns: f(&median["point_estimate"]),
        ci_ns: (
            f(&median["confidence_interval"]["lower_bound"]),
            f(&median["confidence_interval"]["upper_bound"]),
        ),
        mad_ns: f(&est["median_abs_dev"]["point_estimate"]),
        samples_ns: read_samples(&dir.join("sample.json")),
    })
}

/// `sample.json` holds `iters` and total `times` per sample; a missing file is no samples.
fn read_samples(path: &Path) -> Vec<f64> {
    let Ok(sample) = read_json(path) else {
        return Vec::new();
    };
    let column = |k: &str| sample[k].as_array().cloned().unwrap_or_default();
    let mut per_iter: Vec<f64> = column("iters")
        .iter()
        .zip(column("times"))
        .filter_map(|(i, t)| Some(t.as_f64()? / i.as_f64()?))
        .collect();
    per_iter.sort_by(f64::total_cmp);
    per_iter
}

fn find(dir: &Path, name: &str) -> Vec<PathBuf> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut found: Vec<PathBuf> = Vec::new();
    for path in entries.filter_map(Result::ok).map(|e| e.path()) {
        if path.is_dir() {
            found.extend(find(&path, name));
        } else if path.ends_with(name) {
            found.push(path);
        }
    }
    found
}

fn read_json(path: &Path) -> Result<Value, String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
    serde_json::from_str(&text).map_err(|e| format!("{}: {e}", path.display()))
}
