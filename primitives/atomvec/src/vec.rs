//! [`AtomicVec`]: element operations, resizes and reclamation.

use core::{fmt, ptr};

use gearset_sync::atomic::{
    AtomicPtr, AtomicUsize,
    Ordering::{AcqRel, Acquire, Relaxed},
};

use crate::{
    buffer::{Buffer, FROZEN, MASK, PENDING, Plan, advance, copy_cell, live_len},
    error::{IndexError, ResizeError},
};

mod access;
use access::At;

/// The largest value a cell can hold: `2^62 - 1`. Two bits of each 64-bit word encode the
/// migration state (see the crate docs, "Trade-offs").
pub const MAX_VALUE: u64 = MASK;

/// The smallest capacity a migration allocates, so that early pushes do not migrate each time.
/// 1 under a model checker, so that a `grow_to(2)` on a 1-cell vector allocates 2 cells (the
/// TLA+ configs use the same capacities).
const MIN_CAPACITY: usize = if gearset_sync::MODEL_CHECKED { 1 } else { 4 };

/// A vector of 62-bit atomic cells that grows and shrinks while other threads read and write
/// it, without locks and without losing a write. See the [crate docs](crate) for the algorithm.
///
/// Element operations take `&self` and are linearizable per cell. Indices at or above
/// [`len`](Self::len) give [`IndexError`]; values above [`MAX_VALUE`] panic.
pub struct AtomicVec {
    /// The buffer element operations start from. Written only by the thread whose CAS
    /// completes a migration; read (Acquire) by every operation.
    /// A thin pointer (`Buffer::from_raw`).
    current: AtomicPtr<u8>,
    /// Head of the stack of retired buffers (Treiber push only; popped wholesale at a
    /// quiescent point). Written by the thread that retires a buffer. Thin pointers.
    retired: AtomicPtr<u8>,
    /// Total capacity (cells) of the retired buffers: the garbage bound is checked against it.
    /// Statistics only, so `Relaxed`.
    retired_cells: AtomicUsize,
}

// `Send` and `Sync` are automatic: every field is an atomic, and the buffers behind the
// pointers hold only atomics (`Buffer` is itself `Send + Sync`).
const _: () = {
    const fn assert_send_sync<T: ?Sized + Send + Sync>() {}
    assert_send_sync::<AtomicVec>();
    assert_send_sync::<Buffer>();
};

impl AtomicVec {
    /// An empty vector with no capacity.
    ///
    /// ```
    /// let v = gearset_atomvec::AtomicVec::new();
    /// assert_eq!(v.len(), 0);
    /// ```
    pub fn new() -> Self {
        Self::with_len(0)
    }

    /// A vector of `len` zeros.
    ///
    /// # Panics
    ///
    /// If the allocation fails or exceeds `isize::MAX` bytes (use
    /// [`try_with_len`](Self::try_with_len) to get an error instead).
    ///
    /// ```
    /// let v = gearset_atomvec::AtomicVec::with_len(3);
    /// assert_eq!(v.get(2), Ok(0));
    /// ```
    pub fn with_len(len: usize) -> Self {
        match Self::try_with_len(len) {
            Ok(v) => v,
            Err(e) => panic!("AtomicVec::with_len({len}): {e}"),
        }
    }

    /// A vector of `len` zeros, or an error if it cannot be allocated.
    ///
    /// ```
    /// use gearset_atomvec::{AtomicVec, ResizeError};
    /// assert!(matches!(
    ///     AtomicVec::try_with_len(usize::MAX),
    ///     Err(ResizeError::CapacityOverflow { .. })
    /// ));
    /// ```
    pub fn try_with_len(len: usize) -> Result<Self, ResizeError> {
        let buffer = alloc(len, 0, len as u64, Plan::Initial, 1)?;
        Ok(Self {
            current: AtomicPtr::new(buffer),
            retired: AtomicPtr::new(ptr::null_mut()),
            retired_cells: AtomicUsize::new(0),
        })
    }

    /// The current length. It can change under the caller's feet: a concurrent
    /// [`grow_to`](Self::grow_to) raises it, a concurrent [`shrink_to`](Self::shrink_to) lowers it.
    ///
    /// ```
    /// let v = gearset_atomvec::AtomicVec::with_len(2);
    /// assert_eq!(v.len(), 2);
    /// ```
    pub fn len(&self) -> usize {
        let mut buf = self.load_current();
        loop {
            // Acquire: pairs with the CASes that set or raise `len` (`advance`, `grow_in_place`).
            let len = buf.len.load(Acquire);
            if len & FROZEN == 0 {
                return len as usize;
            }
            // SAFETY: a frozen length means `next` is published; we are inside a method.
            buf = unsafe { advance(buf) };
        }
    }

    /// `true` if [`len`](Self::len) is 0 (at the moment of the call).
    ///
    /// ```
    /// assert!(gearset_atomvec::AtomicVec::new().is_empty());
    /// ```
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The capacity of the current buffer: growing up to it needs no migration.
    ///
    /// ```
    /// let v = gearset_atomvec::AtomicVec::with_len(5);
    /// assert!(v.capacity() >= 5);
    /// ```
    pub fn capacity(&self) -> usize {
        self.load_current().capacity()
    }

    /// Loads cell `index` (Acquire: it sees everything the thread that wrote the value did
    /// before writing it).
    ///
    /// A single atomic load (plus the length check) when no migration runs.
    ///
    /// ```
    /// let v = gearset_atomvec::AtomicVec::with_len(1);
    /// assert_eq!(v.get(0), Ok(0));
    /// assert_eq!(v.get(1).unwrap_err().index, 1);
    /// ```
    #[inline]
    pub fn get(&self, index: usize) -> Result<u64, IndexError> {
        // Fast path: no migration in sight (the common case); otherwise `access_slow`, from
        // the first load again (both loads here are discarded).
        let raw = self.load_current_raw();
        // SAFETY: as in `load_current`.
        let buf = unsafe { Buffer::from_raw(raw) };
        // Acquire: pairs with the CASes that set or raise `len`.
        let len = buf.len.load(Acquire);
        // Live and in bounds, in one comparison (`live_len`).
        if (index as u64) < live_len(len) {
            debug_assert!(index < buf.capacity(), "LenCovered: len <= capacity");
            // SAFETY: `index < len <= capacity`: a live length never exceeds its buffer's
            // capacity (TLA+ `LenCovered`: set from `plan` within the capacity the migration
            // allocated, raised in place only below it).
            let cell = unsafe { buf.cells.get_unchecked(index) };
            // Acquire: pairs with the AcqRel CAS of the last writer or copier of this cell.
            let value = cell.load(Acquire);
            if value & (FROZEN | PENDING) == 0 {
                return Ok(value);
            }
        }
        self.access_slow(raw, At::Len, index, |_, value| Step::Done(value))
    }

    /// Stores `value` in cell `index` (Release).
    ///
    /// # Panics
    ///
    /// If `value > MAX_VALUE`.
    ///
    /// ```
    /// let v = gearset_atomvec::AtomicVec::with_len(1);
    /// v.store(0, 7).unwrap();
    /// assert_eq!(v.get(0), Ok(7));
    /// ```
    pub fn store(&self, index: usize, value: u64) -> Result<(), IndexError> {
        self.swap(index, value).map(drop)
    }

    /// Replaces cell `index` with `value` and returns the previous value (AcqRel).
    ///
    /// # Panics
    ///
    /// If `value > MAX_VALUE`.
    ///
    /// ```
    /// let v = gearset_atomvec::AtomicVec::with_len(1);
    /// assert_eq!(v.swap(0, 4), Ok(0));
    /// assert_eq!(v.swap(0, 5), Ok(4));
    /// ```
    pub fn swap(&self, index: usize, value: u64) -> Result<u64, IndexError> {
        check_value(value);
        self.rmw(index, |_| Some(value))
            .map(|r| r.unwrap_or_else(|v| v))
    }

    /// Adds `delta` to cell `index`, wrapping modulo `2^62`, and returns the previous value
    /// (AcqRel).
    ///
    /// ```
    /// let v = gearset_atomvec::AtomicVec::with_len(1);
    /// assert_eq!(v.fetch_add(0, 3), Ok(0));
    /// assert_eq!(v.fetch_add(0, gearset_atomvec::MAX_VALUE), Ok(3)); // wraps
    /// assert_eq!(v.get(0), Ok(2));
    /// ```
    pub fn fetch_add(&self, index: usize, delta: u64) -> Result<u64, IndexError> {
        self.rmw(index, |cur| Some(cur.wrapping_add(delta) & MASK))
            .map(|r| r.unwrap_or_else(|v| v))
    }

    /// Subtracts `delta` from cell `index`, wrapping modulo `2^62`, and returns the previous
    /// value (AcqRel).
    ///
    /// ```
    /// let v = gearset_atomvec::AtomicVec::with_len(1);
    /// v.fetch_sub(0, 1).unwrap();
    /// assert_eq!(v.get(0), Ok(gearset_atomvec::MAX_VALUE));
    /// ```
    pub fn fetch_sub(&self, index: usize, delta: u64) -> Result<u64, IndexError> {
        self.rmw(index, |cur| Some(cur.wrapping_sub(delta) & MASK))
            .map(|r| r.unwrap_or_else(|v| v))
    }

    /// Stores `new` in cell `index` if it holds `current`. The inner result is std's:
    /// `Ok(previous)` on success, `Err(actual)` on a mismatch. AcqRel on success, Acquire on
    /// failure.
    ///
    /// # Panics
    ///
    /// If `new > MAX_VALUE`.
    ///
    /// ```
    /// let v = gearset_atomvec::AtomicVec::with_len(1);
    /// assert_eq!(v.compare_exchange(0, 0, 9), Ok(Ok(0)));
    /// assert_eq!(v.compare_exchange(0, 0, 1), Ok(Err(9)));
    /// ```
    pub fn compare_exchange(
        &self,
        index: usize,
        current: u64,
        new: u64,
    ) -> Result<Result<u64, u64>, IndexError> {
        check_value(new);
        self.rmw(index, |cur| (cur == current).then_some(new))
    }

    /// Appends `value` and returns its index. Amortized O(1): within capacity it is one CAS on
    /// the length, then a [`store`](Self::store); a full buffer doubles by migration.
    ///
    /// Not atomic as a whole: a concurrent reader may see the new index holding 0 before
    /// `value` lands, and a concurrent [`shrink_to`](Self::shrink_to) may remove it again.
    ///
    /// # Panics
    ///
    /// If `value > MAX_VALUE`.
    ///
    /// ```
    /// let v = gearset_atomvec::AtomicVec::new();
    /// assert_eq!(v.push(5), Ok(0));
    /// assert_eq!(v.push(6), Ok(1));
    /// assert_eq!(v.get(1), Ok(6));
    /// ```
    pub fn push(&self, value: u64) -> Result<usize, ResizeError> {
        check_value(value);
        let index = self.resize(Target::Push)?;
        // A concurrent shrink may have removed `index` already: then the push is linearized
        // before that shrink and its value is dropped with the cell.
        let _ = self.store(index, value);
        Ok(index)
    }

    /// Raises the length to at least `len`; new cells read 0. Returns the length afterwards.
    /// Within capacity this is one CAS; otherwise a migration into a buffer of at least twice
    /// the capacity (lock-free: concurrent operations help).
    ///
    /// ```
    /// let v = gearset_atomvec::AtomicVec::new();
    /// assert_eq!(v.grow_to(10), Ok(10));
    /// assert_eq!(v.grow_to(3), Ok(10));
    /// ```
    pub fn grow_to(&self, len: usize) -> Result<usize, ResizeError> {
        self.resize(Target::AtLeast(len))
    }

    /// Lowers the length to at most `len`, dropping the cells above it; a later
    /// [`grow_to`](Self::grow_to) re-exposes them as 0. Always a migration (the cut cells must
    /// be frozen so that no racing write survives in them). Returns the length afterwards.
    ///
    /// ```
    /// let v = gearset_atomvec::AtomicVec::with_len(4);
    /// v.store(3, 1).unwrap();
    /// assert_eq!(v.shrink_to(2), Ok(2));
    /// v.grow_to(4).unwrap();
    /// assert_eq!(v.get(3), Ok(0));
    /// ```
    pub fn shrink_to(&self, len: usize) -> Result<usize, ResizeError> {
        self.resize(Target::AtMost(len))
    }

    /// An iterator over the cells `0..len()` (as of the call), each read with [`get`](Self::get).
    /// Per-cell linearizable, not an atomic snapshot of the whole vector; it stops early if a
    /// shrink removes the remaining cells.
    ///
    /// ```
    /// let v = gearset_atomvec::AtomicVec::with_len(3);
    /// v.store(1, 2).unwrap();
    /// assert_eq!(v.snapshot().collect::<Vec<_>>(), [0, 2, 0]);
    /// ```
    pub fn snapshot(&self) -> Snapshot<'_> {
        Snapshot {
            vec: self,
            next: 0,
            end: self.len(),
        }
    }

    /// Capacity, in cells, of the retired buffers still allocated. At most twice the larger of
    /// the live capacity before and after the last resize (or 64 cells): a resize that would
    /// exceed that returns [`ResizeError::ReclaimNeeded`].
    ///
    /// ```
    /// let mut v = gearset_atomvec::AtomicVec::with_len(4);
    /// v.grow_to(100).unwrap();
    /// assert_eq!(v.retired_cells(), 4);
    /// v.reclaim();
    /// assert_eq!(v.retired_cells(), 0);
    /// ```
    pub fn retired_cells(&self) -> usize {
        self.retired_cells.load(Relaxed)
    }

    /// Frees every retired buffer. `&mut self` is the grace period: no other thread can be
    /// inside a method.
    ///
    /// ```
    /// let mut v = gearset_atomvec::AtomicVec::new();
    /// v.push(1).unwrap();
    /// v.reclaim();
    /// assert_eq!(v.get(0), Ok(1));
    /// ```
    pub fn reclaim(&mut self) {
        // SAFETY: `&mut self` excludes every other access.
        unsafe { self.reclaim_quiescent() }
    }

    /// Frees every retired buffer through a shared reference, at a quiescent point the caller
    /// knows of (a scheduler between frames, after all workers passed a barrier).
    ///
    /// # Safety
    ///
    /// No other thread may be inside a method of this vector, or hold a [`Snapshot`] of it,
    /// for the duration of the call; and their earlier calls must happen-before this one
    /// (a barrier or a join provides both).
    ///
    /// ```
    /// let v = gearset_atomvec::AtomicVec::with_len(1);
    /// v.grow_to(64).unwrap();
    /// // SAFETY: single-threaded; no other access exists.
    /// unsafe { v.reclaim_quiescent() };
    /// assert_eq!(v.retired_cells(), 0);
    /// ```
    pub unsafe fn reclaim_quiescent(&self) {
        // Acquire: pairs with the AcqRel push CAS in `retire`, so the list links are visible.
        let mut head = self.retired.swap(ptr::null_mut(), AcqRel);
        if !head.is_null() {
            gearset_sync::trace_action!(
                "Reclaim",
                "retired' = {{}} /\\ freed' = freed \\cup retired"
            );
        }
        while !head.is_null() {
            // SAFETY: retired buffers came from `Buffer::try_new`, sit on the stack exactly
            // once, and by the caller's promise no thread can still reach them.
            let capacity = unsafe { Buffer::from_raw(head) }.capacity();
            // SAFETY: as above; `head` is freed once and not used again.
            let (retired_next, _) = unsafe { Buffer::free(head) };
            head = retired_next;
            self.retired_cells.fetch_sub(capacity, Relaxed);
        }
    }

    /// The current buffer.
    fn load_current(&self) -> &Buffer {
        // SAFETY: we are inside a method, so no quiescent point frees it while we borrow it.
        unsafe { Buffer::from_raw(self.load_current_raw()) }
    }

    /// The current buffer as the thin pointer `current` holds (what the fast paths hand to
    /// `access_slow`, so that they never need the buffer's capacity themselves).
    #[inline(always)]
    fn load_current_raw(&self) -> *mut u8 {
        // Acquire: pairs with the AcqRel CAS in `finish_migration` that installed it, so its
        // cells (all copied) and its length are visible.
        // Never null; it comes from `Buffer::try_new` and is freed only by drop or at a
        // quiescent point.
        self.current.load(Acquire)
    }

    /// Resize driver: in place when the capacity allows, otherwise by migration.
    ///
    /// Cases, each turn, on the length of the buffer `buf` reached from `current` (TLA+
    /// `StartResize`; the migration steps are the cases of `advance` and `copy_cell`):
    /// 1. frozen: another thread's migration runs; finish it (`finish_migration`) and look
    ///    again at the next buffer.
    /// 2. the target already holds (`grow_to(n)` with `n <= len`, `shrink_to(n)` with
    ///    `n >= len`, or a migration of ours just completed): return the length.
    /// 3. a growth that fits the capacity: one CAS on `len`; it fails only if a migration
    ///    froze the length or another grower won, and then we look again.
    /// 4. otherwise: allocate `next` and CAS it into `buf.next` (a loser frees its buffer),
    ///    then finish the migration (ours or the winner's) and look again.
    fn resize(&self, target: Target) -> Result<usize, ResizeError> {
        let mut buf = self.load_current();
        // The spec's StartResize is taken once per call: a turn after a migration of ours
        // (case 2 then) is not a new resize.
        #[cfg(gearset_trace)]
        let mut started = false;
        loop {
            // Acquire: pairs with the CASes that set or raise `len`.
            let len = buf.len.load(Acquire);
            if len & FROZEN != 0 {
                buf = self.finish_migration(buf);
                continue;
            }
            let (len, cap) = (len as usize, buf.capacity());
            let done = match target {
                Target::AtLeast(n) => n <= len,
                Target::AtMost(n) => n >= len,
                Target::Push => false,
            };
            if done {
                #[cfg(gearset_trace)]
                if !started {
                    gearset_sync::trace_action!(
                        "StartResize",
                        "pc[SELF] = \"rstart\" /\\ pc'[SELF] # pc[SELF] /\\ len' = len"
                    );
                }
                return Ok(len);
            }
            let plan = match target {
                Target::AtLeast(_) | Target::Push if target.new_len(len) <= cap => {
                    let new = target.new_len(len);
                    // AcqRel: Release publishes the longer length (the new cells are already
                    // zero); Acquire pairs with earlier length CASes. Fails if a migration
                    // froze the length or another grower won. [TLA: StartResize, in-place branch]
                    match buf
                        .len
                        .compare_exchange(len as u64, new as u64, AcqRel, Acquire)
                    {
                        Ok(_) => {
                            gearset_sync::trace_action!(
                                "StartResize",
                                "pc[SELF] = \"rstart\" /\\ pc'[SELF] # pc[SELF] /\\ len'[{}] = [st |-> \"live\", v |-> {new}]",
                                buf.generation
                            );
                            return Ok(if target == Target::Push { len } else { new });
                        }
                        Err(_) => continue,
                    }
                }
                Target::AtLeast(n) => Plan::AtLeast(n as u64),
                // A push migrates for capacity only; the index is claimed in place afterwards.
                Target::Push => Plan::AtLeast(len as u64),
                Target::AtMost(n) => Plan::AtMost(n as u64),
            };
            let new_cap = match plan {
                Plan::AtMost(n) => (n as usize).max(MIN_CAPACITY),
                _ => target
                    .new_len(len)
                    .max(cap.saturating_mul(2))
                    .max(MIN_CAPACITY),
            };
            check_capacity(new_cap)?;
            self.check_garbage(cap, new_cap)?;
            let generation = buf.generation + 1;
            let next = alloc(new_cap, cap, PENDING, plan, generation)?;
            // AcqRel: Release publishes the new buffer's initial cells to every helper's
            // Acquire load of `next` (in `advance`). [TLA: StartResize]
            match buf
                .next
                .compare_exchange(ptr::null_mut(), next, AcqRel, Acquire)
            {
                Ok(_) => {
                    #[cfg(gearset_trace)]
                    {
                        started = true;
                    }
                    gearset_sync::trace_action!(
                        "StartResize",
                        "pc[SELF] = \"rstart\" /\\ pc'[SELF] = \"adv1\" /\\ next'[{}] = {generation} /\\ cap'[{generation}] = {new_cap}",
                        buf.generation
                    );
                }
                // SAFETY: `next` was never published; we own it.
                Err(_other) => drop(unsafe { Buffer::free(next) }),
            }
            buf = self.finish_migration(buf);
        }
    }

    /// Refuses a migration whose retired garbage would exceed twice the live capacity.
    fn check_garbage(&self, old_cap: usize, new_cap: usize) -> Result<(), ResizeError> {
        let retired = self.retired_cells.load(Relaxed);
        let bound = old_cap.max(new_cap).max(64).saturating_mul(2);
        if retired.saturating_add(old_cap) > bound {
            return Err(ResizeError::ReclaimNeeded { retired });
        }
        Ok(())
    }

    /// Completes the migration out of `old` (whoever started it): freeze the length, freeze and
    /// copy every cell, swing `current`, retire `old`. Returns the next buffer.
    ///
    /// Lock-free: every step is a single RMW that succeeds or finds the work done, so a stalled
    /// helper never blocks another. After this thread's own sweep every destination cell has
    /// left `PENDING`, so swinging `current` cannot expose an uncopied cell (`InstallAfterCopy`).
    #[inline(never)]
    fn finish_migration<'a>(&'a self, old: &'a Buffer) -> &'a Buffer {
        // SAFETY: called only when `old.len` is frozen or our `next` CAS ran: `next` is
        // published. We are inside a method, so neither buffer is freed.
        let next = unsafe { advance(old) };
        for i in 0..old.capacity() {
            // SAFETY: `advance(old)` returned `next`.
            unsafe { copy_cell(old, next, i) };
        }
        // The raw pointers come from the atomics, not from the references, so they keep the
        // provenance of the allocation that `reclaim` needs to free them.
        // Relaxed: `advance` already read `next` with Acquire; this re-reads the same pointer.
        let next_ptr = old.next.load(Relaxed);
        // AcqRel: Release publishes the completed buffer to `load_current`'s Acquire; Acquire
        // on failure pairs with the winner. [TLA: CasSwingCurrent]
        let swung = self.current.compare_exchange(
            ptr::from_ref(old).cast::<u8>().cast_mut(),
            next_ptr,
            AcqRel,
            Acquire,
        );
        if let Ok(old_ptr) = swung {
            gearset_sync::trace_action!(
                "CasSwingCurrent",
                "pc[SELF] = \"rswing\" /\\ pc'[SELF] # pc[SELF] /\\ current' = {} /\\ retired' = retired \\cup {{{}}}",
                next.generation,
                old.generation
            );
            self.retire(old_ptr);
        }
        next
    }

    /// Pushes `old` on the retired stack (exactly once: only the `current` CAS winner calls it).
    fn retire(&self, old: *mut u8) {
        // SAFETY: `old` is retired, not freed; we are inside a method.
        let buffer = unsafe { Buffer::from_raw(old) };
        self.retired_cells.fetch_add(buffer.capacity(), Relaxed);
        // Relaxed: the first guess; the CAS below validates it.
        let mut head = self.retired.load(Relaxed);
        loop {
            // Relaxed: published by the Release half of the CAS below.
            buffer.retired_next.store(head, Relaxed);
            // AcqRel: Release publishes the link; pairs with the swap in `reclaim_quiescent`.
            match self
                .retired
                .compare_exchange_weak(head, old, AcqRel, Relaxed)
            {
                Ok(_) => return,
                Err(actual) => head = actual,
            }
        }
    }
}

impl Default for AtomicVec {
    fn default() -> Self {
        Self::new()
    }
}

impl Drop for AtomicVec {
    fn drop(&mut self) {
        self.reclaim();
        // Relaxed: `&mut self` already orders every earlier access.
        let mut p = self.current.load(Relaxed);
        while !p.is_null() {
            // SAFETY: `current` and any unfinished `next` chain (a resizer that panicked
            // mid-migration) are owned by the vector and unreachable from the retired stack.
            let (_, next) = unsafe { Buffer::free(p) };
            p = next;
        }
    }
}

impl fmt::Debug for AtomicVec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AtomicVec")
            .field("len", &self.len())
            .field("capacity", &self.capacity())
            .field("retired_cells", &self.retired_cells())
            .finish()
    }
}

/// What `access`'s operation wants next.
enum Step<R> {
    Done(R),
    Retry,
}

/// A resize request.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Target {
    AtLeast(usize),
    AtMost(usize),
    Push,
}

impl Target {
    fn new_len(self, len: usize) -> usize {
        match self {
            Target::AtLeast(n) => n.max(len),
            Target::AtMost(n) => n.min(len),
            Target::Push => len + 1,
        }
    }
}

/// Allocates a buffer, failing cleanly beyond `isize::MAX` bytes or on allocator refusal.
fn alloc(
    capacity: usize,
    pending: usize,
    len: u64,
    plan: Plan,
    generation: u64,
) -> Result<*mut u8, ResizeError> {
    check_capacity(capacity)?;
    Buffer::try_new(capacity, pending, len, plan, generation)
        .ok_or(ResizeError::AllocFailed { capacity })
}

/// `CapacityOverflow` beyond `isize::MAX` bytes (header included) or `2^62` cells (the
/// encodable length).
fn check_capacity(capacity: usize) -> Result<(), ResizeError> {
    let too_big = Buffer::layout(capacity).is_none() || capacity as u64 > MASK;
    if too_big {
        return Err(ResizeError::CapacityOverflow {
            requested: capacity,
        });
    }
    Ok(())
}

#[track_caller]
fn check_value(value: u64) {
    assert!(
        value <= MAX_VALUE,
        "AtomicVec value {value} exceeds MAX_VALUE (2^62 - 1)"
    );
}

/// Iterator returned by [`AtomicVec::snapshot`]: reads each cell once, in index order.
///
/// ```
/// let v = gearset_atomvec::AtomicVec::with_len(2);
/// assert_eq!(v.snapshot().sum::<u64>(), 0);
/// ```
#[derive(Debug)]
pub struct Snapshot<'a> {
    vec: &'a AtomicVec,
    next: usize,
    end: usize,
}

impl Iterator for Snapshot<'_> {
    type Item = u64;

    fn next(&mut self) -> Option<u64> {
        if self.next >= self.end {
            return None;
        }
        let value = self.vec.get(self.next).ok();
        self.next = if value.is_some() {
            self.next + 1
        } else {
            self.end
        };
        value
    }
}
