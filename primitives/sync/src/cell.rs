//! An `UnsafeCell` with loom's closure API on every backend.
//!
//! Under loom, each `with`/`with_mut` is recorded, and loom reports a shared access that races
//! with a mutable one ("causality violation"). On std and shuttle the closures compile to a raw
//! pointer access and nothing else. Primitives store every non-atomic slot (ring entries,
//! mailbox contents) in this type, so loom sees every data race they could have.

use core::fmt;

use crate::backend::RawCell;

/// A cell for data whose synchronization is the caller's proof obligation.
///
/// The pointer handed to the closure is valid for the closure's duration. Dereferencing it is
/// `unsafe`, and the caller must show, in a comment next to the access, that no conflicting
/// access can happen at the same time.
///
/// ```
/// use gearset_sync::cell::UnsafeCell;
///
/// let cell = UnsafeCell::new(1u32);
/// // SAFETY: `cell` is not shared; no other access exists.
/// cell.with_mut(|p| unsafe { *p += 1 });
/// // SAFETY: as above.
/// assert_eq!(cell.with(|p| unsafe { *p }), 2);
/// assert_eq!(cell.into_inner(), 2);
/// ```
pub struct UnsafeCell<T>(RawCell<T>);

impl<T> UnsafeCell<T> {
    /// Wraps `value`.
    pub fn new(value: T) -> Self {
        Self(RawCell::new(value))
    }

    /// Unwraps the value; ownership proves no access is outstanding.
    pub fn into_inner(self) -> T {
        self.0.into_inner()
    }

    /// Runs `f` with a shared pointer to the contents.
    #[inline]
    pub fn with<R>(&self, f: impl FnOnce(*const T) -> R) -> R {
        #[cfg(gearset_loom)]
        return self.0.with(f);
        #[cfg(not(gearset_loom))]
        return f(self.0.get());
    }

    /// Runs `f` with a mutable pointer to the contents.
    #[inline]
    pub fn with_mut<R>(&self, f: impl FnOnce(*mut T) -> R) -> R {
        #[cfg(gearset_loom)]
        return self.0.with_mut(f);
        #[cfg(not(gearset_loom))]
        return f(self.0.get());
    }
}

impl<T: Default> Default for UnsafeCell<T> {
    fn default() -> Self {
        Self::new(T::default())
    }
}

impl<T> fmt::Debug for UnsafeCell<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The contents may be under mutation by another thread: never read them here.
        f.write_str("UnsafeCell { .. }")
    }
}
