//! [`SegmentedAtomicVec`]: the never-move alternative. Cells live in power-of-two buckets that
//! are allocated once and never copied, so element operations are plain hardware atomics on a
//! stable address and growth needs no migration and no reclamation.
//!
//! Layout (TBB `concurrent_vector`, boxcar, append-only-vec): bucket `k` holds `B·2^k` cells,
//! `B = BUCKET0`; index `i` lives in bucket `k = log2(i + B) - log2(B)` at offset
//! `i + B - B·2^k`. The directory is a fixed array of bucket pointers.
//!
//! Invariants:
//! - `LenCovered`: every index below `len` lies in an allocated bucket, because `len` is raised
//!   (Release) only after the buckets below it were installed.
//! - `DirStable`: a non-null directory entry never changes until `Drop`.
//! - Indices are claimed once: `push` takes them from `reserved` (`fetch_add`), `grow_to` raises
//!   `reserved` (`fetch_max`) before exposing its range, so no two callers own one index.

use core::{fmt, ptr};

use gearset_sync::atomic::{
    AtomicPtr, AtomicU64, AtomicUsize,
    Ordering::{AcqRel, Acquire, Relaxed, Release},
};

use crate::{IndexError, ResizeError};

/// Cells in bucket 0 (a power of two). 2 under a model checker, so models cross a bucket
/// boundary with a handful of cells.
const BUCKET0: usize = if gearset_sync::MODEL_CHECKED { 2 } else { 32 };
const BUCKET0_BITS: u32 = BUCKET0.trailing_zeros();
/// Enough buckets for every index below `usize::MAX - BUCKET0`.
const BUCKETS: usize = (usize::BITS - BUCKET0_BITS) as usize;

/// A growable vector of `AtomicU64` cells whose cells never move.
///
/// Compared with [`AtomicVec`](crate::AtomicVec): full 64-bit values, `fetch_add` is one
/// hardware `fetch_add`, [`cell`](Self::cell) hands out a stable `&AtomicU64`, and growth is
/// lock-free without any reclamation. The price: shrinking needs `&mut self`
/// ([`truncate`](Self::truncate)), cells are split over up to 59 buckets (no contiguous slice),
/// and `get` does one more dependent load (the bucket pointer).
///
/// ```
/// use gearset_atomvec::SegmentedAtomicVec;
///
/// let v = SegmentedAtomicVec::new();
/// v.grow_to(100).unwrap();
/// v.fetch_add(99, u64::MAX).unwrap();
/// assert_eq!(v.get(99), Ok(u64::MAX));
/// ```
pub struct SegmentedAtomicVec {
    /// Bucket pointers. Written once each (CAS from null) by whichever grower wins; read by all.
    dir: [AtomicPtr<AtomicU64>; BUCKETS],
    /// The published length: every index below it is in an allocated bucket. Raised with
    /// `fetch_max` (Release) by growers and pushers; lowered only by `truncate(&mut self)`.
    len: AtomicUsize,
    /// Indices handed out so far (`>= len`): `push` claims with `fetch_add`, `grow_to` raises it
    /// with `fetch_max`.
    reserved: AtomicUsize,
}

// `Send` and `Sync` are automatic: the directory and counters are atomics, and the buckets
// behind the pointers hold only atomics.
const _: () = {
    const fn assert_send_sync<T: Send + Sync>() {}
    assert_send_sync::<SegmentedAtomicVec>();
};

impl SegmentedAtomicVec {
    /// An empty vector; no bucket is allocated until it grows.
    ///
    /// ```
    /// assert!(gearset_atomvec::SegmentedAtomicVec::new().is_empty());
    /// ```
    pub fn new() -> Self {
        Self {
            dir: core::array::from_fn(|_| AtomicPtr::new(ptr::null_mut())),
            len: AtomicUsize::new(0),
            reserved: AtomicUsize::new(0),
        }
    }

    /// The current length; only grows under `&self` (monotone).
    ///
    /// ```
    /// let v = gearset_atomvec::SegmentedAtomicVec::new();
    /// v.push(1).unwrap();
    /// assert_eq!(v.len(), 1);
    /// ```
    pub fn len(&self) -> usize {
        // Acquire: pairs with the Release `fetch_max` in `grow_to`/`push`, so the buckets
        // below the length are visible.
        self.len.load(Acquire)
    }

    /// `true` if [`len`](Self::len) is 0.
    ///
    /// ```
    /// assert!(gearset_atomvec::SegmentedAtomicVec::new().is_empty());
    /// ```
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The cell at `index`, at a stable address for the life of the vector (until a
    /// `truncate` re-zeroes it).
    ///
    /// ```
    /// use gearset_sync::atomic::Ordering::Relaxed;
    /// let v = gearset_atomvec::SegmentedAtomicVec::new();
    /// v.grow_to(1).unwrap();
    /// v.cell(0).unwrap().fetch_or(4, Relaxed);
    /// assert_eq!(v.get(0), Ok(4));
    /// ```
    #[inline]
    pub fn cell(&self, index: usize) -> Result<&AtomicU64, IndexError> {
        let len = self.len();
        if index >= len {
            return Err(IndexError { index, len });
        }
        let (bucket, offset) = locate(index);
        // Acquire: pairs with the AcqRel CAS that installed the bucket (the `len` Acquire
        // above already orders it; this keeps the edge local).
        let base = self.dir[bucket].load(Acquire);
        debug_assert!(!base.is_null() && offset < bucket_len(bucket));
        // SAFETY: `index < len`, so its bucket is installed (`LenCovered`), `offset` is inside
        // it, and buckets are freed only in `Drop`.
        Ok(unsafe { &*base.add(offset) })
    }

    /// Loads cell `index` (Acquire).
    ///
    /// ```
    /// let v = gearset_atomvec::SegmentedAtomicVec::new();
    /// assert!(v.get(0).is_err());
    /// ```
    #[inline]
    pub fn get(&self, index: usize) -> Result<u64, IndexError> {
        // Acquire: pairs with the Release half of the writes below.
        Ok(self.cell(index)?.load(Acquire))
    }

    /// Stores `value` in cell `index` (Release).
    ///
    /// ```
    /// let v = gearset_atomvec::SegmentedAtomicVec::new();
    /// v.grow_to(1).unwrap();
    /// v.store(0, 3).unwrap();
    /// assert_eq!(v.get(0), Ok(3));
    /// ```
    #[inline]
    pub fn store(&self, index: usize, value: u64) -> Result<(), IndexError> {
        // Release: publishes the caller's prior writes to whoever loads this value.
        self.cell(index)?.store(value, Release);
        Ok(())
    }

    /// Replaces cell `index`, returning the previous value (AcqRel).
    ///
    /// ```
    /// let v = gearset_atomvec::SegmentedAtomicVec::new();
    /// v.grow_to(1).unwrap();
    /// assert_eq!(v.swap(0, 3), Ok(0));
    /// ```
    #[inline]
    pub fn swap(&self, index: usize, value: u64) -> Result<u64, IndexError> {
        // AcqRel: as a store (Release) and as a load (Acquire).
        Ok(self.cell(index)?.swap(value, AcqRel))
    }

    /// Adds `delta` (wrapping) to cell `index`, returning the previous value (AcqRel).
    ///
    /// ```
    /// let v = gearset_atomvec::SegmentedAtomicVec::new();
    /// v.grow_to(1).unwrap();
    /// assert_eq!(v.fetch_add(0, 2), Ok(0));
    /// ```
    #[inline]
    pub fn fetch_add(&self, index: usize, delta: u64) -> Result<u64, IndexError> {
        // AcqRel: as in `swap`.
        Ok(self.cell(index)?.fetch_add(delta, AcqRel))
    }

    /// Stores `new` in cell `index` if it holds `current`; the inner result is std's.
    ///
    /// ```
    /// let v = gearset_atomvec::SegmentedAtomicVec::new();
    /// v.grow_to(1).unwrap();
    /// assert_eq!(v.compare_exchange(0, 0, 5), Ok(Ok(0)));
    /// ```
    #[inline]
    pub fn compare_exchange(
        &self,
        index: usize,
        current: u64,
        new: u64,
    ) -> Result<Result<u64, u64>, IndexError> {
        // AcqRel on success, Acquire on failure: as in `AtomicVec::compare_exchange`.
        Ok(self
            .cell(index)?
            .compare_exchange(current, new, AcqRel, Acquire))
    }

    /// Raises the length to at least `len` (new cells read 0) and returns the length after.
    /// Lock-free: growers race to install each missing bucket; losers free theirs.
    ///
    /// ```
    /// use gearset_atomvec::{ResizeError, SegmentedAtomicVec};
    ///
    /// let v = SegmentedAtomicVec::new();
    /// assert_eq!(v.grow_to(40), Ok(40));
    /// assert!(matches!(v.grow_to(usize::MAX), Err(ResizeError::CapacityOverflow { .. })));
    /// ```
    pub fn grow_to(&self, len: usize) -> Result<usize, ResizeError> {
        if len == 0 {
            return Ok(self.len());
        }
        self.ensure_buckets(len - 1)?;
        // Relaxed: `reserved` only partitions indices; the buckets are published by `len`.
        self.reserved.fetch_max(len, Relaxed);
        // Release: publishes the buckets installed above; pairs with Acquire in `len`.
        Ok(self.len.fetch_max(len, Release).max(len))
    }

    /// Appends `value` and returns its index. Not atomic as a whole: a reader may see the index
    /// (holding 0) before `value` lands, and `len` covers it only once every earlier push or
    /// grow has published too.
    ///
    /// ```
    /// let v = gearset_atomvec::SegmentedAtomicVec::new();
    /// assert_eq!(v.push(7), Ok(0));
    /// assert_eq!(v.get(0), Ok(7));
    /// ```
    pub fn push(&self, value: u64) -> Result<usize, ResizeError> {
        // Relaxed: claims a unique index; publication is the `len` Release below.
        let index = self.reserved.fetch_add(1, Relaxed);
        self.ensure_buckets(index)?;
        let (bucket, offset) = locate(index);
        // Acquire: pairs with the CAS that installed the bucket.
        let base = self.dir[bucket].load(Acquire);
        // SAFETY: `ensure_buckets(index)` installed this bucket; `offset` is inside it.
        let cell = unsafe { &*base.add(offset) };
        // Release: the value, published with the length below.
        cell.store(value, Release);
        // Release: publishes the bucket and the value; pairs with Acquire in `len`.
        self.len.fetch_max(index + 1, Release);
        Ok(index)
    }

    /// Shortens the vector to `len` cells, re-zeroing the cut ones so a later grow exposes 0.
    /// `&mut self` is what makes this safe without reclamation: nobody holds a cell.
    ///
    /// ```
    /// let mut v = gearset_atomvec::SegmentedAtomicVec::new();
    /// v.push(1).unwrap();
    /// v.truncate(0);
    /// v.grow_to(1).unwrap();
    /// assert_eq!(v.get(0), Ok(0));
    /// ```
    pub fn truncate(&mut self, len: usize) {
        let old = self.len();
        for i in len..old {
            // Relaxed: exclusive access.
            self.cell(i)
                .expect("below the old length")
                .store(0, Relaxed);
        }
        // Relaxed: exclusive access.
        self.len.store(old.min(len), Relaxed);
        self.reserved.store(old.min(len), Relaxed);
    }

    /// Installs every bucket up to the one holding `last`.
    fn ensure_buckets(&self, last: usize) -> Result<(), ResizeError> {
        let too_big = last.checked_add(BUCKET0).is_none()
            || core::alloc::Layout::array::<u64>(last.saturating_add(1)).is_err();
        if too_big {
            return Err(ResizeError::CapacityOverflow {
                requested: last.saturating_add(1),
            });
        }
        let (top, _) = locate(last);
        for bucket in 0..=top {
            // Acquire: pairs with the installing CAS below.
            if self.dir[bucket].load(Acquire).is_null() {
                self.install(bucket)?;
            }
        }
        Ok(())
    }

    /// Allocates bucket `bucket` and races to install it; the loser frees its copy.
    #[inline(never)]
    fn install(&self, bucket: usize) -> Result<(), ResizeError> {
        let capacity = bucket_len(bucket);
        let mut cells = Vec::new();
        cells
            .try_reserve_exact(capacity)
            .map_err(|_| ResizeError::AllocFailed { capacity })?;
        cells.extend((0..capacity).map(|_| AtomicU64::new(0)));
        let fresh = Box::into_raw(cells.into_boxed_slice()).cast::<AtomicU64>();
        // AcqRel: Release publishes the zeroed cells; Acquire (also on failure) pairs with
        // the winner's Release. [DirStable: only null is ever replaced]
        let won = self.dir[bucket].compare_exchange(ptr::null_mut(), fresh, AcqRel, Acquire);
        if won.is_err() {
            // SAFETY: `fresh` was never published; it came from a boxed slice of `capacity`.
            drop(unsafe { Box::from_raw(ptr::slice_from_raw_parts_mut(fresh, capacity)) });
        }
        Ok(())
    }
}

/// The bucket and offset of `index`.
#[inline]
fn locate(index: usize) -> (usize, usize) {
    let j = index + BUCKET0;
    let bucket = (usize::BITS - 1 - j.leading_zeros() - BUCKET0_BITS) as usize;
    (bucket, j - (BUCKET0 << bucket))
}

/// The number of cells in bucket `bucket`.
fn bucket_len(bucket: usize) -> usize {
    BUCKET0 << bucket
}

impl Default for SegmentedAtomicVec {
    fn default() -> Self {
        Self::new()
    }
}

impl Drop for SegmentedAtomicVec {
    fn drop(&mut self) {
        for (bucket, entry) in self.dir.iter().enumerate() {
            // Relaxed: `&mut self` orders every earlier access.
            let base = entry.load(Relaxed);
            if !base.is_null() {
                let slice = ptr::slice_from_raw_parts_mut(base, bucket_len(bucket));
                // SAFETY: installed from a boxed slice of exactly this length; freed once.
                drop(unsafe { Box::from_raw(slice) });
            }
        }
    }
}

impl fmt::Debug for SegmentedAtomicVec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SegmentedAtomicVec")
            .field("len", &self.len())
            .finish()
    }
}

#[cfg(all(test, not(any(gearset_loom, gearset_shuttle))))]
mod tests {
    use super::*;

    #[test]
    fn locate_covers_indices_contiguously() {
        let mut expect = (0, 0);
        for i in 0..10 * BUCKET0 {
            assert_eq!(locate(i), expect, "index {i}");
            expect.1 += 1;
            if expect.1 == bucket_len(expect.0) {
                expect = (expect.0 + 1, 0);
            }
        }
    }

    #[test]
    fn truncate_rezeroes() {
        let mut v = SegmentedAtomicVec::new();
        for i in 0..100 {
            v.push(i + 1).unwrap();
        }
        v.truncate(10);
        assert_eq!(v.len(), 10);
        v.grow_to(100).unwrap();
        assert_eq!(v.get(9), Ok(10));
        assert_eq!(v.get(10), Ok(0));
        assert_eq!(v.push(5), Ok(100));
    }
}
