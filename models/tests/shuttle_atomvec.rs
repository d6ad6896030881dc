//! shuttle tests of `AtomicVec`: 4 writers and a resizer that grows and shrinks repeatedly,
//! under random and PCT schedules. shuttle runs every atomic as SeqCst, so these check the
//! migration protocol (helping, lost updates, index errors) at more threads than loom can take;
//! loom and Miri own the orderings.
//!
//! Run: `RUSTFLAGS="--cfg gearset_shuttle" cargo test -p gearset-models --test shuttle_atomvec
//! --profile models` (or `cargo xtask shuttle`). Expected: 4 tests in 1-2 s on 2 cores.
#![cfg(gearset_shuttle)]

use gearset_atomvec::{AtomicVec, ResizeError};
use gearset_models::shuttle_iterations;
use gearset_sync::{Arc, shuttle, thread};

const WRITERS: usize = 4;
const ADDS: usize = 3;
/// Writers add to cells `0..2`; writer `w` also stores into its own cell `2 + w`.
const FLOOR: usize = 2 + WRITERS;

/// 4 writers `fetch_add` and `store` while a resizer grows and shrinks (capacities 6..10):
/// every add is counted and each writer's last store survives. [TLA: NoLostUpdate]
fn writers_and_resizer() {
    let v = Arc::new(AtomicVec::with_len(FLOOR));
    let writers: Vec<_> = (0..WRITERS)
        .map(|w| {
            let v = Arc::clone(&v);
            thread::spawn(move || {
                for k in 0..ADDS {
                    v.fetch_add(w % 2, 1 + w as u64).unwrap();
                    v.store(2 + w, k as u64 + 1).unwrap();
                }
            })
        })
        .collect();
    let resizer = {
        let v = Arc::clone(&v);
        thread::spawn(move || {
            for n in 0..3 {
                for r in [v.grow_to(FLOOR + 2 + n), v.shrink_to(FLOOR)] {
                    assert!(
                        matches!(r, Ok(_) | Err(ResizeError::ReclaimNeeded { .. })),
                        "{r:?}"
                    );
                }
            }
        })
    };
    for w in writers {
        w.join().unwrap();
    }
    resizer.join().unwrap();
    let expect0: u64 = (0..WRITERS)
        .filter(|w| w % 2 == 0)
        .map(|w| (1 + w as u64) * 3)
        .sum();
    let expect1: u64 = (0..WRITERS)
        .filter(|w| w % 2 == 1)
        .map(|w| (1 + w as u64) * 3)
        .sum();
    assert_eq!(v.get(0), Ok(expect0));
    assert_eq!(v.get(1), Ok(expect1));
    for w in 0..WRITERS {
        assert_eq!(
            v.get(2 + w),
            Ok(ADDS as u64),
            "writer {w}'s last store lost"
        );
    }
}

/// 4 pushers and a grower (capacity 0 -> migrations on the way): every push gets a distinct
/// index and its value is at that index afterwards; the length covers all of them.
fn pushers_and_grower() {
    let v = Arc::new(AtomicVec::new());
    let pushers: Vec<_> = (0..WRITERS)
        .map(|w| {
            let v = Arc::clone(&v);
            thread::spawn(move || {
                (0..2u64)
                    .map(|k| {
                        (
                            v.push(10 * w as u64 + k + 1).unwrap(),
                            10 * w as u64 + k + 1,
                        )
                    })
                    .collect::<Vec<_>>()
            })
        })
        .collect();
    let grower = {
        let v = Arc::clone(&v);
        thread::spawn(move || {
            v.grow_to(3).unwrap();
            v.grow_to(6).unwrap();
        })
    };
    let pushed: Vec<(usize, u64)> = pushers
        .into_iter()
        .flat_map(|p| p.join().unwrap())
        .collect();
    grower.join().unwrap();
    let mut indices: Vec<usize> = pushed.iter().map(|&(i, _)| i).collect();
    indices.sort_unstable();
    indices.dedup();
    assert_eq!(indices.len(), pushed.len(), "two pushes got the same index");
    for (i, x) in pushed {
        assert_eq!(v.get(i), Ok(x), "push of {x} at {i} lost");
    }
    assert!(v.len() >= 2 * WRITERS);
}

#[test]
fn writers_and_resizer_random() {
    shuttle::check_random(writers_and_resizer, shuttle_iterations(2000));
}

#[test]
fn writers_and_resizer_pct() {
    shuttle::check_pct(writers_and_resizer, shuttle_iterations(2000), 3);
}

#[test]
fn pushers_and_grower_random() {
    shuttle::check_random(pushers_and_grower, shuttle_iterations(2000));
}

#[test]
fn pushers_and_grower_pct() {
    shuttle::check_pct(pushers_and_grower, shuttle_iterations(2000), 3);
}
