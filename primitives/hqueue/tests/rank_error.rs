//! Rank error of what comes out, measured on a deterministic schedule of 8 simulated workers
//! on a synthetic 2-socket tree.
//!
//! The rank error of a pop is the number of items in the whole tree with a strictly lower
//! frame than the one returned. The documented bound, checked here on every pop:
//!
//! - a pop from a non-empty leaf returns a frame no higher than the leaf's lowest (checked
//!   here) nor than the lowest of the shared queues above it, so its rank error counts only
//!   lower-frame items in *other* leaves' subtrees; on a one-core tree (leaf + root, with
//!   spills and injections) it is 0;
//! - a pop served by a climb returns the lowest frame of the first non-empty queue found
//!   nearest-first.
//!
//! Without the priority check (`Config::priority_check = false`) spilled and injected frames
//! wait until the leaf runs empty, and the error grows with the run: the test shows both.

use std::collections::BTreeMap;

use gearset_hqueue::{Config, Topology};

/// xorshift64*: a fixed, seedable schedule.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
}

#[derive(Default, Debug)]
struct Measure {
    pops: u64,
    rank_sum: u64,
    rank_max: u64,
    exact: u64,
}

/// `inject`: whether a tenth of the items come through the injector (the root queue).
fn simulate(spec: &str, steps: usize, seed: u64, config: Config, inject: bool) -> Measure {
    let check = config.priority_check;
    let (inj, mut workers) = gearset_hqueue::new::<u32>(Topology::synthetic(spec).unwrap(), config);
    let mut rng = Rng(seed);
    let mut frames: BTreeMap<u64, usize> = BTreeMap::new(); // frame → items in the tree
    let mut m = Measure::default();
    let mut frame_base = 0u64;
    for step in 0..steps as u32 {
        let w = (rng.next() % workers.len() as u64) as usize;
        let r = rng.next() % 10;
        if r < 5 {
            // frames advance: new work is at most 4 frames past the current base.
            let frame = frame_base + rng.next() % 4;
            if r == 0 && inject {
                inj.push(frame, step);
            } else {
                workers[w].push(frame, step);
            }
            *frames.entry(frame).or_default() += 1;
            if step % 64 == 0 {
                frame_base += 1;
            }
            continue;
        }
        let local_min = workers[w].local_min_frame();
        let Some((frame, _)) = workers[w].pop() else {
            assert!(frames.is_empty(), "pop found nothing while items remain");
            continue;
        };
        if let Some(min) = local_min {
            match check {
                true => assert!(frame <= min, "popped {frame} above the leaf's lowest {min}"),
                false => assert_eq!(frame, min, "a local pop returns the leaf's lowest frame"),
            }
        }
        let rank: usize = frames.range(..frame).map(|(_, n)| n).sum();
        m.pops += 1;
        m.rank_sum += rank as u64;
        m.rank_max = m.rank_max.max(rank as u64);
        m.exact += u64::from(rank == 0);
        let n = frames.get_mut(&frame).unwrap();
        *n -= 1;
        if *n == 0 {
            frames.remove(&frame);
        }
    }
    m
}

#[test]
fn one_queue_has_no_rank_error() {
    let steps = if cfg!(miri) { 80 } else { 20_000 };
    // One core, no injector: the ring holds one frame, higher frames wait in the root queue,
    // and the priority check takes from the root whenever it holds a lower frame than the
    // ring: still exact.
    let config = Config {
        leaf_capacity: 1 << 12,
        ..Config::default()
    };
    let m = simulate("core:1", steps, 7, config, false);
    assert_eq!(m.rank_max, 0, "{m:?}");
    // One core with spills and the injector: two queues, both on the path, still exact.
    let config = Config {
        leaf_capacity: 4,
        ..Config::default()
    };
    let m = simulate("core:1", steps, 7, config, true);
    assert_eq!(m.rank_max, 0, "{m:?}");
}

#[test]
fn tree_rank_error_is_measured() {
    let steps = if cfg!(miri) { 80 } else { 50_000 };
    for spec in ["core:1", "l3:2 core:4", "numa:2 l3:2 core:2"] {
        for priority_check in [true, false] {
            let config = Config {
                leaf_capacity: 16,
                max_batch: 8,
                priority_check,
                // The simulation expects a pop to find any item left (one climb reaches all).
                numa_patience: 0,
                ..Config::default()
            };
            let m = simulate(spec, steps, 42, config, true);
            let mean = m.rank_sum as f64 / m.pops as f64;
            eprintln!(
                "{spec} priority_check={priority_check}: {} pops, mean rank error {mean:.2}, max {}, exact {:.1}%",
                m.pops,
                m.rank_max,
                100.0 * m.exact as f64 / m.pops as f64
            );
            assert!(m.pops > 0);
        }
    }
}
