//! The owner's handle: push and pop on its leaf, climb when empty, spill when full.

use core::{cell::Cell, marker::PhantomData};

use gearset_sync::{Arc, Backoff};

use crate::{
    PinError, Stats, Stealer,
    frames::Frame,
    leaf::{Claim, Leaf, Refused},
    tree::{QueueId, Shared},
};

/// The handle of one worker thread on one leaf of the tree.
///
/// `Send` (when `T: Send`) but not `Sync`: move it to the thread that runs the leaf; its
/// statistics and batch buffer are plain fields. With [`Placement::PerPu`](crate::Placement)
/// the hyperthreads of a core each get a `Worker` on the same leaf queue.
///
/// ```
/// use gearset_hqueue::{Config, Topology};
/// let topology = Topology::synthetic("l3:2 core:2")?;
/// let (_injector, mut workers) = gearset_hqueue::new::<&str>(topology, Config::default());
/// let w = &mut workers[0];
/// w.push(2, "later");
/// w.push(1, "sooner");
/// assert_eq!(w.pop(), Some((1, "sooner")));
/// assert_eq!(w.pop(), Some((2, "later")));
/// assert_eq!(w.pop(), None);
/// # Ok::<(), gearset_hqueue::ParseError>(())
/// ```
///
/// A `Worker` cannot be shared between threads:
///
/// ```compile_fail
/// fn is_sync<T: Sync>() {}
/// is_sync::<gearset_hqueue::Worker<u8>>();
/// ```
pub struct Worker<T> {
    shared: Arc<Shared<T>>,
    leaf: usize,
    /// The CPUs [`Worker::pin`] binds to: the leaf's, or one PU's.
    cpus: Box<[usize]>,
    /// Owned by this worker only.
    stats: Stats,
    /// Rotates the start of each ring search, so thieves of one ring spread over victims.
    tick: usize,
    /// Failed climbs since the last take: compared with `Config::numa_patience`.
    misses: u32,
    /// Items in transit from a full leaf to a shared level (a spill); empty between calls.
    spill: Vec<(Frame, T)>,
    /// Items in transit from a victim to this leaf (a batch); empty between calls.
    batch: Vec<(Frame, T)>,
    _not_sync: PhantomData<Cell<()>>,
}

impl<T> Worker<T> {
    pub(crate) fn new(shared: Arc<Shared<T>>, leaf: usize, cpus: Box<[usize]>) -> Self {
        let rings = shared.plans[leaf].rings.iter();
        let stats = Stats::for_levels(rings.map(|r| (r.level, r.crosses_numa)));
        Self {
            shared,
            leaf,
            cpus,
            stats,
            tick: leaf,
            misses: 0,
            spill: Vec::new(),
            batch: Vec::new(),
            _not_sync: PhantomData,
        }
    }

    /// The leaf this worker owns (index into [`Topology::leaf_cpus`](crate::Topology)).
    ///
    /// ```
    /// # let t = gearset_hqueue::Topology::synthetic("core:2")?;
    /// let (_, workers) = gearset_hqueue::new::<()>(t, Default::default());
    /// assert_eq!(workers[1].leaf(), 1);
    /// # Ok::<(), gearset_hqueue::ParseError>(())
    /// ```
    pub fn leaf(&self) -> usize {
        self.leaf
    }

    /// The CPUs this worker pins to.
    ///
    /// ```
    /// # let t = gearset_hqueue::Topology::synthetic("core:2 pu:2")?;
    /// let (_, workers) = gearset_hqueue::new::<()>(t, Default::default());
    /// assert_eq!(workers[1].cpus(), &[2, 3]);
    /// # Ok::<(), gearset_hqueue::ParseError>(())
    /// ```
    pub fn cpus(&self) -> &[usize] {
        &self.cpus
    }

    /// What this worker has moved so far.
    pub fn stats(&self) -> &Stats {
        &self.stats
    }

    /// A stealer of this worker's leaf queue.
    ///
    /// ```
    /// # let t = gearset_hqueue::Topology::synthetic("core:2")?;
    /// let (_, mut workers) = gearset_hqueue::new::<u8>(t, Default::default());
    /// workers[0].push(0, 1);
    /// assert_eq!(workers[0].stealer().steal(), Some((0, 1)));
    /// # Ok::<(), gearset_hqueue::ParseError>(())
    /// ```
    pub fn stealer(&self) -> Stealer<T> {
        Stealer::new(Arc::clone(&self.shared), self.leaf)
    }

    /// Binds the calling thread to this worker's CPUs (Linux `sched_setaffinity`).
    ///
    /// Fails with [`PinError::NotThisMachine`] for a synthetic or fallback topology (its CPU
    /// numbers are not this machine's) and [`PinError::Unsupported`] off Linux.
    ///
    /// ```
    /// # let t = gearset_hqueue::Topology::synthetic("core:2")?;
    /// let (_, workers) = gearset_hqueue::new::<()>(t, Default::default());
    /// assert_eq!(workers[0].pin(), Err(gearset_hqueue::PinError::NotThisMachine));
    /// # Ok::<(), gearset_hqueue::ParseError>(())
    /// ```
    pub fn pin(&self) -> Result<(), PinError> {
        match self.shared.topology.source() {
            crate::Source::Sysfs(_) => crate::pin::pin_current_thread(&self.cpus),
            #[cfg(feature = "hwloc")]
            crate::Source::Hwloc(_) => crate::pin::pin_current_thread(&self.cpus),
            _ => Err(PinError::NotThisMachine),
        }
    }

    /// Pushes `item` at frame `frame`. The leaf ring holds one frame at a time (OBIM's
    /// per-thread chunk), so:
    ///
    /// - same frame as the ring (or an empty ring), with room: onto the ring, lock-free;
    /// - a **higher** frame than the ring's: straight to the nearest shared queue with room
    ///   (it waits there, bucketed by frame, for whoever runs out of nearer work first);
    /// - a **lower** frame: the ring's items move up to the nearest shared queue with room
    ///   and the ring takes the new, more urgent frame;
    /// - a full ring: its oldest half moves up, then the item goes onto the ring.
    ///
    /// Every move up is counted in [`LevelStats::spilled`](crate::LevelStats); the root has
    /// no bound.
    pub fn push(&mut self, frame: Frame, item: T) {
        self.stats.pushed += 1;
        self.push_uncounted(frame, item, false);
    }

    /// [`Worker::push`] without counting it as a push; `from_batch` for the rest of a batch
    /// moved in by a climb (`[TLA: PutBatch]`, not `PushLocal`).
    fn push_uncounted(&mut self, frame: Frame, mut item: T, from_batch: bool) {
        let leaf = &self.shared.leaves[self.leaf];
        let _owners = leaf.lock_owners();
        let backoff = Backoff::new();
        loop {
            let refused = match leaf.push(frame, item) {
                Ok(()) => {
                    trace_push(self.leaf, frame, from_batch);
                    return;
                }
                Err((refused, back)) => {
                    item = back;
                    refused
                }
            };
            let moved = match refused {
                Refused::HigherFrame => {
                    self.spill.push((frame, item));
                    spill(
                        &self.shared,
                        self.leaf,
                        &mut self.stats,
                        &mut self.spill,
                        true,
                    );
                    return;
                }
                Refused::Full => claim_own(leaf, |len| len / 2, &mut self.spill),
                Refused::LowerFrame => claim_own(leaf, |len| len, &mut self.spill),
            };
            if moved == 0 {
                // A thief is copying out of the ring (at most `max_batch` moves).
                backoff.snooze();
            } else {
                spill(
                    &self.shared,
                    self.leaf,
                    &mut self.stats,
                    &mut self.spill,
                    false,
                );
            }
        }
    }

    /// Pops an item: normally the lowest frame of the leaf queue (the newest of that frame).
    ///
    /// 1. **Priority check** (unless [`Config::priority_check`](crate::Config) is off), when
    ///    the leaf is not empty: if a
    ///    shared queue on the path from the leaf to the root holds a lower frame than the leaf
    ///    (by the queues' frame hints), the worker takes a batch from the one with the lowest
    ///    frame (the nearest among equals).
    ///    This is what keeps spilled and injected frames from starving behind a busy leaf.
    /// 2. **Local**: the leaf's lowest frame.
    /// 3. **Climb**, when the leaf is empty: each distance is searched completely, nearest
    ///    first (the ancestor's queue, then the other queues under it), and the first
    ///    non-empty queue gives a batch: half its items (at most
    ///    [`Config::max_batch`](crate::Config)), lowest frames first. The first is returned,
    ///    the rest stay in the leaf queue, so the worker does not climb again at once.
    ///
    /// `None` means every queue looked empty during the climb: a queue is skipped when its
    /// length hint reads 0, and the hint may lag a concurrent push (the next call sees it).
    pub fn pop(&mut self) -> Option<(Frame, T)> {
        if self.shared.config.priority_check
            && let Some(x) = self.priority_take()
        {
            return Some(x);
        }
        if let Some(x) = self.pop_local() {
            return Some(x);
        }
        self.climb()
    }

    /// Step 1 of `pop`: one item from the ancestor with the lowest frame hint, if it is
    /// below the (non-empty) leaf's (the nearest among equals: the comparison is strict). One
    /// item, not a batch: the ring holds another frame. `[TLA: PriorityTake]`
    fn priority_take(&mut self) -> Option<(Frame, T)> {
        let shared = &*self.shared;
        let mut best = shared.leaves[self.leaf].min_hint();
        if best == u64::MAX {
            // An empty leaf climbs nearest first instead ([TLA: NearestFirst]).
            return None;
        }
        let mut from = None;
        for (k, ring) in shared.plans[self.leaf].rings.iter().enumerate() {
            let m = shared.levels[ring.ancestor].min_hint();
            if m < best {
                (best, from) = (m, Some((k, ring.ancestor)));
            }
        }
        let (k, q) = from?;
        let got = shared.levels[q].with_then(
            |items| items.pop_oldest(),
            |got, _left| {
                if let Some((_f, _)) = got {
                    gearset_sync::trace_action!(
                        "PriorityTake",
                        "content'[UpOf(SELF, {})] # content[UpOf(SELF, {})] /\\ FramesOf({{i \\in Items : taken'[i] # taken[i]}}) = {{{}}}",
                        k + 1,
                        k + 1,
                        _f
                    );
                }
            },
        );
        if got.is_some() {
            self.stats.popped_remote += 1;
            self.stats.levels[k].batches += 1;
            self.stats.levels[k].taken += 1;
        }
        got
    }

    /// The lowest frame in the leaf queue (the frame [`Worker::pop_local`] would return next,
    /// unless another thread changes the queue first), or `None` if it is empty.
    ///
    /// ```
    /// # let t = gearset_hqueue::Topology::synthetic("core:2")?;
    /// let (_, mut workers) = gearset_hqueue::new::<u8>(t, Default::default());
    /// workers[0].push(4, 1);
    /// workers[0].push(3, 2);
    /// assert_eq!(workers[0].local_min_frame(), Some(3));
    /// # Ok::<(), gearset_hqueue::ParseError>(())
    /// ```
    pub fn local_min_frame(&self) -> Option<Frame> {
        match self.shared.leaves[self.leaf].min_hint() {
            u64::MAX => None,
            frame => Some(frame),
        }
    }

    /// The number of items in the leaf queue (it may change as soon as this returns when
    /// other threads steal from it or share it).
    pub fn local_len(&self) -> usize {
        self.shared.leaves[self.leaf].len()
    }

    /// Pops from the leaf queue only, without climbing.
    ///
    /// ```
    /// # let t = gearset_hqueue::Topology::synthetic("core:2")?;
    /// let (injector, mut workers) = gearset_hqueue::new::<u8>(t, Default::default());
    /// injector.push(0, 1);
    /// assert_eq!(workers[0].pop_local(), None);
    /// assert_eq!(workers[0].pop(), Some((0, 1)));
    /// # Ok::<(), gearset_hqueue::ParseError>(())
    /// ```
    pub fn pop_local(&mut self) -> Option<(Frame, T)> {
        let _leaf = self.leaf;
        let leaf = &self.shared.leaves[self.leaf];
        // A pop frees its slot (advances `steal`) before it reads it: another owner of a
        // shared leaf must not push into that slot meanwhile (`Leaf::pop_then`).
        // (The `hqueue_unlocked_shared_pop` mutant skips the lock: loom's
        // `two_owners_of_a_shared_leaf` sees the push overwrite the popped slot, as the TLA+
        // mutant `HQueueShared_unlockedpop` does. [TLA: HQueueShared PopClaim, ExactlyOnce])
        let _owners = match gearset_sync::mutant::on("hqueue_unlocked_shared_pop") {
            true => None,
            false => leaf.lock_owners(),
        };
        let got = leaf.pop_then(|_frame, _left| {
            gearset_sync::trace_action!(
                "PopLocal",
                "Cardinality(content'[LeafQ({_leaf})]) = {_left} /\\ content'[LeafQ({_leaf})] # content[LeafQ({_leaf})] /\\ FramesOf({{i \\in Items : taken'[i] # taken[i]}}) = {{{_frame}}}"
            );
        });
        self.stats.popped_local += u64::from(got.is_some());
        got
    }

    #[inline(never)]
    fn climb(&mut self) -> Option<(Frame, T)> {
        // [TLA: StartClimb] `pop_local` found the ring empty (its last atomic operation).
        gearset_sync::trace_action!("StartClimb", "climbing'[SELF] /\\ ~climbing[SELF]");
        self.tick = self.tick.wrapping_add(1);
        let rings = self.shared.plans[self.leaf].rings.len();
        for k in 0..rings {
            // [TLA: NearestFirst] ring k is searched completely before ring k + 1.
            if let Some(x) = self.search_ring(k) {
                self.stats.popped_remote += 1;
                self.misses = 0;
                return Some(x);
            }
        }
        self.stats.empty_climbs += 1;
        self.misses = self.misses.saturating_add(1);
        gearset_sync::trace_action!("ClimbFail", "~climbing'[SELF] /\\ climbing[SELF]");
        None
    }

    fn search_ring(&mut self, k: usize) -> Option<(Frame, T)> {
        let ancestor = self.shared.plans[self.leaf].rings[k].ancestor;
        if let Some(x) = self.take_batch(k, QueueId::Level(ancestor)) {
            return Some(x);
        }
        let ring = &self.shared.plans[self.leaf].rings[k];
        if ring.crosses_numa && self.misses < self.shared.config.numa_patience {
            // Not yet: other nodes' queues wait until this worker has been idle a while.
            // (Not in the spec, whose climbs always search everything: patience 0.)
            return None;
        }
        let n = ring.others.len();
        for i in 0..n {
            let victim = self.shared.plans[self.leaf].rings[k].others[(self.tick + i) % n];
            let before = self.stats.levels[k].taken;
            if let Some(x) = self.take_batch(k, victim) {
                let level = &mut self.stats.levels[k];
                level.taken_from_subtrees += level.taken - before;
                return Some(x);
            }
        }
        None
    }

    /// Takes a batch from `victim`: half its lowest frame's items (at most `max_batch` and
    /// the leaf capacity), returns the first (oldest) and pushes the rest onto the leaf.
    /// `[TLA: ClaimBatch, then PutBatch]`
    fn take_batch(&mut self, k: usize, victim: QueueId) -> Option<(Frame, T)> {
        let shared = &*self.shared;
        let _name = spec_queue(shared, self.leaf, victim);
        if shared.looks_empty(victim) {
            trace_empty(&_name);
            return None;
        }
        let max = shared.config.max_batch.min(shared.config.leaf_capacity);
        claim_batch(shared, victim, max, &mut self.batch, |_n, _left, _frame| {
            gearset_sync::trace_action!(
                "ClaimBatch",
                "~climbing'[SELF] /\\ climbing[SELF] /\\ Cardinality(batch'[SELF]) = {} /\\ Cardinality(content'[{_name}]) = {_left} /\\ content'[{_name}] # content[{_name}] /\\ FramesOf({{i \\in Items : taken'[i] # taken[i]}}) = {{{_frame}}}",
                _n - 1
            );
        });
        if self.batch.is_empty() {
            // The claim found the victim empty after all (a stale hint, or a race).
            trace_empty(&_name);
        }
        let mut batch = core::mem::take(&mut self.batch);
        let mut rest = batch.drain(..);
        let first = rest.next();
        if first.is_some() {
            let level = &mut self.stats.levels[k];
            level.batches += 1;
            level.taken += 1 + rest.len() as u64;
        }
        for (f, x) in rest {
            self.push_uncounted(f, x, true);
        }
        self.batch = batch;
        first
    }

    /// Moves the items of `self.batch` onto the leaf: the rest of a batch a [`Stealer`] took
    /// for this worker.
    pub(crate) fn put_batch(&mut self, batch: &mut Vec<(Frame, T)>) {
        for (f, x) in batch.drain(..) {
            self.push_uncounted(f, x, true);
        }
    }

    /// This worker's leaf ring, checking that it belongs to the tree `shared`.
    pub(crate) fn check_tree(&self, shared: &Shared<T>) {
        assert!(
            core::ptr::eq(shared, &*self.shared),
            "the worker belongs to another queue tree"
        );
    }
}

/// Claims a batch of at most `max` items of `victim`'s lowest frame into `out` (oldest
/// first), calling `claimed(n, items left, first frame)` at the claim. Leaves `out` empty
/// when the victim was empty. `[TLA: ClaimBatch]`
pub(crate) fn claim_batch<T>(
    shared: &Shared<T>,
    victim: QueueId,
    max: usize,
    out: &mut Vec<(Frame, T)>,
    claimed: impl FnOnce(u32, u32, Frame),
) {
    match victim {
        QueueId::Leaf(l) => {
            if let Claim::Empty = shared.leaves[l].claim(max, |x| out.push(x), claimed) {
                debug_assert!(out.is_empty());
            }
        }
        QueueId::Level(q) => {
            shared.levels[q].with_then(
                |items| {
                    let n = items.len().div_ceil(2).min(max);
                    items.take_lowest_frame(n, &mut |x| out.push(x));
                    out.first().map(|&(f, _)| (out.len(), f))
                },
                |took, left| {
                    if let Some((n, f)) = *took {
                        // Counts: a batch is at most `max` (a `u32` in the ring).
                        claimed(n as u32, left as u32, f);
                    }
                },
            );
        }
    }
}

/// The spec's name of queue `q` as `leaf`'s worker sees it: `LeafQ(l)`, or `UpOf(SELF, k)`
/// for its k-th ancestor (the spec's G × P shapes have no other shared queues).
#[cfg(gearset_trace)]
fn spec_queue<T>(shared: &Shared<T>, leaf: usize, q: QueueId) -> String {
    match q {
        QueueId::Leaf(l) => format!("LeafQ({l})"),
        QueueId::Level(x) => match shared.plans[leaf]
            .rings
            .iter()
            .position(|r| r.ancestor == x)
        {
            Some(k) => format!("UpOf(SELF, {})", k + 1),
            None => format!("NotInTheSpec{x}"),
        },
    }
}

/// Without tracing, nothing is named.
#[cfg(not(gearset_trace))]
fn spec_queue<T>(_: &Shared<T>, _: usize, _: QueueId) -> String {
    String::new() // does not allocate
}

/// Records `[TLA: LoadLenEmpty]`: the climb found `_name` empty.
#[cfg(gearset_trace)]
fn trace_empty(name: &str) {
    gearset_sync::trace_action!(
        "LoadLenEmpty",
        "searched'[SELF] = searched[SELF] \\cup {{{name}}} /\\ searched'[SELF] # searched[SELF]"
    );
}

/// Without tracing, nothing is recorded.
#[cfg(not(gearset_trace))]
fn trace_empty(_: &str) {}

/// Records a successful push onto leaf `_leaf`'s ring: `[TLA: PushLocal]` or, for the rest
/// of a batch, `[TLA: PutBatch]`.
fn trace_push(_leaf: usize, _frame: Frame, from_batch: bool) {
    if from_batch {
        gearset_sync::trace_action!("PutBatch", "batch'[SELF] # batch[SELF]");
    } else {
        gearset_sync::trace_action!(
            "PushLocal",
            "content'[LeafQ({_leaf})] # content[LeafQ({_leaf})] /\\ FramesOf(pushed' \\ pushed) = {{{_frame}}}"
        );
    }
}

/// The owner claims `n(len)` of its ring's oldest items into `out`. `[TLA: SpillClaim]`
fn claim_own<T>(leaf: &Leaf<T>, n: impl Fn(u32) -> u32, out: &mut Vec<(Frame, T)>) -> usize {
    let moved = leaf.claim_own(n, |x| out.push(x));
    if moved > 0 {
        gearset_sync::trace_action!(
            "SpillClaim",
            "Cardinality(inflight'[SELF]) = {moved} /\\ inflight'[SELF] # inflight[SELF]"
        );
    }
    moved
}

/// Moves `items` into the nearest shared queue on `leaf`'s path to the root that has room for
/// all of them (the root always has): `[TLA: SpillPut]`, or `[TLA: PushUp]` when `fresh` (the
/// one item is being pushed, not spilled).
fn spill<T>(
    shared: &Shared<T>,
    leaf: usize,
    stats: &mut Stats,
    items: &mut Vec<(Frame, T)>,
    fresh: bool,
) {
    let rings = &shared.plans[leaf].rings;
    let n = items.len();
    let _frame = items.first().map_or(0, |x| x.0);
    for (k, ring) in rings.iter().enumerate() {
        let q = &shared.levels[ring.ancestor];
        let last = k + 1 == rings.len();
        let moved = q.with_then(
            |queue| {
                let fits = last || queue.len() + n <= q.capacity;
                if fits {
                    items.drain(..).for_each(|(f, x)| queue.push(f, x));
                }
                fits
            },
            |&moved, _| match (moved, fresh) {
                (false, _) => {}
                (true, true) => {
                    gearset_sync::trace_action!(
                    "PushUp",
                    "content'[UpOf(SELF, {})] # content[UpOf(SELF, {})] /\\ FramesOf(pushed' \\ pushed) = {{{_frame}}} /\\ (pushed' \\ pushed) \\subseteq Owned(SELF)",
                    k + 1,
                    k + 1
                );
                }
                (true, false) => {
                    gearset_sync::trace_action!(
                    "SpillPut",
                    "inflight'[SELF] = {{}} /\\ inflight[SELF] # {{}} /\\ content'[UpOf(SELF, {})] # content[UpOf(SELF, {})]",
                    k + 1,
                    k + 1
                );
                }
            },
        );
        if moved {
            stats.levels[k].spilled += n as u64;
            return;
        }
    }
    unreachable!("every leaf has the root in its last ring");
}

impl<T> core::fmt::Debug for Worker<T> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Worker")
            .field("leaf", &self.leaf)
            .field("cpus", &self.cpus)
            .field("stats", &self.stats)
            .finish_non_exhaustive()
    }
}
