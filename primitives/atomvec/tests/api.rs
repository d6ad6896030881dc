//! Public-API tests on std, including a proptest against a sequential `Vec<u64>` model.

// std-only: under the model-checker cfgs the facade types need a model to run in.
#![cfg(not(any(gearset_loom, gearset_shuttle)))]

use gearset_atomvec::{AtomicVec, IndexError, MAX_VALUE, ResizeError};
use proptest::prelude::*;

#[derive(Debug, Clone)]
enum Op {
    Get(usize),
    Store(usize, u64),
    Swap(usize, u64),
    FetchAdd(usize, u64),
    FetchSub(usize, u64),
    Cas(usize, u64, u64),
    Grow(usize),
    Shrink(usize),
    Push(u64),
    Len,
}

fn op() -> impl Strategy<Value = Op> {
    let idx = 0..40usize;
    let val = prop_oneof![0..4u64, Just(MAX_VALUE), 0..=MAX_VALUE];
    prop_oneof![
        idx.clone().prop_map(Op::Get),
        (idx.clone(), val.clone()).prop_map(|(i, v)| Op::Store(i, v)),
        (idx.clone(), val.clone()).prop_map(|(i, v)| Op::Swap(i, v)),
        (idx.clone(), any::<u64>()).prop_map(|(i, d)| Op::FetchAdd(i, d)),
        (idx.clone(), 0..3u64).prop_map(|(i, d)| Op::FetchSub(i, d)),
        (idx.clone(), 0..4u64, val.clone()).prop_map(|(i, c, n)| Op::Cas(i, c, n)),
        (0..70usize).prop_map(Op::Grow),
        (0..40usize).prop_map(Op::Shrink),
        val.prop_map(Op::Push),
        Just(Op::Len),
    ]
}

/// The sequential model: a plain vector, with the same index errors.
fn bound(model: &[u64], i: usize) -> Result<(), IndexError> {
    if i < model.len() {
        Ok(())
    } else {
        Err(IndexError {
            index: i,
            len: model.len(),
        })
    }
}

/// Runs a resize, reclaiming (we own the vector: a quiescent point) when the garbage bound asks.
fn resize(v: &mut AtomicVec, f: impl Fn(&AtomicVec) -> Result<usize, ResizeError>) -> usize {
    match f(v) {
        Err(ResizeError::ReclaimNeeded { .. }) => {
            v.reclaim();
            f(v).unwrap()
        }
        r => r.unwrap(),
    }
}

const M: u64 = MAX_VALUE + 1;

proptest! {
    #![proptest_config(ProptestConfig {
        cases: if cfg!(miri) { 4 } else { 256 },
        // Miri isolates the file system: no regression file there.
        failure_persistence: if cfg!(miri) {
            None
        } else {
            ProptestConfig::default().failure_persistence
        },
        ..ProptestConfig::default()
    })]

    #[test]
    fn matches_sequential_model(initial in 0..10usize, ops in prop::collection::vec(op(), 0..120)) {
        let mut v = AtomicVec::with_len(initial);
        let mut model = vec![0u64; initial];
        for op in ops {
            match op {
                Op::Get(i) => prop_assert_eq!(v.get(i), bound(&model, i).map(|()| model[i])),
                Op::Store(i, x) => {
                    let expect = bound(&model, i).map(|()| model[i] = x);
                    prop_assert_eq!(v.store(i, x), expect);
                }
                Op::Swap(i, x) => {
                    let expect = bound(&model, i).map(|()| std::mem::replace(&mut model[i], x));
                    prop_assert_eq!(v.swap(i, x), expect);
                }
                Op::FetchAdd(i, d) => {
                    let expect = bound(&model, i).map(|()| {
                        let old = model[i];
                        model[i] = ((old as u128 + d as u128) % M as u128) as u64;
                        old
                    });
                    prop_assert_eq!(v.fetch_add(i, d), expect);
                }
                Op::FetchSub(i, d) => {
                    let expect = bound(&model, i).map(|()| {
                        let old = model[i];
                        model[i] = (old + M - d) % M;
                        old
                    });
                    prop_assert_eq!(v.fetch_sub(i, d), expect);
                }
                Op::Cas(i, c, n) => {
                    let expect = bound(&model, i).map(|()| {
                        let old = model[i];
                        if old == c { model[i] = n; Ok(old) } else { Err(old) }
                    });
                    prop_assert_eq!(v.compare_exchange(i, c, n), expect);
                }
                Op::Grow(n) => {
                    if n > model.len() { model.resize(n, 0); }
                    prop_assert_eq!(resize(&mut v, |v| v.grow_to(n)), model.len());
                }
                Op::Shrink(n) => {
                    model.truncate(n);
                    prop_assert_eq!(resize(&mut v, |v| v.shrink_to(n)), model.len());
                }
                Op::Push(x) => {
                    model.push(x);
                    prop_assert_eq!(resize(&mut v, |v| v.push(x)), model.len() - 1);
                }
                Op::Len => prop_assert_eq!(v.len(), model.len()),
            }
            prop_assert!(v.capacity() >= v.len());
        }
        prop_assert_eq!(v.snapshot().collect::<Vec<_>>(), model);
    }
}

#[test]
fn every_index_method_reports_out_of_range_the_same_way() {
    let v = AtomicVec::with_len(2);
    let e = IndexError { index: 2, len: 2 };
    assert_eq!(v.get(2), Err(e));
    assert_eq!(v.store(2, 1), Err(e));
    assert_eq!(v.swap(2, 1), Err(e));
    assert_eq!(v.fetch_add(2, 1), Err(e));
    assert_eq!(v.fetch_sub(2, 1), Err(e));
    assert_eq!(v.compare_exchange(2, 0, 1), Err(e));
    assert_eq!(
        e.to_string(),
        "index 2 out of bounds for AtomicVec of length 2"
    );
}

#[test]
fn growth_beyond_isize_max_bytes_fails_cleanly() {
    let v = AtomicVec::with_len(1);
    let huge = (isize::MAX as usize) / 8 + 1;
    assert_eq!(
        v.grow_to(huge),
        Err(ResizeError::CapacityOverflow { requested: huge })
    );
    assert!(matches!(
        AtomicVec::try_with_len(huge),
        Err(ResizeError::CapacityOverflow { .. })
    ));
    // The vector is unchanged and still usable.
    assert_eq!(v.len(), 1);
    assert_eq!(v.fetch_add(0, 1), Ok(0));
}

#[test]
fn shrink_then_grow_reexposes_zero_not_stale_values() {
    let v = AtomicVec::with_len(8);
    for i in 0..8 {
        v.store(i, 100 + i as u64).unwrap();
    }
    v.shrink_to(3).unwrap();
    v.grow_to(8).unwrap();
    assert_eq!(
        v.snapshot().collect::<Vec<_>>(),
        [100, 101, 102, 0, 0, 0, 0, 0]
    );
}

#[test]
fn grow_within_capacity_does_not_migrate() {
    let v = AtomicVec::new();
    v.grow_to(100).unwrap();
    v.shrink_to(10).unwrap();
    let retired = v.retired_cells();
    let cap = v.capacity();
    v.grow_to(cap).unwrap();
    assert_eq!(v.retired_cells(), retired);
}

#[test]
fn debug_shows_len_and_capacity() {
    let v = AtomicVec::with_len(2);
    let s = format!("{v:?}");
    assert!(s.contains("len: 2"), "{s}");
}
