//! The report header: what machine a run measured, so runs from different machines (or one
//! noisy afternoon) are not compared blindly.

use std::process::Command;

use serde_json::{Value, json};

use super::Row;

#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct Machine {
    pub(crate) cpu: String,
    pub(crate) cores: usize,
    pub(crate) caches: String,
    pub(crate) os: String,
    pub(crate) rustc: String,
    pub(crate) git: String,
    pub(crate) date: String,
    /// Scenarios that ran more threads than the machine has cores.
    pub(crate) oversubscribed: Vec<String>,
}

impl Machine {
    pub(crate) fn detect(rows: &[Row]) -> Self {
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
        Machine {
            cpu: cpu_model(),
            cores,
            caches: format!("{}; {}", caches(), topology()),
            os: os_name(),
            rustc: output("rustc", &["--version"]),
            git: git_revision(),
            date: output("date", &["-u", "+%Y-%m-%d %H:%M UTC"]),
            oversubscribed: oversubscribed(rows, cores),
        }
    }

    pub(crate) fn to_json(&self) -> Value {
        json!({
            "cpu": self.cpu, "cores": self.cores, "caches": self.caches, "os": self.os,
            "rustc": self.rustc, "git": self.git, "date": self.date,
            "oversubscribed": self.oversubscribed,
        })
    }

    pub(crate) fn from_json(v: &Value) -> Self {
        let s = |k: &str| v[k].as_str().unwrap_or_default().to_owned();
        Machine {
            cpu: s("cpu"),
            cores: v["cores"].as_u64().unwrap_or(0) as usize,
            caches: s("caches"),
            os: s("os"),
            rustc: s("rustc"),
            git: s("git"),
            date: s("date"),
            oversubscribed: v["oversubscribed"]
                .as_array()
                .map(|a| {
                    a.iter()
                        .filter_map(|x| x.as_str().map(str::to_owned))
                        .collect()
                })
                .unwrap_or_default(),
        }
    }

    /// Header lines, Markdown.
    pub(crate) fn describe(&self) -> Vec<String> {
        let over = if self.oversubscribed.is_empty() {
            "no".to_owned()
        } else {
            format!(
                "yes: {} (more threads than cores)",
                self.oversubscribed.join(", ")
            )
        };
        vec![
            format!("- CPU: {} ({} cores available)", self.cpu, self.cores),
            format!("- Caches: {}", self.caches),
            format!("- OS: {}; {}", self.os, self.rustc),
            format!("- Revision: {}; run at {}", self.git, self.date),
            format!("- Oversubscribed: {over}"),
        ]
    }
}

/// The thread count a scenario states in its name: `4t`, `threads=4`, or `3p1c` (3 producers,
/// 1 consumer). Scenarios that state none are counted as two threads.
pub(crate) fn threads(id: &str) -> usize {
    id.split(['/', '_', '-', ' '])
        .filter_map(|token| {
            if let Some(n) = token.strip_prefix("threads=") {
                return n.parse().ok();
            }
            if let Some(n) = token.strip_suffix('t') {
                return n.parse().ok();
            }
            let (p, c) = token.strip_suffix('c')?.split_once('p')?;
            Some(p.parse::<usize>().ok()? + c.parse::<usize>().ok()?)
        })
        .max()
        .unwrap_or(2)
}

fn oversubscribed(rows: &[Row], cores: usize) -> Vec<String> {
    let mut groups: Vec<String> = rows
        .iter()
        .filter(|r| threads(&r.id()) > cores)
        .map(|r| r.group.clone())
        .collect();
    groups.dedup();
    groups
}

fn cpu_model() -> String {
    let info = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
    let model = info
        .lines()
        .find_map(|l| l.strip_prefix("model name")?.split_once(':'));
    model.map_or_else(
        || std::env::consts::ARCH.to_owned(),
        |(_, m)| m.trim().to_owned(),
    )
}

/// The machine's shape as gearset-hqueue discovers it (sysfs on Linux, flat elsewhere): the
/// same tree the hierarchical queues and the scheduler use.
fn topology() -> String {
    use gearset_hqueue::{LevelKind, Topology};
    let t = Topology::discover();
    let n = |kind| t.count(kind);
    format!(
        "{} NUMA node(s), {} L3, {} L2, {} cores, {} PUs (gearset-hqueue topology)",
        n(LevelKind::Numa),
        n(LevelKind::Cache(3)),
        n(LevelKind::Cache(2)),
        t.leaf_count(),
        t.cpus().len()
    )
}

/// cpu0's caches from sysfs: `L1d 32K, L1i 32K, L2 1M, L3 32M`.
fn caches() -> String {
    let base = "/sys/devices/system/cpu/cpu0/cache";
    let read = |i: usize, f: &str| std::fs::read_to_string(format!("{base}/index{i}/{f}")).ok();
    let parts: Vec<String> = (0..8)
        .map_while(|i| {
            let level = read(i, "level")?;
            let kind = match read(i, "type")?.trim() {
                "Data" => "d",
                "Instruction" => "i",
                _ => "",
            };
            Some(format!(
                "L{}{kind} {}",
                level.trim(),
                read(i, "size")?.trim()
            ))
        })
        .collect();
    if parts.is_empty() {
        "unknown".to_owned()
    } else {
        parts.join(", ")
    }
}

fn os_name() -> String {
    let release = std::fs::read_to_string("/etc/os-release").unwrap_or_default();
    let pretty = release.lines().find_map(|l| l.strip_prefix("PRETTY_NAME="));
    let kernel = output("uname", &["-sr"]);
    match pretty {
        Some(name) => format!("{} ({kernel})", name.trim_matches('"')),
        None => kernel,
    }
}

fn git_revision() -> String {
    let rev = output("git", &["rev-parse", "--short", "HEAD"]);
    let dirty = !output("git", &["status", "--porcelain", "--untracked-files=no"]).is_empty();
    if dirty {
        format!("{rev} (with uncommitted changes)")
    } else {
        rev
    }
}

/// A run name: the UTC time, `20261121-174500`.
pub(crate) fn timestamp() -> String {
    output("date", &["-u", "+%Y%m%d-%H%M%S"])
}

fn output(program: &str, args: &[&str]) -> String {
    Command::new(program)
        .args(args)
        .output()
        .ok()
        .filter(|o| o.status.success())
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned())
        .unwrap_or_else(|| "unknown".to_owned())
}
