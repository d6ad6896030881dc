//! gearset-atomvec element operations against the plain `Vec<AtomicU64>` floor and the ways
//! people make a vector of atomics resizable today: a `std::sync::RwLock<Vec<AtomicU64>>`,
//! `arc-swap` holding a `Vec` (copy on resize), and the never-move bucket vectors `boxcar` and
//! `append-only-vec` (grow only). The physical floor of the machine, one cache-line round trip
//! between two threads (`floor/pingpong/cacheline`, `gearset_benches::bench_floor`), runs in
//! the same process.
//!
//! Scenarios (criterion group `atomvec/<scenario>`, function ids = implementations):
//! - `get_1t`, `fetch_add_1t`: one thread, 1024 cells, index `k & 1023`.
//! - `fetch_add_2t_distinct`: two threads, each on its own 8 cells (64 bytes apart).
//! - `fetch_add_2t_shared`: two threads on cell 0.
//! - `fetch_add_resizing_3t`: `distinct`, while a third thread resizes (3 threads: more
//!   threads than the 2 cores of the CI machine).
//!
//! The multi-thread scenarios run in frames of `FRAME` adds per thread separated by a barrier,
//! at which gearset's `AtomicVec` reclaims retired buffers (its quiescent point: see the crate
//! docs); every implementation pays the same barriers. Times are per add per thread. The
//! resizing scenario needs 3 threads: on a 2-core machine that oversubscribes the cores. Its
//! resizer resizes without pause; `AtomicVec`'s, once a resize is refused with
//! `ReclaimNeeded` (the garbage bound), yields its core until the next quiescent point, as a
//! scheduler would (the others never stop: the `RwLock`'s writer blocks on the lock instead).
//!
//! Before measuring, `sanity_check` runs the resizing scenario once per implementation and
//! counts lost adds. gearset must lose none; `arc-swap` with copy-on-resize does lose some
//! (that is the anchor's point), and the count is printed.
#![allow(clippy::disallowed_types, clippy::disallowed_methods, missing_docs)]

use std::{
    hint::black_box,
    sync::{
        Arc, Barrier, RwLock,
        atomic::{AtomicBool, AtomicU64, Ordering::Relaxed},
    },
    thread,
    time::{Duration, Instant},
};

use arc_swap::ArcSwap;
use criterion::{Criterion, criterion_group, criterion_main};
use gearset_atomvec::{AtomicVec, ResizeError, SegmentedAtomicVec};
use gearset_benches::{bench_floor, config};

const CELLS: usize = 1024;
/// Adds per thread between two barriers.
const FRAME: u64 = 4096;
/// Grow-only competitors stop growing here, to keep memory bounded over a long run.
const GROW_CAP: usize = 1 << 20;

/// One implementation of "a vector of atomic counters".
trait Cells: Send + Sync + 'static {
    fn make(len: usize) -> Self;
    fn get(&self, i: usize) -> u64;
    fn add(&self, i: usize, d: u64);
    /// One resize step of the kind this implementation supports (`n` counts the steps).
    fn resize(&self, n: usize);
    /// Called at a frame barrier, when no other thread is inside the vector.
    fn quiesce(&self) {}
}

struct Floor(Vec<AtomicU64>);

impl Cells for Floor {
    fn make(len: usize) -> Self {
        Self((0..len).map(|_| AtomicU64::new(0)).collect())
    }
    fn get(&self, i: usize) -> u64 {
        self.0[i].load(Relaxed)
    }
    fn add(&self, i: usize, d: u64) {
        self.0[i].fetch_add(d, Relaxed);
    }
    fn resize(&self, _: usize) {}
}

impl Cells for AtomicVec {
    fn make(len: usize) -> Self {
        AtomicVec::with_len(len)
    }
    fn get(&self, i: usize) -> u64 {
        AtomicVec::get(self, i).unwrap()
    }
    fn add(&self, i: usize, d: u64) {
        self.fetch_add(i, d).unwrap();
    }
    fn resize(&self, n: usize) {
        // Alternate a migrating grow and a shrink; past the garbage bound the resize is
        // refused until the next quiescent point, which is the designed behaviour.
        let resized = if n.is_multiple_of(2) {
            self.grow_to(2 * CELLS + n % 64)
        } else {
            self.shrink_to(CELLS)
        };
        if let Err(ResizeError::ReclaimNeeded { .. }) = resized {
            thread::yield_now();
        }
    }
    fn quiesce(&self) {
        // SAFETY: called between two barrier waits that every thread using `self` joins.
        unsafe { self.reclaim_quiescent() }
    }
}

impl Cells for SegmentedAtomicVec {
    fn make(len: usize) -> Self {
        let v = SegmentedAtomicVec::new();
        v.grow_to(len).unwrap();
        v
    }
    fn get(&self, i: usize) -> u64 {
        SegmentedAtomicVec::get(self, i).unwrap()
    }
    fn add(&self, i: usize, d: u64) {
        self.fetch_add(i, d).unwrap();
    }
    fn resize(&self, _: usize) {
        if self.len() < GROW_CAP {
            self.grow_to(self.len() + 64).unwrap();
        }
    }
}

struct StdRwLock(RwLock<Vec<AtomicU64>>);

impl Cells for StdRwLock {
    fn make(len: usize) -> Self {
        Self(RwLock::new((0..len).map(|_| AtomicU64::new(0)).collect()))
    }
    fn get(&self, i: usize) -> u64 {
        self.0.read().unwrap()[i].load(Relaxed)
    }
    fn add(&self, i: usize, d: u64) {
        self.0.read().unwrap()[i].fetch_add(d, Relaxed);
    }
    fn resize(&self, n: usize) {
        let mut v = self.0.write().unwrap();
        if n.is_multiple_of(2) {
            v.resize_with(2 * CELLS, || AtomicU64::new(0));
        } else {
            v.truncate(CELLS);
            v.shrink_to_fit();
        }
    }
}

struct ArcSwapVec(ArcSwap<Vec<AtomicU64>>);

impl Cells for ArcSwapVec {
    fn make(len: usize) -> Self {
        Self(ArcSwap::from_pointee(
            (0..len).map(|_| AtomicU64::new(0)).collect(),
        ))
    }
    fn get(&self, i: usize) -> u64 {
        self.0.load()[i].load(Relaxed)
    }
    fn add(&self, i: usize, d: u64) {
        self.0.load()[i].fetch_add(d, Relaxed);
    }
    fn resize(&self, n: usize) {
        let len = if n.is_multiple_of(2) {
            2 * CELLS
        } else {
            CELLS
        };
        // Copy-on-write: an add that lands on the old vector after its cell was copied is lost.
        self.0.rcu(|old| {
            (0..len)
                .map(|i| AtomicU64::new(old.get(i).map_or(0, |c| c.load(Relaxed))))
                .collect::<Vec<_>>()
        });
    }
}

/// A grow-only competitor holding `AtomicU64`s: `$inner::new()`, `push(&self)`, `Index`, and
/// `$count` for its length. Its resize step pushes one cell (up to `GROW_CAP`).
macro_rules! grow_only_cells {
    ($name:ident, $inner:ty, $count:ident) => {
        struct $name($inner);

        impl Cells for $name {
            fn make(len: usize) -> Self {
                let v = <$inner>::new();
                for _ in 0..len {
                    v.push(AtomicU64::new(0));
                }
                Self(v)
            }
            fn get(&self, i: usize) -> u64 {
                self.0[i].load(Relaxed)
            }
            fn add(&self, i: usize, d: u64) {
                self.0[i].fetch_add(d, Relaxed);
            }
            fn resize(&self, _: usize) {
                if self.0.$count() < GROW_CAP {
                    self.0.push(AtomicU64::new(0));
                }
            }
        }
    };
}

grow_only_cells!(Boxcar, boxcar::Vec<AtomicU64>, count);
grow_only_cells!(AppendOnly, append_only_vec::AppendOnlyVec<AtomicU64>, len);

/// Two adders (each on its own 8 cells), optionally with a resizer, for `frames` frames.
/// Returns the wall time and the sum of cells `0..16` at the end.
fn run_frames<C: Cells>(cells: &Arc<C>, frames: u64, resizing: bool) -> (Duration, u64) {
    let parties = if resizing { 3 } else { 2 };
    let barrier = Arc::new(Barrier::new(parties));
    let frame_done = Arc::new(AtomicBool::new(false));
    let adder = |t: usize| {
        let (cells, barrier, frame_done) = (
            Arc::clone(cells),
            Arc::clone(&barrier),
            Arc::clone(&frame_done),
        );
        thread::spawn(move || {
            for _ in 0..frames {
                for k in 0..FRAME {
                    cells.add(t * 8 + (k as usize & 7), 1);
                }
                frame_done.store(true, Relaxed);
                barrier.wait();
                if t == 0 {
                    cells.quiesce();
                    frame_done.store(false, Relaxed);
                }
                barrier.wait();
            }
        })
    };
    let started = Instant::now();
    let adders = [adder(0), adder(1)];
    let resizer = resizing.then(|| {
        let (cells, barrier, frame_done) = (
            Arc::clone(cells),
            Arc::clone(&barrier),
            Arc::clone(&frame_done),
        );
        thread::spawn(move || {
            let mut n = 0;
            for _ in 0..frames {
                while !frame_done.load(Relaxed) {
                    cells.resize(n);
                    n += 1;
                }
                barrier.wait();
                barrier.wait();
            }
        })
    });
    for a in adders {
        a.join().unwrap();
    }
    if let Some(r) = resizer {
        r.join().unwrap();
    }
    let took = started.elapsed();
    (took, (0..16).map(|i| cells.get(i)).sum())
}

/// Runs the resizing scenario once and reports lost adds; gearset must lose none.
fn sanity_check<C: Cells>(name: &str) -> u64 {
    let frames = 64;
    let cells = Arc::new(C::make(CELLS));
    let (_, sum) = run_frames(&cells, frames, true);
    let lost = 2 * frames * FRAME - sum;
    eprintln!(
        "atomvec sanity: {name}: {lost} of {} adds lost while resizing",
        2 * frames * FRAME
    );
    lost
}

fn single_thread<C: Cells>(c: &mut Criterion, name: &str) {
    let cells = C::make(CELLS);
    c.benchmark_group("atomvec/get_1t")
        .bench_function(name, |b| {
            let mut k = 0usize;
            b.iter(|| {
                k = k.wrapping_add(1);
                black_box(cells.get(k & (CELLS - 1)))
            })
        });
    c.benchmark_group("atomvec/fetch_add_1t")
        .bench_function(name, |b| {
            let mut k = 0usize;
            b.iter(|| {
                k = k.wrapping_add(1);
                cells.add(black_box(k & (CELLS - 1)), 1)
            })
        });
}

fn two_threads<C: Cells>(c: &mut Criterion, name: &str, resize: bool) {
    let per_add = |iters: u64, run: &dyn Fn(u64) -> Duration| {
        let frames = iters.div_ceil(FRAME).max(1);
        run(frames).mul_f64(iters as f64 / (frames * FRAME) as f64)
    };
    c.benchmark_group("atomvec/fetch_add_2t_distinct")
        .bench_function(name, |b| {
            b.iter_custom(|iters| {
                per_add(iters, &|f| {
                    run_frames(&Arc::new(C::make(CELLS)), f, false).0
                })
            })
        });
    c.benchmark_group("atomvec/fetch_add_2t_shared")
        .bench_function(name, |b| {
            b.iter_custom(|iters| {
                let cells = Arc::new(C::make(CELLS));
                let other = {
                    let cells = Arc::clone(&cells);
                    thread::spawn(move || (0..iters).for_each(|_| cells.add(0, 1)))
                };
                let started = Instant::now();
                (0..iters).for_each(|_| cells.add(0, 1));
                other.join().unwrap();
                started.elapsed()
            })
        });
    if resize {
        c.benchmark_group("atomvec/fetch_add_resizing_3t")
            .bench_function(name, |b| {
                b.iter_custom(|iters| {
                    per_add(iters, &|f| run_frames(&Arc::new(C::make(CELLS)), f, true).0)
                })
            });
    }
}

fn benches(c: &mut Criterion) {
    assert_eq!(
        sanity_check::<AtomicVec>("gearset"),
        0,
        "gearset lost an add"
    );
    assert_eq!(sanity_check::<SegmentedAtomicVec>("gearset_segmented"), 0);
    assert_eq!(sanity_check::<StdRwLock>("std_rwlock"), 0);
    assert_eq!(sanity_check::<Boxcar>("boxcar"), 0);
    assert_eq!(sanity_check::<AppendOnly>("append_only_vec"), 0);
    sanity_check::<ArcSwapVec>("arc_swap");

    bench_floor(c);

    single_thread::<Floor>(c, "vec_floor");
    single_thread::<AtomicVec>(c, "gearset");
    single_thread::<SegmentedAtomicVec>(c, "gearset_segmented");
    single_thread::<StdRwLock>(c, "std_rwlock");
    single_thread::<ArcSwapVec>(c, "arc_swap");
    single_thread::<Boxcar>(c, "boxcar");
    single_thread::<AppendOnly>(c, "append_only_vec");

    two_threads::<Floor>(c, "vec_floor", false);
    two_threads::<AtomicVec>(c, "gearset", true);
    two_threads::<SegmentedAtomicVec>(c, "gearset_segmented", true);
    two_threads::<StdRwLock>(c, "std_rwlock", true);
    two_threads::<ArcSwapVec>(c, "arc_swap", true);
    two_threads::<Boxcar>(c, "boxcar", true);
    two_threads::<AppendOnly>(c, "append_only_vec", true);
}

criterion_group! { name = atomvec; config = config(); targets = benches }
criterion_main!(atomvec);
