//! Many threads (more than this machine's cores) moving items through a synthetic 2-socket,
//! 16-leaf tree, counting every item: each must be taken exactly once.
//!
//! `HQUEUE_STRESS_ITEMS` sets the item count (the 10^7 take about 1 s per test in
//! release: `HQUEUE_STRESS_ITEMS=10000000 cargo test -p gearset-hqueue --release --test stress`).

use gearset_hqueue::{Config, Placement, Stats, Topology, Worker};
use gearset_sync::{
    Arc,
    atomic::{
        AtomicBool, AtomicU8, AtomicUsize,
        Ordering::{AcqRel, Acquire, Relaxed},
    },
    thread,
};

fn items() -> usize {
    let default = if cfg!(miri) { 64 } else { 200_000 };
    std::env::var("HQUEUE_STRESS_ITEMS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn frame_of(id: usize) -> u64 {
    (id % 13) as u64
}

struct Counts {
    seen: Vec<AtomicU8>,
    taken: AtomicUsize,
    /// Set by a worker that panicked (a failed check): the others stop waiting for items it
    /// may hold, so the test fails at `join` instead of hanging.
    failed: AtomicBool,
}

/// Sets `Counts::failed` if its worker unwinds.
struct FailFlag<'a>(&'a AtomicBool);

impl Drop for FailFlag<'_> {
    fn drop(&mut self) {
        if thread::panicking() {
            // Relaxed: only ends the other workers' loops; the panic itself reaches `join`.
            self.0.store(true, Relaxed);
        }
    }
}

impl Counts {
    fn record(&self, (frame, id): (u64, usize)) {
        assert_eq!(
            frame,
            frame_of(id),
            "item {id} came back with another frame"
        );
        // Relaxed: a per-item counter, read after join (which synchronizes).
        let before = self.seen[id].fetch_add(1, Relaxed);
        assert_eq!(before, 0, "item {id} taken twice");
        // AcqRel: the total that ends the run; nothing else is published through it.
        self.taken.fetch_add(1, AcqRel);
    }
}

/// Worker `index` of `workers` produces the ids `index, index + workers, ...` below `half`,
/// interleaving two pushes with one pop, then pops until every item is taken.
fn run_worker(
    mut w: Worker<usize>,
    index: usize,
    workers: usize,
    half: usize,
    counts: &Counts,
) -> Stats {
    let _flag = FailFlag(&counts.failed);
    let mut id = index;
    while id < half {
        w.push(frame_of(id), id);
        if id + workers < half {
            w.push(frame_of(id + workers), id + workers);
        }
        id += 2 * workers;
        if let Some(x) = w.pop() {
            counts.record(x);
        }
    }
    // Acquire: pairs with nothing but the AcqRel adds; the loop ends when all were counted.
    // Relaxed `failed`: see `FailFlag`.
    while counts.taken.load(Acquire) < counts.seen.len() && !counts.failed.load(Relaxed) {
        match w.pop() {
            Some(x) => counts.record(x),
            None => thread::yield_now(),
        }
    }
    w.stats().clone()
}

fn stress(spec: &str, placement: Placement) {
    let n = items();
    let half = n / 2;
    let config = Config {
        leaf_capacity: 64,
        max_batch: 16,
        placement,
        ..Config::default()
    };
    let (injector, workers) =
        gearset_hqueue::new::<usize>(Topology::synthetic(spec).unwrap(), config);
    let counts = Arc::new(Counts {
        seen: (0..n).map(|_| AtomicU8::new(0)).collect(),
        taken: AtomicUsize::new(0),
        failed: AtomicBool::new(false),
    });
    let nw = workers.len();
    let threads: Vec<_> = workers
        .into_iter()
        .enumerate()
        .map(|(i, w)| {
            let counts = Arc::clone(&counts);
            thread::spawn(move || run_worker(w, i, nw, half, &counts))
        })
        .collect();
    // This thread is the outside producer: the second half goes through the injector.
    for id in half..n {
        injector.push(frame_of(id), id);
    }
    let mut total = Stats::default();
    for t in threads {
        total.merge(&t.join().unwrap());
    }
    assert!(counts.seen.iter().all(|c| c.load(Relaxed) == 1));
    assert_eq!(total.pushed as usize, half);
    assert_eq!((total.popped_local + total.popped_remote) as usize, n);
    assert!(injector.is_empty());
    eprintln!("{spec} {placement:?}: {n} items, {nw} threads, {total:?}");
}

#[test]
fn two_sockets_sixteen_leaves_per_core() {
    stress("numa:2 l3:2 core:4 pu:2", Placement::PerCore);
}

#[test]
fn two_sockets_sixteen_leaves_per_pu() {
    stress("pack:2 [numa] l3:2 l2:4 core:1 pu:2", Placement::PerPu);
}
