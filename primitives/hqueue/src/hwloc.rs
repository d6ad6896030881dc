//! Topology discovery through hwloc (the `hwloc` feature, `hwlocality` over the system's
//! libhwloc: on Debian, `libhwloc-dev`, `libudev-dev` and `pkg-config`).
//!
//! Each PU gets the path `Package / NUMA / Group / L3 / L2 / Core / PU` from its hwloc
//! ancestors, keyed by each object's global persistent index (the NUMA node by its OS index,
//! found by cpuset: in hwloc 2 NUMA nodes are memory children, not CPU ancestors), so the tree
//! is built by the same code as the sysfs one and PUs with equal keys share nodes.

use std::io;

use hwlocality::object::{TopologyObject, types::ObjectType};

use crate::{LevelKind, Source, Topology};

impl Topology {
    /// Reads this machine's topology through hwloc.
    ///
    /// Fails with the hwloc error (as [`io::Error`]) when hwloc cannot load the topology.
    ///
    /// ```
    /// let t = gearset_hqueue::Topology::from_hwloc().expect("hwloc loads");
    /// assert!(t.leaf_count() >= 1);
    /// assert_eq!(t.cpus().len(), t.count(gearset_hqueue::LevelKind::Pu));
    /// ```
    pub fn from_hwloc() -> io::Result<Self> {
        let hw = hwlocality::Topology::new().map_err(|e| io::Error::other(e.to_string()))?;
        let numa: Vec<&TopologyObject> = hw.objects_with_type(ObjectType::NUMANode).collect();
        let mut paths = Vec::new();
        for pu in hw.objects_with_type(ObjectType::PU) {
            let Some(cpu) = pu.os_index() else {
                continue;
            };
            paths.push((pu_path(pu, cpu, &numa), cpu));
        }
        if paths.is_empty() {
            return Err(io::Error::other("hwloc reports no PU with an OS index"));
        }
        Ok(Self::from_paths(&paths, Source::Hwloc(hwloc_version())))
    }
}

fn hwloc_version() -> String {
    format!("hwloc API {:#x}", hwlocality::hwloc_api_version())
}

/// The root-to-PU path of one PU, top-down.
fn pu_path(pu: &TopologyObject, cpu: usize, numa: &[&TopologyObject]) -> Vec<(LevelKind, u64)> {
    let mut path: Vec<(LevelKind, u64)> = pu
        .ancestors()
        .filter_map(|a| Some((kind(a.object_type())?, a.global_persistent_index())))
        .collect();
    path.reverse();
    let node = numa
        .iter()
        .find(|n| n.cpuset().is_some_and(|set| set.is_set(cpu)))
        .and_then(|n| n.os_index());
    if let Some(node) = node {
        // Below the package, above the caches: where sysfs puts it too.
        let at = path
            .iter()
            .position(|(k, _)| *k != LevelKind::Package)
            .unwrap_or(path.len());
        path.insert(at, (LevelKind::Numa, node as u64));
    }
    path.push((LevelKind::Pu, cpu as u64));
    path
}

/// The tree level an hwloc CPU-side object becomes, if any (L1 caches, instruction caches and
/// the machine are skipped: the root is implicit; so are dies, which `hwlocality` exposes
/// only for hwloc 2.1 and later through a feature this crate does not require).
fn kind(t: ObjectType) -> Option<LevelKind> {
    Some(match t {
        ObjectType::Package => LevelKind::Package,
        ObjectType::Group => LevelKind::Group,
        ObjectType::L3Cache => LevelKind::Cache(3),
        ObjectType::L2Cache => LevelKind::Cache(2),
        ObjectType::Core => LevelKind::Core,
        _ => return None,
    })
}
