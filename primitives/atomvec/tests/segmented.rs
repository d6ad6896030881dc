//! `SegmentedAtomicVec`: proptest against a `Vec<u64>` model, and concurrent growth with adds
//! and pushes (every add counted, every push at its own index).

// std-only: under the model-checker cfgs the facade types need a model to run in.
#![cfg(not(any(gearset_loom, gearset_shuttle)))]

mod common;

use common::{Cells, config, matches_model, op, ops_per_case};
use gearset_atomvec::{IndexError, SegmentedAtomicVec};
use gearset_sync::{Arc, thread};
use proptest::prelude::*;

impl Cells for SegmentedAtomicVec {
    const MODULUS: u128 = u64::MAX as u128 + 1;
    fn with_len(len: usize) -> Self {
        let v = SegmentedAtomicVec::new();
        v.grow_to(len).unwrap();
        v
    }
    fn get(&self, i: usize) -> Result<u64, IndexError> {
        SegmentedAtomicVec::get(self, i)
    }
    fn store(&self, i: usize, x: u64) -> Result<(), IndexError> {
        SegmentedAtomicVec::store(self, i, x)
    }
    fn swap(&self, i: usize, x: u64) -> Result<u64, IndexError> {
        SegmentedAtomicVec::swap(self, i, x)
    }
    fn fetch_add(&self, i: usize, d: u64) -> Result<u64, IndexError> {
        SegmentedAtomicVec::fetch_add(self, i, d)
    }
    /// No `fetch_sub` of its own: an add of the negation is the same modulo `2^64`.
    fn fetch_sub(&self, i: usize, d: u64) -> Result<u64, IndexError> {
        SegmentedAtomicVec::fetch_add(self, i, d.wrapping_neg())
    }
    fn compare_exchange(&self, i: usize, c: u64, n: u64) -> Result<Result<u64, u64>, IndexError> {
        SegmentedAtomicVec::compare_exchange(self, i, c, n)
    }
    fn grow_to(&mut self, n: usize) -> usize {
        SegmentedAtomicVec::grow_to(self, n).unwrap()
    }
    fn shrink_to(&mut self, n: usize) -> usize {
        self.truncate(n);
        SegmentedAtomicVec::len(self)
    }
    fn push(&mut self, x: u64) -> usize {
        SegmentedAtomicVec::push(self, x).unwrap()
    }
    fn len(&self) -> usize {
        SegmentedAtomicVec::len(self)
    }
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn matches_sequential_model(
        initial in 0..10usize,
        ops in prop::collection::vec(op(120, u64::MAX), ops_per_case(100)),
    ) {
        matches_model::<SegmentedAtomicVec>(initial, ops)?;
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
