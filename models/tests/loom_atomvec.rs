//! loom models of `AtomicVec` (element operations racing migrations) and `SegmentedAtomicVec`
//! (bucket installation races), at capacities 1-2, every interleaving and weak-memory outcome
//! loom explores within the preemption bound.
//!
//! Run: `RUSTFLAGS="--cfg gearset_loom" cargo test -p gearset-models --test loom_atomvec
//! --profile models` (or `cargo xtask loom`). Expected: 11 models in 15-40 s on 2 busy cores.
//!
//! Preemption bound: 3 for the two-thread models (they still finish in seconds at these
//! capacities), 2 for the three-thread models and for `segmented_pushes_across_bucket_boundary`
//! (its reader loop multiplies the schedules). 2 is the bound tokio and crossbeam use in CI;
//! loom's docs: "2 or 3 is enough to catch most bugs". Nothing here is claimed exhaustive.
//! The TLA+ twin is `tla/atomvec/AtomicVec.tla` with the same capacities.
//!
//! The models have teeth: `cargo xtask loom` re-runs `fetch_add_racing_grow_is_not_lost` and
//! `two_fetch_adds_racing_grow_are_both_counted` with the code mutants `atomvec_naive_copy`
//! (the anchor's copy-then-swap: the migration copies cells without freezing them) and
//! `atomvec_flag_check` (no freezing; writers check a "resizing" flag, `buf.next`, before their
//! CAS), and each must fail with the lost add (`LOOM_MUTANTS` in `xtask/src/models.rs`):
//! `GEARSET_MUTANT=atomvec_naive_copy RUSTFLAGS="--cfg gearset_loom" cargo test -p
//! gearset-models --profile models --test loom_atomvec -- fetch_add_racing_grow_is_not_lost
//! --exact`.
#![cfg(gearset_loom)]

use gearset_atomvec::{AtomicVec, SegmentedAtomicVec};
use gearset_sync::{Arc, cell::UnsafeCell, loom, thread};

fn model(preemption_bound: usize, f: impl Fn() + Sync + Send + 'static) {
    let mut builder = loom::model::Builder::new();
    builder.preemption_bound = Some(preemption_bound);
    builder.check(f);
}

/// One `fetch_add` races a grow that migrates the single cell (capacity 1 -> 2).
/// [TLA: NoLostUpdate]
#[test]
fn fetch_add_racing_grow_is_not_lost() {
    model(3, || {
        let v = Arc::new(AtomicVec::with_len(1));
        let adder = {
            let v = Arc::clone(&v);
            thread::spawn(move || v.fetch_add(0, 1).unwrap())
        };
        assert_eq!(v.grow_to(2), Ok(2));
        assert_eq!(adder.join().unwrap(), 0);
        assert_eq!(v.get(0), Ok(1));
        assert_eq!(v.get(1), Ok(0));
    });
}

/// Two writers `fetch_add` while a third thread grows: both adds survive. [TLA: NoLostUpdate]
#[test]
fn two_fetch_adds_racing_grow_are_both_counted() {
    model(2, || {
        let v = Arc::new(AtomicVec::with_len(1));
        let adders: Vec<_> = [1u64, 2]
            .into_iter()
            .map(|d| {
                let v = Arc::clone(&v);
                thread::spawn(move || {
                    v.fetch_add(0, d).unwrap();
                })
            })
            .collect();
        v.grow_to(2).unwrap();
        for a in adders {
            a.join().unwrap();
        }
        assert_eq!(v.get(0), Ok(3));
    });
}

/// A store to a kept cell races a shrink (2 -> 1 cells): the store survives.
/// [TLA: NoLostUpdate]
#[test]
fn store_racing_shrink_is_not_lost() {
    model(3, || {
        let v = Arc::new(AtomicVec::with_len(2));
        let writer = {
            let v = Arc::clone(&v);
            thread::spawn(move || v.store(0, 5).unwrap())
        };
        assert_eq!(v.shrink_to(1), Ok(1));
        writer.join().unwrap();
        assert_eq!(v.get(0), Ok(5));
        assert_eq!(v.len(), 1);
    });
}

/// A store to the cut cell races a shrink-then-grow: it either lands before the shrink (and is
/// cut), or between (and fails with an index error), or after the grow (and survives). A
/// stale value never reappears after an error. [TLA: TruncateZeroes]
#[test]
fn store_racing_shrink_then_grow() {
    model(3, || {
        let v = Arc::new(AtomicVec::with_len(2));
        let writer = {
            let v = Arc::clone(&v);
            thread::spawn(move || v.store(1, 5))
        };
        v.shrink_to(1).unwrap();
        v.grow_to(2).unwrap();
        let stored = writer.join().unwrap();
        let last = v.get(1).unwrap();
        match stored {
            Ok(()) => assert!(last == 5 || last == 0, "got {last}"),
            Err(e) => {
                assert_eq!((e.index, e.len), (1, 1));
                assert_eq!(last, 0, "a failed store must leave no trace");
            }
        }
    });
}

/// Two `compare_exchange(0 -> x)` race a grow: exactly one wins, and its value is kept.
#[test]
fn compare_exchange_racing_grow_has_one_winner() {
    model(2, || {
        let v = Arc::new(AtomicVec::with_len(1));
        let racers: Vec<_> = [7u64, 8]
            .into_iter()
            .map(|x| {
                let v = Arc::clone(&v);
                thread::spawn(move || v.compare_exchange(0, 0, x).unwrap().is_ok().then_some(x))
            })
            .collect();
        v.grow_to(2).unwrap();
        let winners: Vec<u64> = racers
            .into_iter()
            .filter_map(|r| r.join().unwrap())
            .collect();
        assert_eq!(winners.len(), 1);
        assert_eq!(v.get(0), Ok(winners[0]));
    });
}

/// A reader racing a writer and a migration never sees the counter go back (it may read the
/// old buffer, the frozen cell or the copy). [TLA: NoLostUpdate, per-cell linearizability]
#[test]
fn reads_are_monotone_across_migration() {
    model(3, || {
        let v = Arc::new(AtomicVec::with_len(1));
        let reader = {
            let v = Arc::clone(&v);
            thread::spawn(move || {
                let a = v.get(0).unwrap();
                let b = v.get(0).unwrap();
                assert!(b >= a, "went back from {a} to {b}");
            })
        };
        v.fetch_add(0, 1).unwrap();
        v.grow_to(2).unwrap();
        v.fetch_add(0, 1).unwrap();
        reader.join().unwrap();
        assert_eq!(v.get(0), Ok(2));
    });
}

/// Non-atomic data published by a store before a migration is visible to a reader that sees
/// the stored value in the new buffer (the copy carries the writer's Release on).
#[test]
fn copy_carries_release_to_reader() {
    struct Shared {
        vec: AtomicVec,
        data: UnsafeCell<u32>,
    }
    // SAFETY: `data` is written before the flag store and read after the flag is seen.
    unsafe impl Sync for Shared {}
    model(3, || {
        let s = Arc::new(Shared {
            vec: AtomicVec::with_len(1),
            data: UnsafeCell::new(0),
        });
        let writer = {
            let s = Arc::clone(&s);
            thread::spawn(move || {
                // SAFETY: read only after the flag below is seen.
                s.data.with_mut(|p| unsafe { *p = 9 });
                s.vec.store(0, 1).unwrap();
            })
        };
        s.vec.grow_to(2).unwrap();
        if s.vec.get(0) == Ok(1) {
            // SAFETY: the flag was seen; loom reports a causality violation if the edge fails.
            assert_eq!(s.data.with(|p| unsafe { *p }), 9);
        }
        writer.join().unwrap();
    });
}

/// `push` racing `push` within and beyond capacity: distinct indices, both values kept.
#[test]
fn concurrent_pushes_get_distinct_indices() {
    model(3, || {
        let v = Arc::new(AtomicVec::new());
        let pusher = {
            let v = Arc::clone(&v);
            thread::spawn(move || v.push(1).unwrap())
        };
        let mine = v.push(2).unwrap();
        let theirs = pusher.join().unwrap();
        assert_ne!(mine, theirs);
        assert_eq!(v.get(mine), Ok(2));
        assert_eq!(v.get(theirs), Ok(1));
    });
}

/// Two resizers race (a grow past capacity and a shrink): one wins `old.next`, the other frees
/// its buffer, helps, and retries on the result. A value stored before survives both, and the
/// final length is what some order of the two resizes gives.
#[test]
fn two_resizers_race() {
    model(3, || {
        let v = Arc::new(AtomicVec::with_len(2));
        v.store(0, 7).unwrap();
        let grower = {
            let v = Arc::clone(&v);
            thread::spawn(move || v.grow_to(3).unwrap())
        };
        v.shrink_to(1).unwrap();
        grower.join().unwrap();
        assert_eq!(v.get(0), Ok(7));
        let len = v.len();
        assert!(len == 1 || len == 3, "len {len}");
        if len == 3 {
            assert_eq!(v.get(1), Ok(0), "a cut cell came back with a stale value");
        }
    });
}

/// `SegmentedAtomicVec`: two growers race to install the same buckets (bucket 0 holds 2 cells
/// under loom); one CAS wins, the loser frees its copy, and an add racing the growth is kept.
#[test]
fn segmented_bucket_race_and_add() {
    model(3, || {
        let v = Arc::new(SegmentedAtomicVec::new());
        v.grow_to(1).unwrap();
        let grower = {
            let v = Arc::clone(&v);
            thread::spawn(move || {
                v.grow_to(3).unwrap();
                v.fetch_add(0, 1).unwrap();
            })
        };
        v.grow_to(4).unwrap();
        v.store(3, 9).unwrap();
        grower.join().unwrap();
        assert_eq!(v.get(0), Ok(1));
        assert_eq!(v.get(3), Ok(9));
        assert_eq!(v.len(), 4);
    });
}

/// `SegmentedAtomicVec`: pushes across a bucket boundary get distinct indices, and a reader
/// that sees the length cover an index reads a cell of an installed bucket.
#[test]
fn segmented_pushes_across_bucket_boundary() {
    model(2, || {
        let v = Arc::new(SegmentedAtomicVec::new());
        v.push(1).unwrap();
        let pusher = {
            let v = Arc::clone(&v);
            thread::spawn(move || v.push(2).unwrap())
        };
        let mine = v.push(3).unwrap();
        let n = v.len();
        for i in 0..n {
            let x = v.get(i).unwrap();
            assert!(x <= 3);
        }
        let theirs = pusher.join().unwrap();
        assert_ne!(mine, theirs);
        assert_eq!(v.get(theirs), Ok(2));
        assert_eq!(v.get(mine), Ok(3));
    });
}
