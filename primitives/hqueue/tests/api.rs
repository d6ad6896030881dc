//! The public API on std: pushes, pops, climbs, spills, batches, stealers, the injector,
//! placement and pinning.

use gearset_hqueue::{Config, LevelKind, PinError, Placement, Source, Topology, Worker};

fn tree(spec: &str, config: Config) -> (gearset_hqueue::Injector<u32>, Vec<Worker<u32>>) {
    gearset_hqueue::new(Topology::synthetic(spec).unwrap(), config)
}

fn small(leaf_capacity: usize, max_batch: usize) -> Config {
    Config {
        leaf_capacity,
        max_batch,
        ..Config::default()
    }
}

#[test]
fn full_leaf_spills_its_oldest_half_to_the_parent() {
    let (_inj, mut w) = tree("l3:2 core:2", small(4, 32));
    for i in 0..5 {
        w[0].push(7, i);
    }
    // The fifth push found the ring full (4): its oldest half (0 and 1) went to the L3 queue.
    assert_eq!(w[0].local_len(), 3);
    assert_eq!(w[0].stats().levels[0].spilled, 2);
    assert_eq!(w[0].stats().levels[0].level, LevelKind::Cache(3));
    // The sibling under the same L3 finds them in the L3 queue first, oldest first.
    assert_eq!(w[1].pop(), Some((7, 0)));
    assert_eq!(w[1].stats().levels[0].taken, 1);
    assert_eq!(w[1].pop_local(), None, "half of 2 is 1: nothing kept");
}

#[test]
fn the_ring_holds_one_frame_higher_frames_wait_upstairs() {
    let (_inj, mut w) = tree("l3:2 core:2", small(4, 32));
    w[0].push(5, 50);
    w[0].push(6, 60); // higher than the ring's frame: to the L3 queue
    w[0].push(5, 51);
    assert_eq!((w[0].local_len(), w[0].local_min_frame()), (2, Some(5)));
    assert_eq!(w[0].stats().levels[0].spilled, 1);
    w[0].push(4, 40); // lower: the ring's frame-5 items move up, the ring takes frame 4
    assert_eq!((w[0].local_len(), w[0].local_min_frame()), (1, Some(4)));
    assert_eq!(w[0].stats().levels[0].spilled, 3);
    let order: Vec<_> = core::iter::from_fn(|| w[0].pop()).collect();
    assert_eq!(order, [(4, 40), (5, 50), (5, 51), (6, 60)]);
}

#[test]
fn spill_goes_past_a_full_level() {
    let (_inj, mut w) = tree("numa:2 core:2", small(2, 32));
    // NUMA capacity = 2 × 2 leaves = 4. Each third push spills one item.
    for i in 0..3 {
        w[0].push(10, i);
    }
    assert_eq!(w[0].stats().levels[0].spilled, 1);
    for i in 3..20 {
        w[0].push(10, i);
    }
    let s = w[0].stats();
    assert_eq!(s.levels[1].level, LevelKind::Machine);
    assert!(s.levels[1].spilled > 0, "{s:?}");
    assert_eq!(s.spilled() + w[0].local_len() as u64, 20);
    let mut all: Vec<u32> = Vec::new();
    for worker in w.iter_mut().rev() {
        all.extend(std::iter::from_fn(|| worker.pop().map(|x| x.1)));
    }
    all.sort_unstable();
    assert_eq!(all, (0..20).collect::<Vec<_>>());
}

#[test]
fn climb_takes_the_nearest_work_first() {
    // Leaves 0-1 share an L3; 0-3 share NUMA 0; 4-7 are NUMA 1. Patience 0: cross at once.
    let config = Config {
        numa_patience: 0,
        ..Config::default()
    };
    let (_inj, mut w) = tree("numa:2 l3:2 core:2", config);
    w[7].push(0, 70);
    w[2].push(5, 20);
    w[1].push(9, 10);
    assert_eq!(
        w[0].pop(),
        Some((9, 10)),
        "same L3 before same NUMA node, despite frames"
    );
    assert_eq!(
        w[0].pop(),
        Some((5, 20)),
        "same NUMA node before the machine"
    );
    assert_eq!(w[0].pop(), Some((0, 70)));
    let levels: Vec<_> = w[0]
        .stats()
        .levels
        .iter()
        .map(|l| (l.level, l.taken))
        .collect();
    assert_eq!(
        levels,
        [
            (LevelKind::Cache(3), 1),
            (LevelKind::Numa, 1),
            (LevelKind::Machine, 1)
        ]
    );
    assert_eq!(w[0].stats().taken_across_numa(), 1);
    assert_eq!(w[0].pop(), None);
    assert_eq!(w[0].stats().empty_climbs, 1);
}

#[test]
fn numa_patience_delays_crossing_nodes() {
    let config = Config {
        numa_patience: 3,
        ..Config::default()
    };
    let (_inj, mut w) = tree("numa:2 core:2", config);
    w[3].push(0, 30);
    for _ in 0..3 {
        assert_eq!(w[0].pop(), None, "not yet: the other node's queues wait");
    }
    assert_eq!(w[0].pop(), Some((0, 30)));
    assert_eq!(w[0].stats().taken_across_numa(), 1);
    assert_eq!(w[0].stats().empty_climbs, 3);
}

#[test]
fn a_climb_takes_half_bounded_by_max_batch() {
    let (_inj, mut w) = tree("core:2", small(256, 3));
    for i in 0..5 {
        w[0].push(i as u64, i);
    }
    // Frame 0 is in w[0]'s ring, frames 1..5 wait in the root queue (higher frames go up).
    // w[1] climbs: the root ring's own queue first (the ancestor), half of 4 = 2 of its lowest
    // frame (frame 1 only: a batch never mixes frames).
    assert_eq!(w[1].pop(), Some((1, 1)));
    assert_eq!(w[1].local_len(), 0);
    assert_eq!(w[0].local_len(), 1);
    let (_inj, mut w) = tree("core:2", small(256, 2));
    for i in 0..10 {
        w[0].push(0, i);
    }
    assert!(w[1].pop().is_some());
    assert_eq!(w[1].local_len(), 1, "bounded by max_batch = 2");
    assert_eq!(w[1].stats().levels[0].batches, 1);
    assert_eq!(w[1].stats().levels[0].taken, 2);
}

#[test]
fn owner_and_thieves_take_the_oldest_of_the_lowest_frame() {
    let (inj, mut w) = tree("core:2", Config::default());
    for (f, x) in [(2, 1), (1, 2), (1, 3), (2, 4)] {
        w[0].push(f, x);
    }
    // Frame 1 took the ring (frame 2's item moved up); frame 2's second item went up too.
    assert_eq!(w[0].local_min_frame(), Some(1));
    assert_eq!(inj.stealer(0).steal(), Some((1, 2)), "oldest of frame 1");
    assert_eq!(w[0].pop(), Some((1, 3)));
    assert!(w[0].stealer().is_empty());
    assert_eq!(
        w[0].pop(),
        Some((2, 1)),
        "then frame 2 from the root, oldest first"
    );
    assert_eq!(w[0].pop(), Some((2, 4)));
}

#[test]
fn injected_items_reach_every_worker() {
    let (inj, mut w) = tree("numa:2 core:2", Config::default());
    let outside = {
        let inj = inj.clone();
        gearset_sync::thread::spawn(move || (0..8).for_each(|i| inj.push(i as u64, i)))
    };
    outside.join().unwrap();
    assert_eq!(inj.len(), 8);
    let got = w[3].pop().unwrap();
    assert_eq!(got, (0, 0));
    // A batch takes one frame only: frame 0 has one item.
    assert_eq!(w[3].local_len(), 0);
    assert_eq!(w[3].stats().levels.last().unwrap().taken, 1);
    inj.push(9, 90);
    inj.push(9, 91);
    inj.push(9, 92);
    assert_eq!(w[2].pop(), Some((1, 1)));
    assert_eq!(w[2].pop(), Some((2, 2)));
    assert!(!inj.is_empty());
}

#[test]
fn per_pu_placement_shares_the_leaf_queue() {
    let config = Config {
        placement: Placement::PerPu,
        ..Config::default()
    };
    let (_inj, mut w) = tree("core:2 pu:2", config);
    assert_eq!(w.len(), 4);
    assert_eq!((w[0].leaf(), w[1].leaf(), w[2].leaf()), (0, 0, 1));
    assert_eq!((w[0].cpus(), w[1].cpus()), (&[0][..], &[1][..]));
    w[0].push(0, 5);
    assert_eq!(
        w[1].pop_local(),
        Some((0, 5)),
        "hyperthreads share the leaf"
    );
}

#[test]
fn stealer_batch_moves_half_into_the_destination() {
    let (inj, mut w) = tree("core:2", Config::default());
    for i in 0..6 {
        w[0].push(1, i);
    }
    let got = inj.stealer(0).steal_batch_and_pop(&mut w[1]);
    assert_eq!(got, Some((1, 0)));
    assert_eq!((w[0].local_len(), w[1].local_len()), (3, 2));
}

#[test]
#[should_panic(expected = "another queue tree")]
fn stealer_rejects_a_worker_of_another_tree() {
    let (inj, _w) = tree("core:2", Config::default());
    let (_inj2, mut other) = tree("core:2", Config::default());
    inj.stealer(0).steal_batch_and_pop(&mut other[0]);
}

#[test]
fn pinning_needs_a_topology_of_this_machine() {
    let (_inj, w) = tree("core:2", Config::default());
    assert_eq!(w[0].pin(), Err(PinError::NotThisMachine));
    let flat = Topology::flat(2, "test");
    assert!(matches!(flat.source(), Source::Flat(_)));
    let (_i, w) = gearset_hqueue::new::<u8>(flat, Config::default());
    assert_eq!(w[0].pin(), Err(PinError::NotThisMachine));
}

#[cfg(target_os = "linux")]
#[test]
fn pinning_binds_to_the_leaf_cpus_on_linux() {
    let t = Topology::discover();
    if !matches!(t.source(), Source::Sysfs(_)) {
        return; // no sysfs in this sandbox: nothing to pin to
    }
    let (_i, w) = gearset_hqueue::new::<u8>(t, Config::default());
    let last = w.last().unwrap();
    // On a fresh thread, so this test thread keeps its affinity.
    let cpus = last.cpus().to_vec();
    let pinned = std::thread::spawn(move || {
        gearset_hqueue::pin_current_thread(&cpus).map(|()| gearset_hqueue::current_affinity())
    })
    .join()
    .unwrap();
    match pinned {
        Ok(now) => assert_eq!(now.unwrap(), last.cpus()),
        // A cgroup may forbid the CPU; the error must say so clearly.
        Err(e) => assert!(matches!(e, PinError::Os(_)), "{e}"),
    }
    assert_eq!(
        gearset_hqueue::pin_current_thread(&[1 << 20]),
        Err(PinError::CpuOutOfRange(1 << 20))
    );
}

#[test]
#[should_panic(expected = "leaf_capacity")]
fn tiny_capacity_is_rejected() {
    tree("core:2", small(1, 1));
}

/// The README's usage example.
#[test]
fn readme_example() {
    let topology = Topology::synthetic("numa:2 l3:2 core:4 pu:2").unwrap();
    let (injector, mut workers) = gearset_hqueue::new::<u64>(topology, Config::default());
    injector.push(0, 42);
    workers[3].push(1, 7);
    assert_eq!(workers[3].pop(), Some((0, 42)));
    assert_eq!(workers[3].pop(), Some((1, 7)));
    assert_eq!(workers[3].stats().taken_across_numa(), 0);
}
