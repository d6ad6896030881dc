//! Building a tree, and the shared handles: [`Injector`] for threads outside the tree and
//! [`Stealer`] for one queue.

use gearset_sync::{Arc, MODEL_CHECKED};

use crate::{
    Topology, Worker,
    frames::Frame,
    leaf::Claim,
    tree::{QueueId, Shared},
    worker::claim_batch,
};

/// How a tree is sized and how many workers it gets.
///
/// ```
/// use gearset_hqueue::{Config, Placement};
/// let c = Config::default();
/// assert_eq!((c.leaf_capacity, c.max_batch, c.placement), (256, 32, Placement::PerCore));
/// assert_eq!(c.numa_patience, 8);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Config {
    /// Items a leaf ring holds before a push spills half of them upward (tokio uses 256).
    /// The ring's slots (the next power of two) are allocated when the tree is built. A shared
    /// level holds `leaf_capacity ×` the leaves under it; the root is unbounded. At least 2,
    /// at most 2^30.
    pub leaf_capacity: usize,
    /// The most items one climb takes from a queue (crossbeam-deque's `MAX_BATCH` is 32).
    /// At least 1.
    pub max_batch: usize,
    /// One worker per leaf (core) or per PU.
    pub placement: Placement,
    /// Whether [`Worker::pop`] first takes from a shared queue on its path to the root that
    /// holds a lower frame than its leaf (a few relaxed loads per pop). Off: pure locality,
    /// and frames spilled or injected wait until the leaf runs empty.
    pub priority_check: bool,
    /// Failed climbs a worker makes before it takes from another NUMA node's queues. Default
    /// 8; 0 is pure nearest-first (cross at once). The root's own queue is always searched,
    /// so injected work is found at once whatever the patience.
    ///
    /// The trade-off: while a worker waits, [`Worker::pop`] returns `None` up to this many
    /// times in a row although another node's queues hold items, so an idle node leaves the
    /// busy node to drain its own work (as hierarchical schedulers do, Olivier et al., ROSS
    /// 2011) at the cost of idle climbs and of balance when only one node has work. The count
    /// is failed climbs since the worker's last successful climb (local pops do not reset it).
    /// Measured (`benches/benches/hqueue_steal.rs`, 16 simulated workers on two nodes, exact
    /// counts): when a node runs dry, patience 8 takes 0.015× the items across nodes that flat
    /// random stealing takes, patience 0 takes 0.56× (the issue's goal is ≤ 0.10×); with
    /// every node busy both meet it (0.001× and 0.009×), 8 at 3.7× the failed climbs.
    ///
    /// Not modelled in the TLA+ spec (whose climbs search every level: patience 0).
    pub numa_patience: u32,
}

/// How many [`Worker`]s a tree hands out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Placement {
    /// One worker per leaf (core); it pins to all the core's PUs.
    PerCore,
    /// One worker per PU; the hyperthreads of a core share its leaf queue.
    PerPu,
}

impl Default for Config {
    fn default() -> Self {
        // Under a model checker: tiny queues, so a few items exercise spills and batches.
        let (leaf_capacity, max_batch) = if MODEL_CHECKED { (2, 2) } else { (256, 32) };
        Self {
            leaf_capacity,
            max_batch,
            placement: Placement::PerCore,
            priority_check: true,
            // Fails 8 climbs before crossing NUMA nodes: meets the locality goal when a node
            // runs dry (see the field's docs and the README's locality table).
            numa_patience: 8,
        }
    }
}

/// Builds the queue tree for `topology` and returns the injector and the workers, in leaf
/// order (with [`Placement::PerPu`], the PUs of leaf 0 first).
///
/// Panics if `config.leaf_capacity` is not in `2..=2^30` or `config.max_batch == 0`.
///
/// ```
/// use gearset_hqueue::{Config, Placement, Topology};
/// let t = Topology::synthetic("numa:2 l3:2 core:4 pu:2")?;
/// let config = Config { placement: Placement::PerPu, ..Config::default() };
/// let (injector, workers) = gearset_hqueue::new::<u64>(t, config);
/// assert_eq!(workers.len(), 32);
/// assert_eq!(injector.topology().leaf_count(), 16);
/// # Ok::<(), gearset_hqueue::ParseError>(())
/// ```
pub fn new<T>(topology: Topology, config: Config) -> (Injector<T>, Vec<Worker<T>>) {
    assert!(
        (2..=1 << 30).contains(&config.leaf_capacity),
        "leaf_capacity must be in 2..=2^30"
    );
    assert!(config.max_batch >= 1, "max_batch must be at least 1");
    let shared = Arc::new(Shared::new(topology, config));
    let mut workers = Vec::new();
    for leaf in 0..shared.topology.leaf_count() {
        let cpus = shared.topology.leaf_cpus(leaf);
        match config.placement {
            Placement::PerCore => workers.push(Worker::new(Arc::clone(&shared), leaf, cpus.into())),
            Placement::PerPu => workers.extend(
                cpus.iter()
                    .map(|&cpu| Worker::new(Arc::clone(&shared), leaf, Box::new([cpu]))),
            ),
        }
    }
    (Injector { shared }, workers)
}

/// Pushes items into the tree from threads that own no leaf, into the root queue, from which
/// any worker takes batches when its nearer queues are empty.
///
/// `Clone + Send + Sync` (for `T: Send`).
///
/// ```
/// use gearset_hqueue::{Config, Topology};
/// let (injector, mut workers) =
///     gearset_hqueue::new::<u32>(Topology::synthetic("core:2")?, Config::default());
/// let outside = gearset_sync::thread::spawn(move || injector.push(5, 50));
/// outside.join().unwrap();
/// assert_eq!(workers[1].pop(), Some((5, 50)));
/// # Ok::<(), gearset_hqueue::ParseError>(())
/// ```
pub struct Injector<T> {
    shared: Arc<Shared<T>>,
}

impl<T> Injector<T> {
    /// Pushes `item` at frame `frame` into the root queue.
    pub fn push(&self, frame: Frame, item: T) {
        self.shared.levels[self.shared.root].with_then(
            |q| q.push(frame, item),
            |_, _| {
                gearset_sync::trace_action!(
                    "Inject",
                    "content'[Root] # content[Root] /\\ FramesOf(pushed' \\ pushed) = {{{frame}}}"
                );
            },
        );
    }

    /// The topology the tree was built from.
    pub fn topology(&self) -> &crate::Topology {
        &self.shared.topology
    }

    /// The configuration the tree was built with.
    pub fn config(&self) -> &Config {
        &self.shared.config
    }

    /// The items in all queues, from the length hints: exact when no thread is pushing or
    /// popping, otherwise a snapshot of no particular instant.
    ///
    /// ```
    /// # let t = gearset_hqueue::Topology::synthetic("core:2")?;
    /// let (injector, mut workers) = gearset_hqueue::new::<u8>(t, Default::default());
    /// injector.push(0, 1);
    /// workers[0].push(0, 2);
    /// assert_eq!(injector.len(), 2);
    /// # Ok::<(), gearset_hqueue::ParseError>(())
    /// ```
    pub fn len(&self) -> usize {
        let levels: usize = self.shared.levels.iter().map(|q| q.len_hint()).sum();
        levels + self.shared.leaves.iter().map(|l| l.len()).sum::<usize>()
    }

    /// Whether [`Injector::len`] is 0 (with the same caveat).
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// A stealer of leaf `leaf`'s queue. Panics if `leaf` is out of range.
    pub fn stealer(&self, leaf: usize) -> Stealer<T> {
        assert!(
            leaf < self.shared.leaves.len(),
            "leaf {leaf} is out of range"
        );
        Stealer::new(Arc::clone(&self.shared), leaf)
    }
}

impl<T> Clone for Injector<T> {
    fn clone(&self) -> Self {
        Self {
            shared: Arc::clone(&self.shared),
        }
    }
}

impl<T> core::fmt::Debug for Injector<T> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Injector")
            .field("len", &self.len())
            .finish_non_exhaustive()
    }
}

/// Takes items from one queue of the tree, from any thread: the oldest item of the lowest
/// frame, or a batch. `Clone + Send + Sync` (for `T: Send`).
///
/// ```
/// use gearset_hqueue::{Config, Topology};
/// let (injector, mut workers) =
///     gearset_hqueue::new::<u64>(Topology::synthetic("core:2")?, Config::default());
/// for i in 0..4 {
///     workers[0].push(7, i);
/// }
/// let stealer = injector.stealer(0);
/// assert_eq!(stealer.steal(), Some((7, 0)));
/// assert_eq!(stealer.steal_batch_and_pop(&mut workers[1]), Some((7, 1)));
/// assert_eq!(workers[1].pop_local(), Some((7, 2))); // the batch was half of 3 items
/// # Ok::<(), gearset_hqueue::ParseError>(())
/// ```
pub struct Stealer<T> {
    shared: Arc<Shared<T>>,
    /// The leaf whose ring this stealer takes from.
    leaf: usize,
}

impl<T> Stealer<T> {
    pub(crate) fn new(shared: Arc<Shared<T>>, leaf: usize) -> Self {
        Self { shared, leaf }
    }

    /// Takes the oldest item of the leaf (lock-free: one compare-and-swap claims it), if any.
    /// `None` means the ring was empty at the claim; it may lag a concurrent push by the
    /// owner. Waits (spinning, then yielding) only while another thief is copying a batch out
    /// of the same leaf (at most `max_batch` moves, no user code). `[TLA: StealOne]`
    pub fn steal(&self) -> Option<(Frame, T)> {
        let mut got = None;
        let _leaf = self.leaf;
        let claimed = |_n, _left, _frame| {
            gearset_sync::trace_action!(
                "StealOne",
                "Cardinality(content'[LeafQ({_leaf})]) = {_left} /\\ content'[LeafQ({_leaf})] # content[LeafQ({_leaf})] /\\ FramesOf({{i \\in Items : taken'[i] # taken[i]}}) = {{{_frame}}}"
            );
        };
        match self.shared.leaves[self.leaf].claim(1, |x| got = Some(x), claimed) {
            Claim::Took(_) => got,
            Claim::Empty => None,
        }
    }

    /// Takes half the leaf's items (at most `max_batch` and `dest`'s leaf capacity), returns
    /// the first and pushes the rest onto `dest` (as [`Worker::push`] would, so they may
    /// spill if `dest`'s ring holds another frame). Not counted in `dest`'s statistics (they
    /// count the worker's own climbs).
    ///
    /// Panics if `dest` belongs to another tree.
    pub fn steal_batch_and_pop(&self, dest: &mut Worker<T>) -> Option<(Frame, T)> {
        dest.check_tree(&self.shared);
        let config = &self.shared.config;
        let max = config.max_batch.min(config.leaf_capacity);
        let mut batch = Vec::new();
        // Not in the spec (its outside stealer takes one item): nothing is recorded.
        claim_batch(
            &self.shared,
            QueueId::Leaf(self.leaf),
            max,
            &mut batch,
            |_, _, _| {},
        );
        if batch.is_empty() {
            return None;
        }
        let first = batch.remove(0);
        dest.put_batch(&mut batch);
        Some(first)
    }

    /// Whether the leaf looks empty (it may change as soon as this returns: the owner pushes,
    /// thieves take).
    pub fn is_empty(&self) -> bool {
        self.shared.leaves[self.leaf].len() == 0
    }
}

impl<T> Clone for Stealer<T> {
    fn clone(&self) -> Self {
        Self::new(Arc::clone(&self.shared), self.leaf)
    }
}

impl<T> core::fmt::Debug for Stealer<T> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Stealer")
            .field("leaf", &self.leaf)
            .finish_non_exhaustive()
    }
}
