//! Public-API tests on std, including the proptest against a sequential `Vec<u64>` model
//! (`tests/common`, shared with `tests/segmented.rs`).

// std-only: under the model-checker cfgs the facade types need a model to run in.
#![cfg(not(any(gearset_loom, gearset_shuttle)))]

mod common;

use common::{Cells, config, matches_model, op, ops_per_case};
use gearset_atomvec::{AtomicVec, IndexError, MAX_VALUE, ResizeError};
use proptest::{prelude::*, test_runner::TestCaseError};

impl Cells for AtomicVec {
    const MODULUS: u128 = MAX_VALUE as u128 + 1;
    fn with_len(len: usize) -> Self {
        AtomicVec::with_len(len)
    }
    fn get(&self, i: usize) -> Result<u64, IndexError> {
        AtomicVec::get(self, i)
    }
    fn store(&self, i: usize, x: u64) -> Result<(), IndexError> {
        AtomicVec::store(self, i, x)
    }
    fn swap(&self, i: usize, x: u64) -> Result<u64, IndexError> {
        AtomicVec::swap(self, i, x)
    }
    fn fetch_add(&self, i: usize, d: u64) -> Result<u64, IndexError> {
        AtomicVec::fetch_add(self, i, d)
    }
    fn fetch_sub(&self, i: usize, d: u64) -> Result<u64, IndexError> {
        AtomicVec::fetch_sub(self, i, d)
    }
    fn compare_exchange(&self, i: usize, c: u64, n: u64) -> Result<Result<u64, u64>, IndexError> {
        AtomicVec::compare_exchange(self, i, c, n)
    }
    fn grow_to(&mut self, n: usize) -> usize {
        reclaiming(self, AtomicVec::reclaim, |v| v.grow_to(n))
    }
    fn shrink_to(&mut self, n: usize) -> usize {
        reclaiming(self, AtomicVec::reclaim, |v| v.shrink_to(n))
    }
    fn push(&mut self, x: u64) -> usize {
        reclaiming(self, AtomicVec::reclaim, |v| v.push(x))
    }
    fn len(&self) -> usize {
        AtomicVec::len(self)
    }
    fn check(&self) -> Result<(), TestCaseError> {
        // LenCovered.
        prop_assert!(self.capacity() >= self.len());
        Ok(())
    }
}

/// Runs a resize, reclaiming once when the garbage bound asks (we own the vector: a quiescent
/// point).
fn reclaiming<V>(
    v: &mut V,
    reclaim: impl Fn(&mut V),
    f: impl Fn(&V) -> Result<usize, ResizeError>,
) -> usize {
    match f(v) {
        Err(ResizeError::ReclaimNeeded { .. }) => {
            reclaim(v);
            f(v).unwrap()
        }
        r => r.unwrap(),
    }
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn matches_sequential_model(
        initial in 0..10usize,
        ops in prop::collection::vec(op(40, MAX_VALUE), ops_per_case(120)),
    ) {
        matches_model::<AtomicVec>(initial, ops)?;
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
