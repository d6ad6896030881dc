//! `SegmentedAtomicVec`: proptest against a `Vec<u64>` model, and concurrent growth with adds
//! and pushes (every add counted, every push at its own index).

// std-only: under the model-checker cfgs the facade types need a model to run in.
#![cfg(not(any(gearset_loom, gearset_shuttle)))]

use gearset_atomvec::{IndexError, SegmentedAtomicVec};
use gearset_sync::{Arc, thread};
use proptest::prelude::*;

#[derive(Debug, Clone)]
enum Op {
    Get(usize),
    Store(usize, u64),
    Swap(usize, u64),
    FetchAdd(usize, u64),
    Cas(usize, u64, u64),
    Grow(usize),
    Truncate(usize),
    Push(u64),
}

fn op() -> impl Strategy<Value = Op> {
    let idx = 0..120usize;
    prop_oneof![
        idx.clone().prop_map(Op::Get),
        (idx.clone(), any::<u64>()).prop_map(|(i, v)| Op::Store(i, v)),
        (idx.clone(), any::<u64>()).prop_map(|(i, v)| Op::Swap(i, v)),
        (idx.clone(), any::<u64>()).prop_map(|(i, d)| Op::FetchAdd(i, d)),
        (idx.clone(), 0..3u64, any::<u64>()).prop_map(|(i, c, n)| Op::Cas(i, c, n)),
        (0..150usize).prop_map(Op::Grow),
        (0..120usize).prop_map(Op::Truncate),
        any::<u64>().prop_map(Op::Push),
    ]
}

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
    fn matches_sequential_model(ops in prop::collection::vec(op(), 0..100)) {
        let mut v = SegmentedAtomicVec::new();
        let mut model: Vec<u64> = Vec::new();
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
                        model[i] = old.wrapping_add(d);
                        old
                    });
                    prop_assert_eq!(v.fetch_add(i, d), expect);
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
                    prop_assert_eq!(v.grow_to(n), Ok(model.len()));
                }
                Op::Truncate(n) => {
                    model.truncate(n);
                    v.truncate(n);
                }
                Op::Push(x) => {
                    model.push(x);
                    prop_assert_eq!(v.push(x), Ok(model.len() - 1));
                }
            }
            prop_assert_eq!(v.len(), model.len());
        }
    }
}

#[test]
fn concurrent_growth_keeps_every_add_and_push() {
    let (threads, per) = (2usize, if cfg!(miri) { 50 } else { 20_000 });
    let v = Arc::new(SegmentedAtomicVec::new());
    v.grow_to(1).unwrap();
    let handles: Vec<_> = (0..threads)
        .map(|t| {
            let v = Arc::clone(&v);
            thread::spawn(move || {
                let mut mine = Vec::new();
                for k in 0..per {
                    v.fetch_add(0, 1).unwrap();
                    let value = (t * per + k) as u64 + 1;
                    mine.push((v.push(value).unwrap(), value));
                    if k % 64 == 0 {
                        v.grow_to(v.len() + 50).unwrap();
                    }
                }
                mine
            })
        })
        .collect();
    let pushed: Vec<(usize, u64)> = handles
        .into_iter()
        .flat_map(|h| h.join().unwrap())
        .collect();
    assert_eq!(v.get(0), Ok((threads * per) as u64));
    let mut seen = std::collections::HashSet::new();
    for (i, value) in pushed {
        assert!(seen.insert(i), "index {i} pushed twice");
        assert_eq!(v.get(i), Ok(value));
    }
}
