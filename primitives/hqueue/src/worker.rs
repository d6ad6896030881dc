//! The owner's handle: push and pop on its leaf, climb when empty, spill when full.

use core::{cell::Cell, marker::PhantomData};

use gearset_sync::Arc;

use crate::{
    PinError, Stats, Stealer,
    frames::{Frame, FrameQueue},
    tree::{Queue, Shared},
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
    /// Reused for batches and spills; empty between calls.
    buf: Vec<(Frame, T)>,
    _not_sync: PhantomData<Cell<()>>,
}

impl<T> Worker<T> {
    pub(crate) fn new(shared: Arc<Shared<T>>, leaf: usize, cpus: Box<[usize]>) -> Self {
        let rings = shared.leaves[leaf].rings.iter();
        let stats = Stats::for_levels(rings.map(|r| (r.level, r.crosses_numa)));
        Self {
            shared,
            leaf,
            cpus,
            stats,
            tick: leaf,
            buf: Vec::new(),
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
        Stealer::new(
            Arc::clone(&self.shared),
            self.shared.leaves[self.leaf].queue,
        )
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
            _ => Err(PinError::NotThisMachine),
        }
    }

    /// Pushes `item` at frame `frame` onto the leaf queue. If that makes the queue exceed its
    /// capacity, the highest-frame half moves to the nearest shared queue with room (the root
    /// has no bound), counted in [`LevelStats::spilled`](crate::LevelStats).
    pub fn push(&mut self, frame: Frame, item: T) {
        self.stats.pushed += 1;
        let leaf = self.shared.leaf_queue(self.leaf);
        let buf = &mut self.buf;
        leaf.with(|q| {
            q.push(frame, item);
            if q.len() > leaf.capacity {
                q.take_highest(q.len() / 2, buf);
            }
        });
        if !self.buf.is_empty() {
            self.spill();
        }
    }

    /// Moves `self.buf` into the nearest ancestor queue that has room for all of it.
    #[inline(never)]
    fn spill(&mut self) {
        let shared = &*self.shared;
        let rings = &shared.leaves[self.leaf].rings;
        for (k, ring) in rings.iter().enumerate() {
            let q = &shared.queues[ring.ancestor];
            let n = self.buf.len();
            let last = k + 1 == rings.len();
            let buf = &mut self.buf;
            let moved = q.with(|items| {
                let fits = last || items.len() + n <= q.capacity;
                if fits {
                    buf.drain(..).for_each(|(f, x)| items.push(f, x));
                }
                fits
            });
            if moved {
                self.stats.levels[k].spilled += n as u64;
                return;
            }
        }
        // A tree without rings has a single leaf, which is the root: put the items back.
        let leaf = shared.leaf_queue(self.leaf);
        let buf = &mut self.buf;
        leaf.with(|items| buf.drain(..).for_each(|(f, x)| items.push(f, x)));
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

    /// Step 1 of `pop`: a batch from the ancestor with the lowest frame hint, if it is below
    /// the (non-empty) leaf's (the nearest among equals: the comparison is strict). `[TLA: LockPriorityTake]`
    fn priority_take(&mut self) -> Option<(Frame, T)> {
        let victim = {
            let shared = &*self.shared;
            let plan = &shared.leaves[self.leaf];
            let mut best = shared.queues[plan.queue].min_hint();
            if best == u64::MAX {
                // An empty leaf climbs nearest first instead ([TLA: NearestFirst]).
                return None;
            }
            let mut from = None;
            for (k, ring) in plan.rings.iter().enumerate() {
                let m = shared.queues[ring.ancestor].min_hint();
                if m < best {
                    (best, from) = (m, Some((k, ring.ancestor)));
                }
            }
            from
        };
        let (k, q) = victim?;
        let got = self.take_batch(k, q);
        self.stats.popped_remote += u64::from(got.is_some());
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
        self.shared.leaf_queue(self.leaf).with(|q| q.min_frame())
    }

    /// The number of items in the leaf queue (it may change as soon as this returns when
    /// other threads steal from it or share it).
    pub fn local_len(&self) -> usize {
        self.shared.leaf_queue(self.leaf).with(|q| q.len())
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
        let leaf = self.shared.leaf_queue(self.leaf);
        if leaf.looks_empty() {
            return None;
        }
        let got = leaf.with(FrameQueue::pop_newest);
        self.stats.popped_local += u64::from(got.is_some());
        got
    }

    #[inline(never)]
    fn climb(&mut self) -> Option<(Frame, T)> {
        self.tick = self.tick.wrapping_add(1);
        let rings = self.shared.leaves[self.leaf].rings.len();
        for k in 0..rings {
            // [TLA: NearestFirst] ring k is searched completely before ring k + 1.
            if let Some(x) = self.search_ring(k) {
                self.stats.popped_remote += 1;
                return Some(x);
            }
        }
        self.stats.empty_climbs += 1;
        None
    }

    fn search_ring(&mut self, k: usize) -> Option<(Frame, T)> {
        let ancestor = self.shared.leaves[self.leaf].rings[k].ancestor;
        if let Some(x) = self.take_batch(k, ancestor) {
            return Some(x);
        }
        let n = self.shared.leaves[self.leaf].rings[k].others.len();
        for i in 0..n {
            let victim = self.shared.leaves[self.leaf].rings[k].others[(self.tick + i) % n];
            let before = self.stats.levels[k].taken;
            if let Some(x) = self.take_batch(k, victim) {
                let level = &mut self.stats.levels[k];
                level.taken_from_subtrees += level.taken - before;
                return Some(x);
            }
        }
        None
    }

    /// Takes half of `victim` (lowest frames first, at most `max_batch`), returns the first
    /// item and pushes the rest onto the leaf queue. `[TLA: LockStealBatch]`
    fn take_batch(&mut self, k: usize, victim: usize) -> Option<(Frame, T)> {
        let victim = &self.shared.queues[victim];
        if victim.looks_empty() {
            return None;
        }
        let max = self.shared.config.max_batch;
        let buf = &mut self.buf;
        victim.with(|q| q.take_lowest(q.len().div_ceil(2).min(max), buf));
        let mut batch = self.buf.drain(..);
        let first = batch.next()?;
        let level = &mut self.stats.levels[k];
        level.batches += 1;
        level.taken += 1 + batch.len() as u64;
        if batch.len() > 0 {
            let leaf = self.shared.leaf_queue(self.leaf);
            leaf.with(|q| batch.for_each(|(f, x)| q.push(f, x)));
        }
        Some(first)
    }
}

impl<T> Worker<T> {
    /// This worker's leaf queue, checking that it belongs to the tree `shared`.
    pub(crate) fn leaf_queue_in<'a>(&'a self, shared: &Shared<T>) -> &'a Queue<T> {
        assert!(
            core::ptr::eq(shared, &*self.shared),
            "the worker belongs to another queue tree"
        );
        self.shared.leaf_queue(self.leaf)
    }
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
