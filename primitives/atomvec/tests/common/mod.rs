//! The sequential-model proptest shared by `tests/api.rs` (`AtomicVec`) and
//! `tests/segmented.rs` (`SegmentedAtomicVec`): random operation sequences run on the vector and
//! on a plain `Vec<u64>`, with the same results and the same index errors.

use gearset_atomvec::IndexError;
use proptest::{prelude::*, test_runner::TestCaseError};

/// What the model test needs of a vector type. Resizes take `&mut self` so that an
/// implementation may reclaim (we own the vector: a quiescent point).
pub(crate) trait Cells {
    /// Values live modulo this (`2^62` for `AtomicVec`, `2^64` for `SegmentedAtomicVec`).
    const MODULUS: u128;
    fn with_len(len: usize) -> Self;
    fn get(&self, i: usize) -> Result<u64, IndexError>;
    fn store(&self, i: usize, x: u64) -> Result<(), IndexError>;
    fn swap(&self, i: usize, x: u64) -> Result<u64, IndexError>;
    fn fetch_add(&self, i: usize, d: u64) -> Result<u64, IndexError>;
    fn fetch_sub(&self, i: usize, d: u64) -> Result<u64, IndexError>;
    fn compare_exchange(&self, i: usize, c: u64, n: u64) -> Result<Result<u64, u64>, IndexError>;
    fn grow_to(&mut self, n: usize) -> usize;
    /// Lowers the length to at most `n` (`shrink_to` or `truncate`); returns the length.
    fn shrink_to(&mut self, n: usize) -> usize;
    fn push(&mut self, x: u64) -> usize;
    fn len(&self) -> usize;
    /// Type-specific checks after every operation (`capacity() >= len()`, ...).
    fn check(&self) -> Result<(), TestCaseError> {
        Ok(())
    }
}

#[derive(Debug, Clone)]
pub(crate) enum Op {
    Get(usize),
    Store(usize, u64),
    Swap(usize, u64),
    FetchAdd(usize, u64),
    FetchSub(usize, u64),
    Cas(usize, u64, u64),
    Grow(usize),
    Shrink(usize),
    Push(u64),
}

/// Operations on indices below `indices` with values up to `max` (small values, `max` and any
/// value, so that wrapping and compare-exchange successes both occur).
pub(crate) fn op(indices: usize, max: u64) -> impl Strategy<Value = Op> {
    let idx = 0..indices;
    let val = prop_oneof![0..4u64, Just(max), 0..=max];
    prop_oneof![
        idx.clone().prop_map(Op::Get),
        (idx.clone(), val.clone()).prop_map(|(i, v)| Op::Store(i, v)),
        (idx.clone(), val.clone()).prop_map(|(i, v)| Op::Swap(i, v)),
        (idx.clone(), any::<u64>()).prop_map(|(i, d)| Op::FetchAdd(i, d)),
        (idx.clone(), 0..3u64).prop_map(|(i, d)| Op::FetchSub(i, d)),
        (idx.clone(), 0..4u64, val.clone()).prop_map(|(i, c, n)| Op::Cas(i, c, n)),
        (0..indices * 7 / 4).prop_map(Op::Grow),
        (0..indices).prop_map(Op::Shrink),
        val.prop_map(Op::Push),
    ]
}

/// 256 cases (4 under Miri, without a regression file: Miri isolates the file system).
pub(crate) fn config() -> ProptestConfig {
    ProptestConfig {
        cases: if cfg!(miri) { 4 } else { 256 },
        failure_persistence: if cfg!(miri) {
            None
        } else {
            ProptestConfig::default().failure_persistence
        },
        ..ProptestConfig::default()
    }
}

/// Up to `n` operations per case (30 under Miri, which runs each atomic step slowly: a case
/// of 120 operations with migrations takes it minutes on a busy 2-core machine).
pub(crate) fn ops_per_case(n: usize) -> core::ops::Range<usize> {
    0..if cfg!(miri) { n.min(30) } else { n }
}

/// The model's answer to a by-index call: `Ok` with the cell, or the vector's index error.
fn cell(model: &mut [u64], i: usize) -> Result<&mut u64, IndexError> {
    let len = model.len();
    model.get_mut(i).ok_or(IndexError { index: i, len })
}

/// Runs `ops` on a `V` of `initial` zeros and on the model; every result must match.
pub(crate) fn matches_model<V: Cells>(initial: usize, ops: Vec<Op>) -> Result<(), TestCaseError> {
    let m = V::MODULUS;
    let mut v = V::with_len(initial);
    let mut model = vec![0u64; initial];
    for op in ops {
        match op {
            Op::Get(i) => prop_assert_eq!(v.get(i), cell(&mut model, i).map(|c| *c)),
            Op::Store(i, x) => prop_assert_eq!(v.store(i, x), cell(&mut model, i).map(|c| *c = x)),
            Op::Swap(i, x) => prop_assert_eq!(
                v.swap(i, x),
                cell(&mut model, i).map(|c| std::mem::replace(c, x))
            ),
            Op::FetchAdd(i, d) => prop_assert_eq!(
                v.fetch_add(i, d),
                cell(&mut model, i)
                    .map(|c| { std::mem::replace(c, ((*c as u128 + d as u128) % m) as u64) })
            ),
            Op::FetchSub(i, d) => prop_assert_eq!(
                v.fetch_sub(i, d),
                cell(&mut model, i)
                    .map(|c| { std::mem::replace(c, ((*c as u128 + m - d as u128) % m) as u64) })
            ),
            Op::Cas(i, c, n) => prop_assert_eq!(
                v.compare_exchange(i, c, n),
                cell(&mut model, i).map(|x| if *x == c {
                    Ok(std::mem::replace(x, n))
                } else {
                    Err(*x)
                })
            ),
            Op::Grow(n) => {
                model.resize(model.len().max(n), 0);
                prop_assert_eq!(v.grow_to(n), model.len());
            }
            Op::Shrink(n) => {
                model.truncate(n);
                prop_assert_eq!(v.shrink_to(n), model.len());
            }
            Op::Push(x) => {
                model.push(x);
                prop_assert_eq!(v.push(x), model.len() - 1);
            }
        }
        prop_assert_eq!(v.len(), model.len());
        v.check()?;
    }
    let all: Vec<_> = (0..model.len()).map(|i| v.get(i).unwrap()).collect();
    prop_assert_eq!(all, model);
    Ok(())
}
