//! Errors: an index at or above the length, and a resize that cannot proceed.

use core::fmt;

/// An element operation named an index at or above the length it observed.
///
/// The length can change concurrently, so this is a normal outcome of racing a
/// [`shrink_to`](crate::AtomicVec::shrink_to), not only a programming error; every by-index
/// method returns it the same way (none panics on an index).
///
/// ```
/// let v = gearset_atomvec::AtomicVec::with_len(2);
/// let e = v.fetch_add(5, 1).unwrap_err();
/// assert_eq!((e.index, e.len), (5, 2));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IndexError {
    /// The index that was asked for.
    pub index: usize,
    /// The length observed when the operation linearized.
    pub len: usize,
}

impl fmt::Display for IndexError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "index {} out of bounds for AtomicVec of length {}",
            self.index, self.len
        )
    }
}

impl std::error::Error for IndexError {}

/// A resize that did not happen; the vector is unchanged.
///
/// ```
/// use gearset_atomvec::{AtomicVec, ResizeError};
/// let v = AtomicVec::new();
/// assert!(matches!(v.grow_to(usize::MAX), Err(ResizeError::CapacityOverflow { .. })));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ResizeError {
    /// The new buffer would exceed `isize::MAX` bytes (or `2^62` cells).
    CapacityOverflow {
        /// The capacity, in cells, that was needed.
        requested: usize,
    },
    /// The allocator refused the new buffer.
    AllocFailed {
        /// The capacity, in cells, that was requested.
        capacity: usize,
    },
    /// Retired buffers already hold twice the live capacity: call
    /// [`reclaim`](crate::AtomicVec::reclaim) (or `reclaim_quiescent` at a quiescent point)
    /// first. This is what keeps memory bounded under endless resizes.
    ReclaimNeeded {
        /// Cells held by retired buffers.
        retired: usize,
    },
}

impl fmt::Display for ResizeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::CapacityOverflow { requested } => {
                write!(f, "AtomicVec capacity {requested} exceeds isize::MAX bytes")
            }
            Self::AllocFailed { capacity } => {
                write!(
                    f,
                    "allocation of an AtomicVec buffer of {capacity} cells failed"
                )
            }
            Self::ReclaimNeeded { retired } => write!(
                f,
                "{retired} retired cells await a quiescent point; call reclaim before resizing"
            ),
        }
    }
}

impl std::error::Error for ResizeError {}
