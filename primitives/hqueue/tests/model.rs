//! Property tests against sequential models, single-threaded (so the length hints are exact
//! and a climb sees every queue):
//!
//! - any tree, any sequence of pushes, injects, pops, local pops and steals: the items taken
//!   are exactly the items put in (a multiset), `pop` returns `None` only when the tree is
//!   empty, and a local pop returns the lowest frame of the leaf (`[TLA: FrameOrder]`);
//! - one leaf: the queue is an exact priority queue, LIFO within a frame.

use std::collections::BTreeMap;

use gearset_hqueue::{Config, Topology};
use proptest::prelude::*;

#[derive(Debug, Clone)]
enum Op {
    Push { worker: usize, frame: u64 },
    Inject { frame: u64 },
    Pop { worker: usize },
    PopLocal { worker: usize },
    Steal { leaf: usize },
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        4 => (0..8usize, 0..6u64).prop_map(|(worker, frame)| Op::Push { worker, frame }),
        1 => (0..6u64).prop_map(|frame| Op::Inject { frame }),
        3 => (0..8usize).prop_map(|worker| Op::Pop { worker }),
        1 => (0..8usize).prop_map(|worker| Op::PopLocal { worker }),
        1 => (0..8usize).prop_map(|leaf| Op::Steal { leaf }),
    ]
}

const SPECS: [&str; 4] = [
    "core:2",
    "l3:2 core:2",
    "numa:2 l3:2 core:2 pu:2",
    "pack:2 [numa] l2:2 core:1",
];

/// The model: item id → frame for every item in the tree.
fn take(model: &mut BTreeMap<u32, u64>, got: Option<(u64, u32)>) {
    if let Some((frame, id)) = got {
        assert_eq!(
            model.remove(&id),
            Some(frame),
            "item {id} taken twice or never put in"
        );
    }
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: if cfg!(miri) { 2 } else { 256 },
        failure_persistence: None,
        ..ProptestConfig::default()
    })]

    #[test]
    fn tree_conserves_the_multiset(
        spec in 0..SPECS.len(),
        capacity in 2..6usize,
        max_batch in 1..4usize,
        ops in proptest::collection::vec(op(), 1..if cfg!(miri) { 24 } else { 120 }),
    ) {
        // Patience 0: one climb reaches every queue (the model drains with single pops).
        let config = Config { leaf_capacity: capacity, max_batch, numa_patience: 0, ..Config::default() };
        let (inj, mut workers) = gearset_hqueue::new::<u32>(Topology::synthetic(SPECS[spec]).unwrap(), config);
        let n = workers.len();
        let mut model = BTreeMap::new();
        let mut next = 0u32;
        for op in ops {
            match op {
                Op::Push { worker, frame } => {
                    workers[worker % n].push(frame, next);
                    model.insert(next, frame);
                    next += 1;
                }
                Op::Inject { frame } => {
                    inj.push(frame, next);
                    model.insert(next, frame);
                    next += 1;
                }
                Op::Pop { worker } => {
                    let got = workers[worker % n].pop();
                    prop_assert_eq!(got.is_none(), model.is_empty());
                    take(&mut model, got);
                }
                Op::PopLocal { worker } => {
                    let w = &mut workers[worker % n];
                    let min = w.local_min_frame();
                    let got = w.pop_local();
                    prop_assert_eq!(got.map(|g| g.0), min);
                    take(&mut model, got);
                }
                Op::Steal { leaf } => take(&mut model, inj.stealer(leaf % n).steal()),
            }
            prop_assert_eq!(inj.len(), model.len());
        }
        for w in workers.iter_mut() {
            while let Some(got) = w.pop() {
                take(&mut model, Some(got));
            }
        }
        prop_assert!(model.is_empty());
        let pushed: u64 = workers.iter().map(|w| w.stats().pushed).sum();
        prop_assert!(pushed <= u64::from(next));
    }

    #[test]
    fn one_leaf_is_an_exact_priority_queue(
        ops in proptest::collection::vec(
            prop_oneof![(0..5u64).prop_map(Some), Just(None)],
            1..if cfg!(miri) { 24 } else { 200 },
        ),
    ) {
        let config = Config { leaf_capacity: 1 << 10, ..Config::default() };
        let (_inj, mut w) = gearset_hqueue::new::<u32>(Topology::synthetic("core:1").unwrap(), config);
        // frame → ids
        let mut model: BTreeMap<u64, Vec<u32>> = BTreeMap::new();
        for (id, op) in ops.into_iter().enumerate() {
            match op {
                Some(frame) => {
                    w[0].push(frame, id as u32);
                    model.entry(frame).or_default().push(id as u32);
                }
                None => {
                    // Frames exactly; within a frame any order (FIFO in the ring and in the
                    // root queue, but a frame can sit in both).
                    let got = w[0].pop();
                    let lowest = model.first_entry();
                    prop_assert_eq!(got.is_some(), lowest.is_some());
                    if let (Some((frame, id)), Some(mut e)) = (got, lowest) {
                        prop_assert_eq!(frame, *e.key());
                        let at = e.get().iter().position(|&x| x == id);
                        prop_assert!(at.is_some(), "{id} is not a pushed item of frame {frame}");
                        e.get_mut().remove(at.unwrap());
                        if e.get().is_empty() {
                            e.remove();
                        }
                    }
                }
            }
        }
    }
}
