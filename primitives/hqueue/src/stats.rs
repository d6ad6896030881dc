//! Per-worker move counts, by distance. Plain integers owned by one [`Worker`](crate::Worker):
//! counting costs no atomic operation.

use crate::LevelKind;

/// What one worker (or, after [`Stats::merge`], several) moved, by distance.
///
/// ```
/// use gearset_hqueue::{Config, Topology};
/// let (_injector, mut workers) =
///     gearset_hqueue::new::<u32>(Topology::synthetic("core:2")?, Config::default());
/// workers[0].push(0, 7);
/// assert_eq!(workers[1].pop(), Some((0, 7))); // climbed to the machine level
/// let stats = workers[1].stats();
/// assert_eq!(stats.levels[0].taken, 1);
/// assert_eq!(stats.taken_across_numa(), 0);
/// # Ok::<(), gearset_hqueue::ParseError>(())
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Stats {
    /// Items pushed by the worker.
    pub pushed: u64,
    /// Items popped from the worker's own leaf queue.
    pub popped_local: u64,
    /// Items returned by a climb (one per successful climb).
    pub popped_remote: u64,
    /// Climbs that found every queue empty.
    pub empty_climbs: u64,
    /// One entry per distance, nearest first (the worker's rings).
    pub levels: Vec<LevelStats>,
}

/// Moves at one distance: to or from queues whose nearest common ancestor with the worker's
/// leaf is a node of kind `level`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LevelStats {
    /// The kind of the common ancestor.
    pub level: LevelKind,
    /// Whether this distance crosses a NUMA node boundary.
    pub crosses_numa: bool,
    /// Batches taken at this distance.
    pub batches: u64,
    /// Items taken at this distance (the sum of the batch sizes).
    pub taken: u64,
    /// The part of `taken` that came from queues *below* the common ancestor (other leaves
    /// and their shared levels), not from the ancestor's own queue (which holds spills from
    /// anywhere below it and, at the root, injected items).
    pub taken_from_subtrees: u64,
    /// Items the worker's full leaf queue spilled into the shared queue at this distance.
    pub spilled: u64,
}

impl Stats {
    pub(crate) fn for_levels(levels: impl Iterator<Item = (LevelKind, bool)>) -> Self {
        let levels = levels
            .map(|(level, crosses_numa)| LevelStats {
                level,
                crosses_numa,
                batches: 0,
                taken: 0,
                taken_from_subtrees: 0,
                spilled: 0,
            })
            .collect();
        Self {
            levels,
            ..Self::default()
        }
    }

    /// Items taken from other queues, at any distance.
    ///
    /// ```
    /// assert_eq!(gearset_hqueue::Stats::default().taken(), 0);
    /// ```
    pub fn taken(&self) -> u64 {
        self.levels.iter().map(|l| l.taken).sum()
    }

    /// Items taken from queues under another NUMA node (0 without NUMA levels). Items taken
    /// from the root's own queue are not counted: it is shared by all nodes.
    ///
    /// ```
    /// assert_eq!(gearset_hqueue::Stats::default().taken_across_numa(), 0);
    /// ```
    pub fn taken_across_numa(&self) -> u64 {
        self.levels
            .iter()
            .filter(|l| l.crosses_numa)
            .map(|l| l.taken_from_subtrees)
            .sum()
    }

    /// Items spilled upward, at any distance.
    ///
    /// ```
    /// assert_eq!(gearset_hqueue::Stats::default().spilled(), 0);
    /// ```
    pub fn spilled(&self) -> u64 {
        self.levels.iter().map(|l| l.spilled).sum()
    }

    /// Adds `other`'s counts to `self`'s. Levels are matched by position (workers of one
    /// uniform tree have the same rings); extra levels are appended.
    ///
    /// ```
    /// let mut a = gearset_hqueue::Stats::default();
    /// let b = gearset_hqueue::Stats { pushed: 2, ..Default::default() };
    /// a.merge(&b);
    /// a.merge(&b);
    /// assert_eq!(a.pushed, 4);
    /// ```
    pub fn merge(&mut self, other: &Stats) {
        self.pushed += other.pushed;
        self.popped_local += other.popped_local;
        self.popped_remote += other.popped_remote;
        self.empty_climbs += other.empty_climbs;
        for (i, l) in other.levels.iter().enumerate() {
            match self.levels.get_mut(i) {
                Some(mine) => {
                    mine.batches += l.batches;
                    mine.taken += l.taken;
                    mine.taken_from_subtrees += l.taken_from_subtrees;
                    mine.spilled += l.spilled;
                }
                None => self.levels.push(*l),
            }
        }
    }
}
