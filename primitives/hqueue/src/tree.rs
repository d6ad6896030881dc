//! The queue tree: one lock-free [`Leaf`] ring per leaf, one locked [`FrameQueue`] per shared level, and, for each leaf,
//! the order in which its worker searches the others (its *rings*).
//!
//! # Which topology nodes get a queue
//!
//! Every leaf (core), the root (machine, where the injector pushes), and every node above the
//! leaves with two or more children. A node with a single child covers the same CPUs as that
//! child, so a queue there would only add a lock to every climb; PUs share their core's queue.
//!
//! # Rings
//!
//! For a leaf `L` with queued ancestors `A1` (nearest) … `Ak` (the root), ring `i` is
//! `Ai`'s own queue followed by every queue in `Ai`'s subtree that is not in `A(i-1)`'s
//! (with `A0 = L`): exactly the queues whose nearest common ancestor with `L` is `Ai`. A worker
//! searches ring 1 completely before ring 2, and so on (`[TLA: NearestFirst]`).

use gearset_sync::{
    CachePadded, Mutex, MutexGuard,
    atomic::{AtomicU64, AtomicUsize, Ordering::Relaxed},
};

use crate::{Config, LevelKind, Placement, Topology, frames::FrameQueue, leaf::Leaf};

/// A queue of the tree: a leaf's lock-free ring or a shared level's locked queue.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum QueueId {
    /// Index into [`Shared::leaves`] (the leaf number).
    Leaf(usize),
    /// Index into [`Shared::levels`].
    Level(usize),
}

/// One shared level's queue (L2, L3, NUMA node, machine): frame buckets under a mutex. These
/// are touched only by spills, injections, priority takes and climbs, never by the owner's
/// fast path.
#[derive(Debug)]
pub(crate) struct Queue<T> {
    /// The items. Locked by whoever pushes, steals or spills here.
    items: Mutex<FrameQueue<T>>,
    /// Length hint: written only while `items` is locked, read without the lock by climbing
    /// workers to skip empty queues. May be stale (see `looks_empty`).
    len: AtomicUsize,
    /// Lowest-frame hint (`u64::MAX` when empty): written with `len`, read by the priority
    /// check of `Worker::pop`.
    min: AtomicU64,
    /// Soft bound: a spill that does not fit goes further up. `usize::MAX` at the root.
    pub(crate) capacity: usize,
}

impl<T> Queue<T> {
    fn new(capacity: usize) -> Self {
        Self {
            items: Mutex::new(FrameQueue::default()),
            len: AtomicUsize::new(0),
            min: AtomicU64::new(u64::MAX),
            capacity,
        }
    }

    fn lock(&self) -> MutexGuard<'_, FrameQueue<T>> {
        // A panic while the lock is held cannot leave a FrameQueue half-updated in a way that
        // loses items (every method moves items one at a time and fixes `len` as it goes), so
        // a poisoned lock is taken over rather than propagated.
        match self.items.lock() {
            Ok(guard) => guard,
            Err(poisoned) => poisoned.into_inner(),
        }
    }

    /// Runs `f` on the locked items, refreshes the hints, then calls `then(&result, items
    /// left)` before unlocking (where the trace records the critical section as one spec step).
    pub(crate) fn with_then<R>(
        &self,
        f: impl FnOnce(&mut FrameQueue<T>) -> R,
        then: impl FnOnce(&R, usize),
    ) -> R {
        let mut items = self.lock();
        let out = f(&mut items);
        // Relaxed: a hint, as `len` below.
        self.min
            .store(items.min_frame().unwrap_or(u64::MAX), Relaxed);
        // Relaxed: a hint only. The items themselves are published by the mutex (unlock is a
        // Release, lock an Acquire); the hint lets a climbing worker skip a lock. Stored last,
        // right before `then`: the spec step takes effect for hint readers at this store
        // (`[TLA: LoadLenEmpty]` reads it), and for lockers at the unlock.
        self.len.store(items.len(), Relaxed);
        then(&out, items.len());
        out
    }

    /// Whether the hint says empty. A stale `true` makes a climb skip a queue that just got
    /// items (the next climb sees them: the store above is eventually visible); a stale
    /// `false` costs one lock of an empty queue.
    pub(crate) fn looks_empty(&self) -> bool {
        // Relaxed: pairs with nothing; see `with`. Coherence guarantees a worker never reads
        // an older value than one it has already seen, so its own pushes are always visible.
        self.len.load(Relaxed) == 0
    }

    /// The lowest frame by the hint, `u64::MAX` if empty; may be stale as `looks_empty`.
    pub(crate) fn min_hint(&self) -> u64 {
        // Relaxed: a hint; see `with`.
        self.min.load(Relaxed)
    }

    pub(crate) fn len_hint(&self) -> usize {
        // Relaxed: an approximate count for statistics; see `with`.
        self.len.load(Relaxed)
    }
}

/// The queues a leaf's worker searches at one distance.
#[derive(Debug)]
pub(crate) struct Ring {
    /// The shared-level queue of the nearest common ancestor (an index into
    /// [`Shared::levels`]; spills go here).
    pub(crate) ancestor: usize,
    /// The other queues at this distance, in tree order (a search starts at a rotating index).
    pub(crate) others: Box<[QueueId]>,
    /// The kind of the common ancestor.
    pub(crate) level: LevelKind,
    /// Whether items taken here come from another NUMA node.
    pub(crate) crosses_numa: bool,
}

/// One leaf's rings, nearest first.
#[derive(Debug)]
pub(crate) struct LeafPlan {
    pub(crate) rings: Box<[Ring]>,
}

/// Everything the handles share.
#[derive(Debug)]
pub(crate) struct Shared<T> {
    /// One lock-free ring per leaf, by leaf number.
    pub(crate) leaves: Box<[CachePadded<Leaf<T>>]>,
    /// One locked queue per shared level with a queue (see the module docs).
    pub(crate) levels: Box<[CachePadded<Queue<T>>]>,
    /// Each leaf's rings, by leaf number.
    pub(crate) plans: Box<[LeafPlan]>,
    /// The machine's queue, in `levels`.
    pub(crate) root: usize,
    pub(crate) topology: Topology,
    pub(crate) config: Config,
}

impl<T> Shared<T> {
    pub(crate) fn new(topology: Topology, config: Config) -> Self {
        let queued = queued_nodes(&topology);
        let mut id_of = vec![None; topology.nodes.len()];
        let mut levels = Vec::new();
        for &n in &queued {
            id_of[n] = Some(match topology.leaves.iter().position(|&l| l == n) {
                Some(leaf) => QueueId::Leaf(leaf),
                None => {
                    let capacity = match n {
                        0 => usize::MAX,
                        _ => config.leaf_capacity * leaves_under(&topology, n),
                    };
                    levels.push(CachePadded::new(Queue::new(capacity)));
                    QueueId::Level(levels.len() - 1)
                }
            });
        }
        let leaves = (0..topology.leaf_count())
            .map(|leaf| {
                let shared_by =
                    config.placement == Placement::PerPu && topology.leaf_cpus(leaf).len() > 1;
                CachePadded::new(Leaf::new(config.leaf_capacity, shared_by))
            })
            .collect();
        let plans = (0..topology.leaf_count())
            .map(|leaf| plan(&topology, &queued, &id_of, leaf))
            .collect();
        let Some(QueueId::Level(root)) = id_of[0] else {
            unreachable!("the machine node is never a leaf")
        };
        Self {
            leaves,
            levels: levels.into(),
            plans,
            root,
            topology,
            config,
        }
    }

    /// Whether queue `q`'s hint reads empty.
    pub(crate) fn looks_empty(&self, q: QueueId) -> bool {
        match q {
            QueueId::Leaf(l) => self.leaves[l].len() == 0,
            QueueId::Level(l) => self.levels[l].looks_empty(),
        }
    }
}

/// Topology nodes that get a queue, in preorder (so the root is queue 0).
fn queued_nodes(t: &Topology) -> Vec<usize> {
    let mut above = vec![false; t.nodes.len()];
    for &leaf in &t.leaves {
        for a in t.ancestors(leaf).skip(1) {
            above[a] = true;
        }
    }
    let mut out = Vec::new();
    let mut stack = vec![0];
    while let Some(n) = stack.pop() {
        let is_leaf = t.leaves.contains(&n);
        if n == 0 || is_leaf || (above[n] && t.nodes[n].children.len() >= 2) {
            out.push(n);
        }
        stack.extend(t.nodes[n].children.iter().rev());
    }
    out
}

fn leaves_under(t: &Topology, n: usize) -> usize {
    t.leaves.iter().filter(|&&l| t.is_within(l, n)).count()
}

fn plan(t: &Topology, queued: &[usize], id_of: &[Option<QueueId>], leaf: usize) -> LeafPlan {
    let leaf_node = t.leaves[leaf];
    let numa = t
        .ancestors(leaf_node)
        .find(|&n| t.nodes[n].kind == LevelKind::Numa);
    let mut rings = Vec::new();
    let mut prev = leaf_node;
    for a in t.ancestors(leaf_node).skip(1) {
        let Some(QueueId::Level(ancestor)) = id_of[a] else {
            continue;
        };
        let others = queued
            .iter()
            .filter(|&&q| q != a && t.is_within(q, a) && !t.is_within(q, prev))
            .filter_map(|&q| id_of[q])
            .collect();
        rings.push(Ring {
            ancestor,
            others,
            level: t.nodes[a].kind,
            crosses_numa: numa.is_some_and(|m| m != a && t.is_within(m, a)),
        });
        prev = a;
    }
    LeafPlan {
        rings: rings.into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rings_cover_every_other_queue_once_nearest_first() {
        let t = Topology::synthetic("numa:2 l3:2 core:2 pu:2").unwrap();
        let s: Shared<u32> = Shared::new(t, Config::default());
        // root + 2 numa + 4 l3, and 8 cores
        assert_eq!((s.levels.len(), s.leaves.len()), (7, 8));
        let plan = &s.plans[0];
        let kinds: Vec<_> = plan
            .rings
            .iter()
            .map(|r| (r.level, r.crosses_numa))
            .collect();
        assert_eq!(
            kinds,
            [
                (LevelKind::Cache(3), false),
                (LevelKind::Numa, false),
                (LevelKind::Machine, true)
            ]
        );
        let key = |q: QueueId| match q {
            QueueId::Level(l) => l,
            QueueId::Leaf(l) => 100 + l,
        };
        let mut seen: Vec<usize> = plan
            .rings
            .iter()
            .flat_map(|r| {
                core::iter::once(QueueId::Level(r.ancestor)).chain(r.others.iter().copied())
            })
            .chain([QueueId::Leaf(0)])
            .map(key)
            .collect();
        seen.sort_unstable();
        let all: Vec<usize> = (0..7).chain(100..108).collect();
        assert_eq!(seen, all);
        assert_eq!(plan.rings[0].others.len(), 1);
    }

    #[test]
    fn single_child_levels_get_no_queue() {
        let t = Topology::synthetic("pack:1 l3:1 l2:2 core:1 pu:2").unwrap();
        let s: Shared<u32> = Shared::new(t, Config::default());
        // root + l3, and 2 cores: pack (one child) and each l2 (one core) get no queue.
        assert_eq!((s.levels.len(), s.leaves.len()), (2, 2));
        let levels: Vec<_> = s.plans[1].rings.iter().map(|r| r.level).collect();
        assert_eq!(levels, [LevelKind::Cache(3), LevelKind::Machine]);
        assert_eq!(s.plans[1].rings[1].others.len(), 0);
    }
}
