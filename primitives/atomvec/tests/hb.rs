//! Happens-before regressions for Miri and TSan: a writer fills non-atomic data, publishes it
//! with an `AtomicVec` write, and a reader that sees the write through `get` reads the data.
//! If an edge of the migration protocol were too weak (copying a value without carrying its
//! Release on), Miri would report a data race on the cell contents.

// std-only: under the model-checker cfgs the facade types need a model to run in.
#![cfg(not(any(gearset_loom, gearset_shuttle)))]

use gearset_atomvec::{AtomicVec, SegmentedAtomicVec};
use gearset_sync::{Arc, Backoff, cell::UnsafeCell, thread};

struct Shared {
    vec: AtomicVec,
    data: UnsafeCell<u64>,
}

// SAFETY: `data` is written once before the flag cell is set and read only after it is seen.
unsafe impl Sync for Shared {}

fn publish_then_read(resize: impl Fn(&AtomicVec) + Send + 'static, via_fetch_add: bool) {
    let shared = Arc::new(Shared {
        vec: AtomicVec::with_len(2),
        data: UnsafeCell::new(0),
    });
    let writer = {
        let s = Arc::clone(&shared);
        thread::spawn(move || {
            // SAFETY: nobody reads `data` before the flag below is set.
            s.data.with_mut(|p| unsafe { *p = 42 });
            if via_fetch_add {
                s.vec.fetch_add(1, 1).unwrap();
            } else {
                s.vec.store(1, 1).unwrap();
            }
        })
    };
    let resizer = {
        let s = Arc::clone(&shared);
        thread::spawn(move || resize(&s.vec))
    };
    let backoff = Backoff::new();
    while shared.vec.get(1) != Ok(1) {
        backoff.snooze();
    }
    // SAFETY: the flag was seen with Acquire; the write to `data` happened before it.
    assert_eq!(shared.data.with(|p| unsafe { *p }), 42);
    writer.join().unwrap();
    resizer.join().unwrap();
}

#[test]
fn store_is_release_get_is_acquire() {
    publish_then_read(|_| {}, false);
}

#[test]
fn release_carries_through_a_grow_migration() {
    publish_then_read(
        |v| {
            v.grow_to(16).unwrap();
        },
        false,
    );
}

#[test]
fn release_carries_through_shrink_and_grow() {
    publish_then_read(
        |v| {
            v.shrink_to(2).unwrap();
            v.grow_to(9).unwrap();
            v.shrink_to(2).unwrap();
        },
        true,
    );
}

/// `SegmentedAtomicVec::push` publishes the value (and the data written before it) to a reader
/// that sees it, across a bucket allocation.
#[test]
fn segmented_push_is_release_get_is_acquire() {
    struct Seg {
        vec: SegmentedAtomicVec,
        data: UnsafeCell<u64>,
    }
    // SAFETY: `data` is written before the push and read only after the pushed value is seen.
    unsafe impl Sync for Seg {}
    let shared = Arc::new(Seg {
        vec: SegmentedAtomicVec::new(),
        data: UnsafeCell::new(0),
    });
    shared.vec.grow_to(32).unwrap();
    let writer = {
        let s = Arc::clone(&shared);
        thread::spawn(move || {
            // SAFETY: nobody reads `data` before the pushed value is seen.
            s.data.with_mut(|p| unsafe { *p = 42 });
            s.vec.push(1).unwrap()
        })
    };
    let backoff = Backoff::new();
    while shared.vec.get(32) != Ok(1) {
        backoff.snooze();
    }
    // SAFETY: the pushed value was seen with Acquire; the write to `data` happened before it.
    assert_eq!(shared.data.with(|p| unsafe { *p }), 42);
    assert_eq!(writer.join().unwrap(), 32);
}
