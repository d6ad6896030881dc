//! The element path of [`AtomicVec`]: finding cell `index` while migrations run, and the CAS
//! loop every write uses.
//!
//! An element operation walks the chain of buffers from `current`, one atomic step at a time,
//! each step one action of `tla/atomvec/AtomicVec.tla` (recorded under `--cfg gearset_trace`):
//!
//! | step ([`At`]) | atomic | outcome |
//! |---|---|---|
//! | `LoadCurrent` | `current.load(Acquire)` | start at `current` |
//! | `Len` (`LoadLen`) | `buf.len.load(Acquire)` | frozen: `advance` to `next`, `Len` again; index out of range: `IndexError`; else `Cell` |
//! | `Cell` (`LoadCell`) | `cell.load(Acquire)` | frozen: `advance`, `Len`; `PENDING`: `copy_cell` from the predecessor, `Cell` again; live: `Op` |
//! | `Op` (`CasCell`) | `cell.compare_exchange(cur, new, AcqRel, Acquire)` | success: done; fails on a live value: `Op` with it; fails on a frozen one: `Len` |
//!
//! The inlined fast paths (`AtomicVec::get`, [`AtomicVec::rmw`]) take the first turn of that
//! walk; when it does not finish the operation they hand the walk to [`AtomicVec::access_slow`]
//! at the step they reached ([`At`]), so the fast and the slow path together take exactly the
//! spec's steps. A load whose result the fast path discards (a frozen length, a non-live cell)
//! is taken again by the slow path: a discarded load changes nothing (a stutter in the spec).

use super::{AtomicVec, Step};
#[cfg(gearset_trace)]
use crate::buffer::{MASK, spec_word};
use crate::{
    IndexError,
    buffer::{Buffer, FROZEN, PENDING, advance, copy_cell, live_len},
};
use gearset_sync::atomic::Ordering::{AcqRel, Acquire};

/// Where [`AtomicVec::access_slow`] resumes the walk: the next step to take in the current
/// buffer (the table in the module docs).
#[derive(Clone, Copy)]
pub(super) enum At {
    /// Load the buffer's length (`LoadLen`).
    Len,
    /// Load the cell (`LoadCell`); the length check passed.
    Cell,
    /// Run the operation on the cell's live value (`CasCell` for a write).
    Op(u64),
}

impl AtomicVec {
    /// The read-modify-write core. `f(current)` returns the new value, or `None` to fail with
    /// `Err(current)` without writing.
    ///
    /// Cases for a cell (TLA+ `CasCell`, invariant `FrozenImmutable`):
    /// 1. live value: CAS it; on contention retry with the value the CAS saw. A success is
    ///    linearized at the CAS, which precedes any freeze of the cell, so the migration copies
    ///    its effect.
    /// 2. frozen: a migration owns the value. Help it (`advance`, then this cell is copied on
    ///    the next turn, case 3) and retry in `next`: a CAS never lands on a frozen cell, so no
    ///    write is lost (Click's late-arriving writer).
    /// 3. `PENDING` (only in a buffer reached by `advance`): copy this one cell from the
    ///    predecessor, then retry. That is the helping that keeps writers lock-free.
    ///
    /// Fast path: one load of `current`, one of the length, one of the cell and one CAS when no
    /// migration is in sight and nobody races us.
    #[inline]
    pub(super) fn rmw(
        &self,
        index: usize,
        f: impl Fn(u64) -> Option<u64>,
    ) -> Result<Result<u64, u64>, IndexError> {
        let raw = self.load_current_raw();
        // SAFETY: as in `load_current`.
        let buf = unsafe { Buffer::from_raw(raw) };
        gearset_sync::trace_action!(
            "LoadCurrent",
            "pc[SELF] = \"start\" /\\ pc'[SELF] = \"len\" /\\ buf'[SELF] = {}",
            buf.generation
        );
        if gearset_sync::mutant::on("atomvec_flag_check") {
            // The mutant's flag check lives in the slow path only.
            return self.rmw_slow(raw, At::Len, index, f);
        }
        // Acquire: pairs with the CASes that set or raise `len`. [TLA: LoadLen]
        let len = buf.len.load(Acquire);
        // Frozen or out of bounds, in one comparison (`live_len`).
        if index as u64 >= live_len(len) {
            return self.rmw_slow(raw, At::Len, index, f);
        }
        #[cfg(gearset_trace)]
        trace_load_len(buf, index, len);
        debug_assert!(index < buf.capacity(), "LenCovered: len <= capacity");
        // SAFETY: `index < len <= capacity` (TLA+ `LenCovered`; see `AtomicVec::get`).
        let cell = unsafe { buf.cells.get_unchecked(index) };
        // Acquire: pairs with the AcqRel CAS of the last writer or copier of this cell.
        // [TLA: LoadCell]
        let cur = cell.load(Acquire);
        if cur & (FROZEN | PENDING) != 0 {
            return self.rmw_slow(raw, At::Cell, index, f);
        }
        #[cfg(gearset_trace)]
        trace_load_cell(buf, index, cur, "cas");
        let Some(new) = f(cur) else {
            return Ok(Err(cur));
        };
        match cas_cell(buf, index, cur, new) {
            Ok(prev) => Ok(Ok(prev)),
            Err(actual) if actual & (FROZEN | PENDING) != 0 => {
                self.rmw_slow(raw, At::Len, index, f)
            }
            Err(actual) => self.rmw_slow(raw, At::Op(actual), index, f),
        }
    }

    /// The general read-modify-write loop, from step `at` in the buffer `raw`: follows and helps
    /// migrations, retries on contention.
    #[inline(never)]
    fn rmw_slow(
        &self,
        raw: *mut u8,
        at: At,
        index: usize,
        f: impl Fn(u64) -> Option<u64>,
    ) -> Result<Result<u64, u64>, IndexError> {
        self.access_slow(raw, at, index, |buf, mut cur| {
            loop {
                let Some(new) = f(cur) else {
                    return Step::Done(Err(cur));
                };
                match cas_cell(buf, index, cur, new) {
                    Ok(prev) => return Step::Done(Ok(prev)),
                    Err(actual) if actual & (FROZEN | PENDING) != 0 => return Step::Retry,
                    Err(actual) => cur = actual,
                }
            }
        })
    }

    /// Walks to cell `index` from step `at` in the buffer `raw` (following and helping migrations) and
    /// runs `op` on the buffer holding it with its live value. `op` returns `Step::Retry` when
    /// it finds the cell frozen. The general path of every element operation.
    #[inline(never)]
    pub(super) fn access_slow<'a, R>(
        &'a self,
        raw: *mut u8,
        mut at: At,
        index: usize,
        mut op: impl FnMut(&'a Buffer, u64) -> Step<R>,
    ) -> Result<R, IndexError> {
        // SAFETY: `raw` was loaded from `current` by the caller, inside this same method call:
        // no quiescent point can free it.
        let mut buf: &'a Buffer = unsafe { Buffer::from_raw(raw) };
        // The buffer `buf` was reached from by `advance`; `None` while `buf` came from
        // `current` (which has no `PENDING` cell: `CurrentComplete`).
        let mut prev: Option<&Buffer> = None;
        loop {
            at = match at {
                At::Len => {
                    // Acquire: pairs with the CASes that set or raise `len`. [TLA: LoadLen]
                    let len = buf.len.load(Acquire);
                    #[cfg(gearset_trace)]
                    trace_load_len(buf, index, len);
                    if len & FROZEN != 0 {
                        // SAFETY: a frozen length means `next` is published; we are inside a
                        // method, so no quiescent point frees either buffer.
                        let next = unsafe { advance(buf) };
                        (prev, buf) = (Some(buf), next);
                        At::Len
                    } else if index as u64 >= len {
                        let len = len as usize;
                        return Err(IndexError { index, len });
                    } else {
                        At::Cell
                    }
                }
                At::Cell => {
                    // Acquire: pairs with the AcqRel CAS of the last writer or copier of this
                    // cell. [TLA: LoadCell]
                    let value = buf.cells[index].load(Acquire);
                    if value & FROZEN != 0 || flagged_resizing(buf) {
                        #[cfg(gearset_trace)]
                        trace_load_cell(buf, index, value, "adv1");
                        // SAFETY: a frozen cell (or, for the flag mutant, a non-null `next`)
                        // implies a published `next`; we are inside a method.
                        let next = unsafe { advance(buf) };
                        (prev, buf) = (Some(buf), next);
                        At::Len
                    } else if value == PENDING {
                        #[cfg(gearset_trace)]
                        trace_load_cell(buf, index, value, "copy1");
                        let old =
                            prev.expect("PENDING cells only exist in a buffer reached by advance");
                        // SAFETY: `advance(old)` returned `buf`; both live while we are in a
                        // method.
                        unsafe { copy_cell(old, buf, index) };
                        At::Cell
                    } else {
                        #[cfg(gearset_trace)]
                        trace_load_cell(buf, index, value, "cas");
                        At::Op(value)
                    }
                }
                At::Op(value) => match op(buf, value) {
                    Step::Done(r) => return Ok(r),
                    Step::Retry => At::Len,
                },
            }
        }
    }
}

/// The write of every element operation: CAS cell `index` of `buf` from `cur` to `new`.
#[inline(always)]
fn cas_cell(buf: &Buffer, index: usize, cur: u64, new: u64) -> Result<u64, u64> {
    // AcqRel: Release publishes this write (to readers and to the migrator's freezing
    // `fetch_or` in `copy_cell`); Acquire orders it after the write it replaces. Failure:
    // Acquire, to re-inspect the new state. A strong CAS: a spurious failure would only cost a
    // turn, but the spec has no such step. [TLA: CasCell]
    let result = buf.cells[index].compare_exchange(cur, new, AcqRel, Acquire);
    #[cfg(gearset_trace)]
    trace_cas_cell(buf, index, new, result);
    result
}

/// Mutant `atomvec_flag_check` only: the "resizing" flag a writer checks instead of a frozen
/// cell (here: `buf.next` is published). The check and the CAS after it are two steps, so a
/// write can still land in the old cell after it was copied: loom must catch the lost update.
/// A constant `false` outside model builds.
#[inline(always)]
fn flagged_resizing(buf: &Buffer) -> bool {
    // Acquire: pairs with the AcqRel CAS that published `next` (mutant only).
    gearset_sync::mutant::on("atomvec_flag_check") && !buf.next.load(Acquire).is_null()
}

#[cfg(gearset_trace)]
fn trace_load_len(buf: &Buffer, index: usize, len: u64) {
    let (to, extra) = if len & FROZEN != 0 {
        (
            "pc'[SELF] = \"adv1\"",
            format!(" /\\ prev'[SELF] = {}", buf.generation),
        )
    } else if index as u64 >= len {
        ("pc'[SELF] # pc[SELF]", String::new())
    } else {
        ("pc'[SELF] = \"read\"", String::new())
    };
    gearset_sync::trace_action!(
        "LoadLen",
        "pc[SELF] = \"len\" /\\ {to} /\\ buf[SELF] = {} /\\ len[{}] = {}{extra}",
        buf.generation,
        buf.generation,
        spec_word(len)
    );
}

#[cfg(gearset_trace)]
fn trace_load_cell(buf: &Buffer, index: usize, value: u64, to: &str) {
    let extra = match to {
        "adv1" => format!(" /\\ prev'[SELF] = {}", buf.generation),
        "cas" => format!(" /\\ exp'[SELF] = {value}"),
        _ => String::new(),
    };
    gearset_sync::trace_action!(
        "LoadCell",
        "pc[SELF] = \"read\" /\\ pc'[SELF] = \"{to}\" /\\ buf[SELF] = {} /\\ cell[{}][{index}] = {}{extra}",
        buf.generation,
        buf.generation,
        spec_word(value)
    );
}

#[cfg(gearset_trace)]
fn trace_cas_cell(buf: &Buffer, index: usize, new: u64, result: Result<u64, u64>) {
    let gen_ = buf.generation;
    match result {
        Ok(_) => {
            gearset_sync::trace_action!(
                "CasCell",
                "pc[SELF] = \"cas\" /\\ pc'[SELF] \\in {{\"start\", \"done\"}} /\\ buf[SELF] = {gen_} /\\ model' = {new} /\\ cell'[{gen_}][{index}].v = {new}"
            );
        }
        Err(actual) if actual & (FROZEN | PENDING) != 0 => gearset_sync::trace_action!(
            "CasCell",
            "pc[SELF] = \"cas\" /\\ pc'[SELF] = \"len\" /\\ exp'[SELF] = {}",
            actual & MASK
        ),
        Err(actual) => gearset_sync::trace_action!(
            "CasCell",
            "pc[SELF] = \"cas\" /\\ pc'[SELF] = \"cas\" /\\ exp'[SELF] # exp[SELF] /\\ exp'[SELF] = {actual}"
        ),
    }
}
