//! loom models of the hierarchical queue: every interleaving (and weak-memory outcome) of
//! owners, a stealer and climbing workers on tiny trees: the lock-free leaf ring's push, pop,
//! two-phase thief claim and owner claim (spills and re-tags), and the locked shared levels.
//!
//! Run: `RUSTFLAGS="--cfg gearset_loom" cargo test -p gearset-models --test loom_hqueue
//! --profile models`. Expected: about 10 s on 2 cores (the three-thread model takes most).
//!
//! Preemption bound: 3 for the two-thread models, 2 for the three-thread one (loom's docs:
//! "2 or 3 is enough to catch most bugs"; at this size each finishes in seconds). Queues are
//! tiny (`leaf_capacity` 2, `max_batch` 2) so three items exercise a spill, a batch and a
//! steal. The TLA+ twin is `tla/hqueue/HQueue.tla` with 2 workers and 3 items
//! (`tla/hqueue/models/HQueue_g1_p2_i3.cfg`).
//! Invariant checked: every item pushed is taken exactly once (`[TLA: ExactlyOnce]`).
#![cfg(gearset_loom)]

use gearset_hqueue::{Config, Placement, Topology, Worker};
use gearset_sync::{loom, thread};

fn model(preemption_bound: usize, f: impl Fn() + Sync + Send + 'static) {
    let mut builder = loom::model::Builder::new();
    builder.preemption_bound = Some(preemption_bound);
    builder.check(f);
}

fn tiny() -> Config {
    Config {
        leaf_capacity: 2,
        max_batch: 2,
        placement: Placement::PerCore,
        priority_check: true,
        numa_patience: 0,
    }
}

fn drain(w: &mut Worker<u32>, got: &mut Vec<u32>) {
    while let Some((_, x)) = w.pop() {
        got.push(x);
    }
}

fn assert_exactly_once(mut got: Vec<u32>, n: u32) {
    got.sort_unstable();
    assert_eq!(
        got,
        (0..n).collect::<Vec<_>>(),
        "an item was lost or duplicated"
    );
}

fn steal_twice(stealer: gearset_hqueue::Stealer<u32>) -> thread::JoinHandle<Vec<u32>> {
    thread::spawn(move || {
        let mut got = Vec::new();
        for _ in 0..2 {
            got.extend(stealer.steal().map(|x| x.1));
        }
        got
    })
}

/// A leaf ring of capacity 2: the owner pushes three items of one frame (the third finds the
/// ring full and spills the oldest half to the root with its own claim) and pops once, while
/// a stealer claims twice. Mutants: `hqueue_copy_steal` (a steal that copies without
/// claiming: duplicates) and `hqueue_relaxed_tail` (the push publishes with Relaxed: the
/// thief reads a slot that was not written before it).
#[test]
fn owner_push_pop_races_a_stealer() {
    model(3, || {
        let topology = Topology::synthetic("core:1").unwrap();
        let (injector, mut workers) = gearset_hqueue::new::<u32>(topology, tiny());
        let mut owner = workers.pop().unwrap();
        let thief = steal_twice(injector.stealer(0));
        for i in 0..3 {
            owner.push(0, i);
        }
        let mut got: Vec<u32> = owner.pop().map(|x| x.1).into_iter().collect();
        got.extend(thief.join().unwrap());
        drain(&mut owner, &mut got);
        assert_exactly_once(got, 3);
    });
}

/// Capacity 2 again, but the third push has a lower frame: the owner claims the whole ring
/// (racing the stealer's claims), spills it to the root, and re-tags the ring.
#[test]
fn owner_retag_races_a_stealer() {
    model(3, || {
        let topology = Topology::synthetic("core:1").unwrap();
        let (injector, mut workers) = gearset_hqueue::new::<u32>(topology, tiny());
        let mut owner = workers.pop().unwrap();
        let thief = steal_twice(injector.stealer(0));
        owner.push(1, 0);
        owner.push(1, 1);
        owner.push(0, 2);
        let mut got: Vec<u32> = owner.pop().map(|x| x.1).into_iter().collect();
        got.extend(thief.join().unwrap());
        drain(&mut owner, &mut got);
        assert_exactly_once(got, 3);
    });
}

/// Two leaves under one parent: worker 1 climbs and takes a batch (half of leaf 0's three
/// items, at most 2) while worker 0 pops its own leaf.
#[test]
fn sibling_batch_steal_races_the_owner() {
    model(3, || {
        let topology = Topology::synthetic("core:2").unwrap();
        let config = Config {
            leaf_capacity: 4,
            ..tiny()
        };
        let (_injector, workers) = gearset_hqueue::new::<u32>(topology, config);
        let [mut w0, mut w1]: [Worker<u32>; 2] = workers.try_into().unwrap();
        for i in 0..3 {
            w0.push(0, i);
        }
        let thief = thread::spawn(move || {
            let got: Vec<u32> = w1.pop().map(|x| x.1).into_iter().collect();
            (got, w1)
        });
        let mut got: Vec<u32> = w0.pop().map(|x| x.1).into_iter().collect();
        let (theirs, mut w1) = thief.join().unwrap();
        got.extend(theirs);
        drain(&mut w0, &mut got);
        drain(&mut w1, &mut got);
        assert_exactly_once(got, 3);
    });
}

/// An outside thread injects into the root while the only worker pushes (spilling into the
/// same root queue) and pops with the priority check reading the root's frame hint.
#[test]
fn injector_races_a_spilling_worker() {
    model(3, || {
        let topology = Topology::synthetic("core:1").unwrap();
        let (injector, mut workers) = gearset_hqueue::new::<u32>(topology, tiny());
        let mut w = workers.pop().unwrap();
        let outside = thread::spawn(move || {
            injector.push(0, 3);
        });
        w.push(2, 0);
        w.push(2, 1);
        w.push(1, 2); // a lower frame: both frame-2 items spill to the root
        let mut got: Vec<u32> = w.pop().map(|x| x.1).into_iter().collect();
        outside.join().unwrap();
        drain(&mut w, &mut got);
        assert_exactly_once(got, 4);
    });
}

/// Two thieves climb for the same leaf's items while its owner pushes a third item (which
/// spills) and pops: three threads, so preemption bound 2 (the bound tokio and crossbeam use
/// for three-thread models).
#[test]
fn two_thieves_and_a_spilling_owner() {
    model(2, || {
        let topology = Topology::synthetic("core:3").unwrap();
        let (_injector, workers) = gearset_hqueue::new::<u32>(topology, tiny());
        let [mut w0, w1, w2]: [Worker<u32>; 3] = workers.try_into().unwrap();
        w0.push(1, 0);
        w0.push(0, 1);
        let thieves: Vec<_> = [w1, w2]
            .into_iter()
            .map(|mut w| {
                thread::spawn(move || {
                    let got: Vec<u32> = w.pop().map(|x| x.1).into_iter().collect();
                    (got, w)
                })
            })
            .collect();
        w0.push(0, 2); // a lower frame: the ring's frame-1 item spills to the root
        let mut got: Vec<u32> = w0.pop().map(|x| x.1).into_iter().collect();
        let mut rest = Vec::new();
        for t in thieves {
            let (theirs, w) = t.join().unwrap();
            got.extend(theirs);
            rest.push(w);
        }
        drain(&mut w0, &mut got);
        for w in &mut rest {
            drain(w, &mut got);
        }
        assert_exactly_once(got, 3);
    });
}

/// Two workers own one leaf ring (`Placement::PerPu` on a core with two PUs). The ring is full
/// (capacity 2); one owner pops while the other pushes a third item: the pop frees its slot
/// before reading it, so without the owners' lock around the pop the push may write that very
/// slot first (a duplicate and a loss; loom reports the race on the slot's cell). Mutant:
/// `hqueue_unlocked_shared_pop`. Found by `tests/stress.rs` before any model covered shared
/// leaves.
#[test]
fn two_owners_of_a_shared_leaf() {
    model(3, || {
        let topology = Topology::synthetic("core:1 pu:2").unwrap();
        let config = Config {
            placement: Placement::PerPu,
            ..tiny()
        };
        let (_injector, mut workers) = gearset_hqueue::new::<u32>(topology, config);
        let mut second = workers.pop().unwrap();
        let mut first = workers.pop().unwrap();
        first.push(0, 0);
        first.push(0, 1);
        let pusher = thread::spawn(move || {
            second.push(0, 2);
            let mut got = Vec::new();
            drain(&mut second, &mut got);
            got
        });
        let mut got: Vec<u32> = first.pop().map(|x| x.1).into_iter().collect();
        got.extend(pusher.join().unwrap());
        drain(&mut first, &mut got);
        assert_exactly_once(got, 3);
    });
}
