//! The machine as a tree: levels (package, NUMA node, caches, cores, PUs), the CPUs under each
//! node, and the distance (nearest shared level) between any two leaves.
//!
//! A [`Topology`] comes from one of three sources:
//!
//! - [`Topology::synthetic`]: a string in hwloc's synthetic syntax (`"numa:2 l3:2 core:4 pu:2"`),
//!   so a 2-core CI box can build, test and simulate a 2-socket, 32-thread tree;
//! - [`Topology::from_sysfs`] / [`Topology::discover`]: Linux sysfs (see `sysfs.rs`);
//! - [`Topology::flat`]: `n` cores directly under the machine, the fallback where discovery is
//!   not possible.
//!
//! The tree always has a `Machine` root and PUs (hardware threads) at the bottom. The *leaves*
//! are the cores (hyperthreads of one core share its leaf); a topology without a core level uses
//! its PUs as leaves. Leaves are numbered `0..leaf_count()` left to right.

use core::fmt;
use std::collections::BTreeMap;

use crate::error::ParseError;

/// The kind of a level in the machine tree, ordered from nearest (`Pu`) to farthest (`Machine`)
/// for the usual nesting. The order is only a naming order: which level is above which in a
/// given tree is the tree's business (a synthetic `numa:2 pack:2` nests packages in nodes).
///
/// ```
/// use gearset_hqueue::LevelKind;
/// assert!(LevelKind::Core < LevelKind::Cache(2));
/// assert_eq!(LevelKind::Cache(3).to_string(), "L3");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum LevelKind {
    /// A hardware thread (hyperthread): what the OS calls a CPU.
    Pu,
    /// A physical core; the leaf level of the queue tree.
    Core,
    /// A data or unified cache shared by the PUs below it; the number is its level (1..=5).
    Cache(u8),
    /// An hwloc group (for example a cluster of cores).
    Group,
    /// A die inside a package.
    Die,
    /// A NUMA node: the CPUs closest to one memory controller.
    Numa,
    /// A package (socket).
    Package,
    /// The whole machine: the root, exactly once.
    Machine,
}

impl fmt::Display for LevelKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Pu => f.write_str("PU"),
            Self::Core => f.write_str("Core"),
            Self::Cache(n) => write!(f, "L{n}"),
            Self::Group => f.write_str("Group"),
            Self::Die => f.write_str("Die"),
            Self::Numa => f.write_str("NUMA"),
            Self::Package => f.write_str("Package"),
            Self::Machine => f.write_str("Machine"),
        }
    }
}

/// Where a [`Topology`] came from. Pinning needs a topology of *this* machine.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    /// Parsed from an hwloc synthetic string (kept here, normalized).
    Synthetic(String),
    /// Read from Linux sysfs (the root directory read, normally `/sys`).
    Sysfs(String),
    /// A flat fallback of `n` cores: discovery was not possible, for the reason given.
    Flat(String),
    /// Read through hwloc ([`Topology::from_hwloc`], the `hwloc` feature); the string names
    /// the hwloc API version. (This variant exists only with the feature.)
    #[cfg(feature = "hwloc")]
    Hwloc(String),
}

/// One node of the tree. `cpus` are OS CPU numbers for sysfs, logical PU numbers otherwise.
#[derive(Debug, Clone)]
pub(crate) struct Node {
    pub(crate) kind: LevelKind,
    pub(crate) parent: Option<usize>,
    pub(crate) children: Vec<usize>,
    pub(crate) cpus: Vec<usize>,
    /// Index among the nodes of the same kind, left to right (hwloc's logical index).
    pub(crate) logical: usize,
    pub(crate) depth: usize,
}

/// The distance between two leaves: the nearest level they share, and how many tree levels
/// above the leaves it sits (0 for the same leaf).
///
/// ```
/// use gearset_hqueue::{LevelKind, Topology};
/// let t = Topology::synthetic("numa:2 l3:2 core:4 pu:2")?;
/// assert_eq!(t.distance(0, 1).level, LevelKind::Cache(3));
/// assert_eq!(t.distance(0, 4).level, LevelKind::Numa);
/// assert_eq!(t.distance(0, 15).level, LevelKind::Machine);
/// assert_eq!(t.distance(3, 3).hops, 0);
/// # Ok::<(), gearset_hqueue::ParseError>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Distance {
    /// Tree levels between the leaves and their nearest common ancestor.
    pub hops: usize,
    /// The kind of that ancestor (`Core` when both are the same leaf).
    pub level: LevelKind,
}

/// The machine (or a synthetic one) as a tree of levels. Immutable once built; cheap to clone.
///
/// `Display` draws the tree, one line per node above the PUs, with the CPUs under it:
///
/// ```
/// use gearset_hqueue::Topology;
/// let t = Topology::synthetic("pack:2 core:2 pu:2")?;
/// assert_eq!(
///     t.to_string(),
///     "Machine: 2 packages, 4 cores, 8 PUs (synthetic \"pack:2 core:2 pu:2\")\n\
///      Machine (cpus 0-7)\n\
///      ├─ Package 0 (cpus 0-3)\n\
///      │  ├─ Core 0 (cpus 0-1) leaf 0\n\
///      │  └─ Core 1 (cpus 2-3) leaf 1\n\
///      └─ Package 1 (cpus 4-7)\n   \
///         ├─ Core 2 (cpus 4-5) leaf 2\n   \
///         └─ Core 3 (cpus 6-7) leaf 3\n"
/// );
/// # Ok::<(), gearset_hqueue::ParseError>(())
/// ```
#[derive(Debug, Clone)]
pub struct Topology {
    pub(crate) nodes: Vec<Node>,
    pub(crate) leaves: Vec<usize>,
    source: Source,
}

/// The most PUs a synthetic string may describe (keeps a typo like `core:100000` from
/// allocating a huge tree).
pub const MAX_SYNTHETIC_PUS: usize = 1 << 16;

impl Topology {
    /// Parses hwloc's synthetic syntax: space-separated `type:count` tokens from the top of the
    /// tree down, for example `"numa:2 l3:2 core:4 pu:2"` (2 NUMA nodes × 2 L3 × 4 cores × 2 PUs
    /// = 32 PUs, 16 leaves).
    ///
    /// Accepted types (case-insensitive, hwloc's spellings): `pack`/`package`/`socket`, `die`, `group`, `numa`/`node`/`numanode`,
    /// `l1`..`l5` (also `l2cache`, `l1d`, `l1dcache`, ...), `core`, `pu`. An hwloc attribute list
    /// in parentheses after the count (`l3:2(size=32M)`) is accepted and ignored; so is a memory
    /// attachment `[numa]` after a level, which makes that level's nodes NUMA nodes (a `Numa`
    /// level is inserted below it with one child each). Without a `pu` level each core gets one
    /// PU. Rules: counts are ≥ 1; `pu` is last; `core` and `pu` appear at most once, and so does
    /// every other kind except `group`; caches nest with decreasing level and sit above `core`;
    /// only `pu` may follow `core`; at most [`MAX_SYNTHETIC_PUS`] PUs in all.
    ///
    /// Errors name the token (index and text), its byte offset and the reason:
    ///
    /// ```
    /// use gearset_hqueue::{ParseErrorKind, Topology};
    /// let e = Topology::synthetic("numa:2 l2:2 l3:2 core:1").unwrap_err();
    /// assert_eq!(e.token_index, 2);
    /// assert_eq!(e.token, "l3:2");
    /// assert_eq!(e.offset, 12);
    /// assert!(matches!(e.kind, ParseErrorKind::CacheOrder { .. }));
    /// assert_eq!(
    ///     e.to_string(),
    ///     "token 2 `l3:2` at byte 12: an L3 cache cannot sit below an L2 cache"
    /// );
    /// ```
    pub fn synthetic(description: &str) -> Result<Self, ParseError> {
        let levels = crate::synthetic::parse(description)?;
        let normalized = crate::synthetic::normalize(&levels);
        Ok(Self::from_uniform(&levels, Source::Synthetic(normalized)))
    }

    /// `cores` cores (one PU each) directly under the machine, with `reason` recorded as the
    /// source. This is what [`Topology::discover`] falls back to.
    ///
    /// ```
    /// let t = gearset_hqueue::Topology::flat(4, "test");
    /// assert_eq!(t.leaf_count(), 4);
    /// ```
    pub fn flat(cores: usize, reason: &str) -> Self {
        let levels = [(LevelKind::Core, cores.max(1)), (LevelKind::Pu, 1)];
        Self::from_uniform(&levels, Source::Flat(reason.to_owned()))
    }

    /// Builds a uniform tree: every node at depth `d` has `levels[d].1` children.
    fn from_uniform(levels: &[(LevelKind, usize)], source: Source) -> Self {
        let total: usize = levels.iter().map(|l| l.1).product();
        let mut builder = Builder::default();
        for pu in 0..total {
            let mut path = Vec::with_capacity(levels.len());
            let mut below = total;
            for &(kind, count) in levels {
                below /= count;
                path.push((kind, (pu / below) as u64));
            }
            builder.insert(&path, pu);
        }
        builder.finish(source)
    }

    /// Builds the tree from per-CPU paths: for each CPU, the `(kind, key)` of every level from
    /// the top down, ending with the PU. CPUs with equal key prefixes share nodes.
    pub(crate) fn from_paths(paths: &[(Vec<(LevelKind, u64)>, usize)], source: Source) -> Self {
        let mut builder = Builder::default();
        for (path, cpu) in paths {
            builder.insert(path, *cpu);
        }
        builder.finish(source)
    }

    /// Where this topology came from.
    ///
    /// ```
    /// use gearset_hqueue::{Source, Topology};
    /// let t = Topology::synthetic("core:2")?;
    /// assert_eq!(t.source(), &Source::Synthetic("core:2 pu:1".into()));
    /// # Ok::<(), gearset_hqueue::ParseError>(())
    /// ```
    pub fn source(&self) -> &Source {
        &self.source
    }

    /// The number of leaves (cores; PUs if there is no core level).
    ///
    /// ```
    /// let t = gearset_hqueue::Topology::synthetic("numa:2 l3:2 core:4 pu:2")?;
    /// assert_eq!(t.leaf_count(), 16);
    /// # Ok::<(), gearset_hqueue::ParseError>(())
    /// ```
    pub fn leaf_count(&self) -> usize {
        self.leaves.len()
    }

    /// The CPUs (PUs) of leaf `leaf`: OS CPU numbers for a sysfs topology, logical numbers
    /// otherwise. Panics if `leaf >= leaf_count()`.
    ///
    /// ```
    /// let t = gearset_hqueue::Topology::synthetic("core:4 pu:2")?;
    /// assert_eq!(t.leaf_cpus(1), &[2, 3]);
    /// # Ok::<(), gearset_hqueue::ParseError>(())
    /// ```
    pub fn leaf_cpus(&self, leaf: usize) -> &[usize] {
        &self.nodes[self.leaves[leaf]].cpus
    }

    /// All CPUs (PUs) of the machine, ascending.
    ///
    /// ```
    /// let t = gearset_hqueue::Topology::synthetic("core:2 pu:2")?;
    /// assert_eq!(t.cpus(), &[0, 1, 2, 3]);
    /// # Ok::<(), gearset_hqueue::ParseError>(())
    /// ```
    pub fn cpus(&self) -> &[usize] {
        &self.nodes[0].cpus
    }

    /// The number of nodes of kind `kind`.
    ///
    /// ```
    /// use gearset_hqueue::{LevelKind, Topology};
    /// let t = Topology::synthetic("pack:2 [numa] l3:2 l2:4 core:1 pu:2")?;
    /// assert_eq!(t.count(LevelKind::Numa), 2);
    /// assert_eq!(t.count(LevelKind::Cache(2)), 16);
    /// assert_eq!(t.count(LevelKind::Pu), 32);
    /// # Ok::<(), gearset_hqueue::ParseError>(())
    /// ```
    pub fn count(&self, kind: LevelKind) -> usize {
        self.nodes.iter().filter(|n| n.kind == kind).count()
    }

    /// The nearest level shared by leaves `a` and `b`. Panics if either is out of range.
    /// See [`Distance`] for an example.
    pub fn distance(&self, a: usize, b: usize) -> Distance {
        let lca = self.lca(self.leaves[a], self.leaves[b]);
        Distance {
            hops: self.nodes[self.leaves[a]].depth - self.nodes[lca].depth,
            level: self.nodes[lca].kind,
        }
    }

    /// The NUMA node (logical index) of leaf `leaf`, if the tree has NUMA nodes above it.
    ///
    /// ```
    /// let t = gearset_hqueue::Topology::synthetic("numa:2 core:2")?;
    /// assert_eq!(t.numa_of(3), Some(1));
    /// # Ok::<(), gearset_hqueue::ParseError>(())
    /// ```
    pub fn numa_of(&self, leaf: usize) -> Option<usize> {
        self.ancestors(self.leaves[leaf])
            .find(|&n| self.nodes[n].kind == LevelKind::Numa)
            .map(|n| self.nodes[n].logical)
    }

    /// `node` and its ancestors, nearest first.
    pub(crate) fn ancestors(&self, node: usize) -> impl Iterator<Item = usize> + '_ {
        core::iter::successors(Some(node), move |&n| self.nodes[n].parent)
    }

    /// The nearest common ancestor of two nodes.
    pub(crate) fn lca(&self, mut a: usize, mut b: usize) -> usize {
        while self.nodes[a].depth > self.nodes[b].depth {
            a = self.nodes[a].parent.expect("depth > 0 has a parent");
        }
        while self.nodes[b].depth > self.nodes[a].depth {
            b = self.nodes[b].parent.expect("depth > 0 has a parent");
        }
        while a != b {
            a = self.nodes[a].parent.expect("distinct nodes below the root");
            b = self.nodes[b].parent.expect("distinct nodes below the root");
        }
        a
    }

    /// Whether `node` is `ancestor` or below it.
    pub(crate) fn is_within(&self, node: usize, ancestor: usize) -> bool {
        self.ancestors(node).any(|n| n == ancestor)
    }
}

/// Builds a tree by inserting one root-to-PU path per CPU.
#[derive(Default)]
struct Builder {
    nodes: Vec<Node>,
    /// (parent, kind, key) → node: finds the child a path step names.
    index: BTreeMap<(usize, LevelKind, u64), usize>,
}

impl Builder {
    fn insert(&mut self, path: &[(LevelKind, u64)], cpu: usize) {
        if self.nodes.is_empty() {
            self.nodes.push(Node::new(LevelKind::Machine, None, 0));
        }
        let mut at = 0;
        for &(kind, key) in path {
            at = match self.index.get(&(at, kind, key)) {
                Some(&child) => child,
                None => self.add_child(at, kind, key),
            };
        }
        let mut next = Some(at);
        while let Some(n) = next {
            self.nodes[n].cpus.push(cpu);
            next = self.nodes[n].parent;
        }
    }

    fn add_child(&mut self, parent: usize, kind: LevelKind, key: u64) -> usize {
        let id = self.nodes.len();
        let depth = self.nodes[parent].depth + 1;
        self.nodes.push(Node::new(kind, Some(parent), depth));
        self.nodes[parent].children.push(id);
        self.index.insert((parent, kind, key), id);
        id
    }

    /// Sorts CPU lists, numbers nodes of each kind left to right and picks the leaves.
    fn finish(mut self, source: Source) -> Topology {
        let mut order = Vec::with_capacity(self.nodes.len());
        preorder(&self.nodes, 0, &mut order);
        let mut seen: BTreeMap<LevelKind, usize> = BTreeMap::new();
        for &n in &order {
            let counter = seen.entry(self.nodes[n].kind).or_default();
            self.nodes[n].logical = *counter;
            *counter += 1;
            self.nodes[n].cpus.sort_unstable();
        }
        let has_core = self.nodes.iter().any(|n| n.kind == LevelKind::Core);
        let leaf_kind = if has_core {
            LevelKind::Core
        } else {
            LevelKind::Pu
        };
        let leaves = order
            .into_iter()
            .filter(|&n| self.nodes[n].kind == leaf_kind)
            .collect();
        Topology {
            nodes: self.nodes,
            leaves,
            source,
        }
    }
}

fn preorder(nodes: &[Node], at: usize, out: &mut Vec<usize>) {
    out.push(at);
    for &c in &nodes[at].children {
        preorder(nodes, c, out);
    }
}

impl Node {
    fn new(kind: LevelKind, parent: Option<usize>, depth: usize) -> Self {
        Self {
            kind,
            parent,
            children: Vec::new(),
            cpus: Vec::new(),
            logical: 0,
            depth,
        }
    }
}

/// Formats CPU numbers as a Linux cpulist (`0-3,8,10-11`). `cpus` must be sorted.
pub(crate) struct CpuList<'a>(pub(crate) &'a [usize]);

impl fmt::Display for CpuList<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut i = 0;
        let cpus = self.0;
        while i < cpus.len() {
            let start = cpus[i];
            while i + 1 < cpus.len() && cpus[i + 1] == cpus[i] + 1 {
                i += 1;
            }
            let sep = if start == cpus[0] { "" } else { "," };
            match cpus[i] == start {
                true => write!(f, "{sep}{start}")?,
                false => write!(f, "{sep}{start}-{}", cpus[i])?,
            }
            i += 1;
        }
        Ok(())
    }
}

impl fmt::Display for Topology {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.write_summary(f)?;
        self.write_node(f, 0, "", true)
    }
}

impl Topology {
    fn write_summary(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Machine: ")?;
        let mut parts = Vec::new();
        for (kind, name) in [
            (LevelKind::Package, "packages"),
            (LevelKind::Numa, "NUMA nodes"),
        ] {
            // A single package or NUMA node is not worth a mention.
            let n = self.count(kind);
            if n > 1 {
                parts.push(format!("{n} {name}"));
            }
        }
        match self.count(LevelKind::Core) {
            0 => {}
            1 => parts.push("1 core".to_owned()),
            n => parts.push(format!("{n} cores")),
        }
        parts.push(format!("{} PUs", self.cpus().len()));
        f.write_str(&parts.join(", "))?;
        match &self.source {
            Source::Synthetic(s) => writeln!(f, " (synthetic {s:?})"),
            Source::Sysfs(root) => writeln!(f, " (sysfs {root})"),
            Source::Flat(why) => writeln!(f, " (flat fallback: {why})"),
            #[cfg(feature = "hwloc")]
            Source::Hwloc(version) => writeln!(f, " ({version})"),
        }
    }

    fn write_node(
        &self,
        f: &mut fmt::Formatter<'_>,
        n: usize,
        indent: &str,
        last: bool,
    ) -> fmt::Result {
        let node = &self.nodes[n];
        let branch = match (n, last) {
            (0, _) => "",
            (_, true) => "└─ ",
            (_, false) => "├─ ",
        };
        write!(f, "{indent}{branch}{}", node.kind)?;
        if node.kind != LevelKind::Machine {
            write!(f, " {}", node.logical)?;
        }
        write!(f, " (cpus {})", CpuList(&node.cpus))?;
        if let Some(leaf) = self.leaves.iter().position(|&l| l == n) {
            write!(f, " leaf {leaf}")?;
        }
        writeln!(f)?;
        let children: Vec<usize> = node
            .children
            .iter()
            .copied()
            // PUs are listed in their leaf's cpus; draw them only when they are the leaves.
            .filter(|&c| self.nodes[c].kind != LevelKind::Pu || self.leaves.contains(&c))
            .collect();
        let child_indent = match (n, last) {
            (0, _) => String::new(),
            (_, true) => format!("{indent}   "),
            (_, false) => format!("{indent}│  "),
        };
        for (i, &c) in children.iter().enumerate() {
            self.write_node(f, c, &child_indent, i + 1 == children.len())?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn distances_follow_the_tree() {
        let t = Topology::synthetic("pack:2 [numa] l3:2 l2:4 core:1 pu:2").unwrap();
        assert_eq!(t.leaf_count(), 16);
        assert_eq!(t.distance(0, 0).level, LevelKind::Core);
        assert_eq!(t.distance(0, 1).level, LevelKind::Cache(3));
        assert_eq!(t.distance(0, 4).level, LevelKind::Numa);
        assert_eq!(t.distance(0, 8).level, LevelKind::Machine);
        assert_eq!(t.numa_of(9), Some(1));
        assert_eq!(t.leaf_cpus(15), &[30, 31]);
    }

    #[test]
    fn cpulist_formats_ranges() {
        assert_eq!(CpuList(&[0, 1, 2, 5, 7, 8]).to_string(), "0-2,5,7-8");
        assert_eq!(CpuList(&[3]).to_string(), "3");
        assert_eq!(CpuList(&[]).to_string(), "");
    }

    #[test]
    fn pu_only_topology_uses_pus_as_leaves() {
        let t = Topology::synthetic("l2:2 pu:2").unwrap();
        assert_eq!(t.leaf_count(), 4);
        assert_eq!(t.distance(0, 1).level, LevelKind::Cache(2));
    }
}
