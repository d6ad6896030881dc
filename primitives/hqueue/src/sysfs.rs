//! Topology discovery from Linux sysfs, and the flat fallback.
//!
//! Files read, under `<root>/devices/system/`:
//!
//! - `cpu/online`: the CPUs to include (a cpulist such as `0-7,16-23`);
//! - `cpu/cpuN/topology/physical_package_id`: the package (socket);
//! - `cpu/cpuN/topology/core_cpus_list` (or the older `thread_siblings_list`): the hyperthreads
//!   of N's core;
//! - `cpu/cpuN/cache/indexK/{level,type,shared_cpu_list}`: the L2 and L3 data or unified caches
//!   and the CPUs sharing them (instruction caches are skipped);
//! - `node/nodeM/cpulist`: the NUMA nodes (absent on kernels without NUMA: one node).
//!
//! Each CPU gets the path `Package / NUMA / L3 / L2 / Core / PU`, keyed by the package id, the
//! node number and the lowest CPU of each shared set; CPUs with equal keys share tree nodes. A
//! file that is missing drops that level for that CPU (no L3 on some ARM parts). If a cache
//! spans two NUMA nodes (AMD NPS4, sub-NUMA clustering) it appears once under each node.

use std::{
    collections::BTreeMap,
    fs, io,
    path::{Path, PathBuf},
};

use crate::{LevelKind, Source, Topology};

impl Topology {
    /// Reads the topology of this machine from sysfs mounted at `root` (normally `/sys`).
    ///
    /// ```
    /// # #[cfg(target_os = "linux")] {
    /// let t = gearset_hqueue::Topology::from_sysfs("/sys").expect("sysfs is mounted");
    /// assert!(t.leaf_count() >= 1);
    /// # }
    /// ```
    pub fn from_sysfs(root: impl AsRef<Path>) -> io::Result<Self> {
        let root = root.as_ref();
        let cpu_dir = root.join("devices/system/cpu");
        let online = parse_cpulist(&fs::read_to_string(cpu_dir.join("online"))?)?;
        if online.is_empty() {
            return Err(io::Error::new(io::ErrorKind::InvalidData, "no online CPUs"));
        }
        let numa = numa_nodes(&root.join("devices/system/node"));
        let paths = online
            .iter()
            .map(|&cpu| (cpu_path(&cpu_dir, cpu, &numa), cpu))
            .collect::<Vec<_>>();
        let source = Source::Sysfs(root.display().to_string());
        Ok(Self::from_paths(&paths, source))
    }

    /// This machine's topology: sysfs on Linux; elsewhere, or if sysfs cannot be read, a flat
    /// tree of `std::thread::available_parallelism()` cores ([`Source::Flat`] says why).
    ///
    /// ```
    /// let t = gearset_hqueue::Topology::discover();
    /// assert!(t.leaf_count() >= 1);
    /// println!("{t}");
    /// ```
    pub fn discover() -> Self {
        let sysfs = if cfg!(target_os = "linux") {
            Self::from_sysfs("/sys").map_err(|e| format!("cannot read /sys: {e}"))
        } else {
            Err("not Linux".to_owned())
        };
        sysfs.unwrap_or_else(|why| {
            let n = std::thread::available_parallelism().map_or(1, |n| n.get());
            Self::flat(n, &why)
        })
    }
}

/// The root-to-PU path of one CPU.
fn cpu_path(cpu_dir: &Path, cpu: usize, numa: &BTreeMap<usize, usize>) -> Vec<(LevelKind, u64)> {
    let dir = cpu_dir.join(format!("cpu{cpu}"));
    let package = read_number(&dir.join("topology/physical_package_id")).unwrap_or(0);
    let mut path = vec![(LevelKind::Package, package)];
    path.push((LevelKind::Numa, numa.get(&cpu).copied().unwrap_or(0) as u64));
    let caches = shared_caches(&dir.join("cache"));
    for level in [3, 2] {
        if let Some(&first) = caches.get(&level) {
            path.push((LevelKind::Cache(level), first as u64));
        }
    }
    let core = ["topology/core_cpus_list", "topology/thread_siblings_list"]
        .iter()
        .find_map(|f| first_cpu(&dir.join(f)))
        .unwrap_or(cpu);
    path.push((LevelKind::Core, core as u64));
    path.push((LevelKind::Pu, cpu as u64));
    path
}

/// cache level → lowest CPU sharing it, for the data/unified caches of one CPU.
fn shared_caches(cache_dir: &Path) -> BTreeMap<u8, usize> {
    let mut out = BTreeMap::new();
    let Ok(entries) = fs::read_dir(cache_dir) else {
        return out;
    };
    for entry in entries.flatten() {
        let dir = entry.path();
        let is_index = dir
            .file_name()
            .is_some_and(|n| n.to_string_lossy().starts_with("index"));
        let ty = fs::read_to_string(dir.join("type")).unwrap_or_default();
        if !is_index || ty.trim() == "Instruction" {
            continue;
        }
        let level = read_number(&dir.join("level"));
        let first = first_cpu(&dir.join("shared_cpu_list"));
        if let (Some(level @ 2..=3), Some(first)) = (level, first) {
            out.insert(level as u8, first);
        }
    }
    out
}

/// CPU → NUMA node, from `node/nodeM/cpulist`.
fn numa_nodes(node_dir: &Path) -> BTreeMap<usize, usize> {
    let mut out = BTreeMap::new();
    let Ok(entries) = fs::read_dir(node_dir) else {
        return out;
    };
    for entry in entries.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        let Some(node) = name.strip_prefix("node").and_then(|n| n.parse().ok()) else {
            continue;
        };
        let list: PathBuf = entry.path().join("cpulist");
        let cpus = fs::read_to_string(list)
            .ok()
            .and_then(|s| parse_cpulist(&s).ok());
        for cpu in cpus.unwrap_or_default() {
            out.insert(cpu, node);
        }
    }
    out
}

fn read_number(path: &Path) -> Option<u64> {
    fs::read_to_string(path).ok()?.trim().parse().ok()
}

fn first_cpu(path: &Path) -> Option<usize> {
    let list = parse_cpulist(&fs::read_to_string(path).ok()?).ok()?;
    list.first().copied()
}

/// Parses a Linux cpulist (`0-3,8,10-11`, possibly empty) into ascending CPU numbers.
pub(crate) fn parse_cpulist(s: &str) -> io::Result<Vec<usize>> {
    let bad = || io::Error::new(io::ErrorKind::InvalidData, format!("bad cpulist {s:?}"));
    let mut out = Vec::new();
    for part in s.trim().split(',').filter(|p| !p.is_empty()) {
        let (lo, hi) = part.split_once('-').unwrap_or((part, part));
        let lo: usize = lo.parse().map_err(|_| bad())?;
        let hi: usize = hi.parse().map_err(|_| bad())?;
        if hi < lo || hi - lo > crate::MAX_SYNTHETIC_PUS {
            return Err(bad());
        }
        out.extend(lo..=hi);
    }
    out.sort_unstable();
    out.dedup();
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cpulists_parse() {
        assert_eq!(
            parse_cpulist("0-3,8,10-11\n").unwrap(),
            [0, 1, 2, 3, 8, 10, 11]
        );
        assert_eq!(parse_cpulist("\n").unwrap(), Vec::<usize>::new());
        assert!(parse_cpulist("3-1").is_err());
        assert!(parse_cpulist("a").is_err());
    }
}
