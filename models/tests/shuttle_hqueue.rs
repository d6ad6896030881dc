//! shuttle tests of the hierarchical queue: 4 workers and an injector thread on synthetic
//! `core:4` and `l3:2 core:2` trees, under random and PCT schedules.
//!
//! shuttle runs every atomic as SeqCst, so these check the protocol (no item lost or taken
//! twice through pushes, spills, batch steals, priority takes and injections; every worker
//! ends), not the orderings: loom owns those.
//! Run: `RUSTFLAGS="--cfg gearset_shuttle" cargo test -p gearset-models --test shuttle_hqueue
//! --profile models`. Expected: well under a minute on 2 cores.
#![cfg(gearset_shuttle)]

use gearset_hqueue::{Config, Placement, Topology};
use gearset_models::shuttle_iterations;
use gearset_sync::{
    Arc,
    atomic::{
        AtomicU8, AtomicUsize,
        Ordering::{AcqRel, Acquire},
    },
    shuttle, thread,
};

const PER_WORKER: usize = 3;
const INJECTED: usize = 3;

fn run(spec: &'static str) {
    let config = Config {
        leaf_capacity: 2,
        max_batch: 2,
        placement: Placement::PerCore,
        priority_check: true,
        numa_patience: 0,
    };
    let (injector, workers) =
        gearset_hqueue::new::<usize>(Topology::synthetic(spec).unwrap(), config);
    let n = workers.len() * PER_WORKER + INJECTED;
    let seen: Arc<Vec<AtomicU8>> = Arc::new((0..n).map(|_| AtomicU8::new(0)).collect());
    let taken = Arc::new(AtomicUsize::new(0));
    let threads: Vec<_> = workers
        .into_iter()
        .enumerate()
        .map(|(i, mut w)| {
            let (seen, taken) = (Arc::clone(&seen), Arc::clone(&taken));
            thread::spawn(move || {
                let record = |(frame, id): (u64, usize)| {
                    assert_eq!(frame, (id % 3) as u64);
                    // AcqRel: the per-item count; a second take would read 1.
                    assert_eq!(seen[id].fetch_add(1, AcqRel), 0, "item {id} taken twice");
                    // AcqRel: the total that ends every worker's loop.
                    taken.fetch_add(1, AcqRel);
                };
                for k in 0..PER_WORKER {
                    let id = INJECTED + i * PER_WORKER + k;
                    w.push((id % 3) as u64, id);
                }
                // Acquire: pairs with the AcqRel adds above.
                while taken.load(Acquire) < n {
                    match w.pop() {
                        Some(x) => record(x),
                        None => thread::yield_now(),
                    }
                }
            })
        })
        .collect();
    for id in 0..INJECTED {
        injector.push((id % 3) as u64, id);
    }
    for t in threads {
        t.join().unwrap();
    }
    assert!(injector.is_empty());
}

#[test]
fn core4_random() {
    shuttle::check_random(|| run("core:4"), shuttle_iterations(2000));
}

#[test]
fn core4_pct() {
    shuttle::check_pct(|| run("core:4"), shuttle_iterations(2000), 3);
}

#[test]
fn l3x2_core2_random() {
    shuttle::check_random(|| run("l3:2 core:2"), shuttle_iterations(2000));
}

#[test]
fn l3x2_core2_pct() {
    shuttle::check_pct(|| run("l3:2 core:2"), shuttle_iterations(2000), 3);
}
